#!/usr/bin/env bash
# The Cloudify blueprint deploys the lab through Cloudify's own workflow engine
# (scripts/lab up --via-blueprint: cloudify-common's local workflows; the only
# stand-in is the fabric plugin's transport, scripts/lab.d/blueprint/fabric_plugin):
#   install     the cluster passes the lab's own checks: floating IP, every
#               supervisor healthy, REST writable through the IP, uploads on
#               every node, the deployment's outputs;
#   again       install on an installed deployment changes nothing;
#   uninstall   (uninstall_data: keep) every unit and filter gone, the floating
#               IP released, only the documented data left on each disk;
#   a failure   an install that fails on one machine (n2: upload-gate cannot
#               write its config) names it; fixed, install again converges and
#               the cluster keeps the data from before the uninstall;
#   remove      scripts/unprovision-node --data remove (what uninstall_data:
#               remove runs) leaves every node's disk as before the install;
#   witness     two managers and a Consul-only witness come up the same way, and
#               uninstall with uninstall_data: remove leaves every disk as before.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lab/own_lab_or_skip.sh"
. "$top/tests/lab/checks.sh"
lab="$top/scripts/lab"
vip=198.18.0.100
trap '"$lab" down >/dev/null 2>&1' EXIT
log="$top/.run/lab/blueprint"
# On a failed check: each manager's status and the last minute of the request
# path's own words (gate, REST, nginx, Patroni, keepalived), so a CI log shows where a
# request stalled.
on_failure_show_state() {
  local n
  for n in n1 n2 n3; do
    timeout 5 "$lab" exec "$n" true >/dev/null 2>&1 || continue
    timeout 5 "$lab" exec "$n" hactl status 2>&1 | head -24 | sed "s/^/    $n: /"
    timeout 5 "$lab" exec "$n" journalctl --no-pager -o short-precise --since=-60s \
      -u ha-upload-gate -u rest-standin -u ha-nginx -u ha-patroni -u keepalived 2>/dev/null |
      grep -v -e 'GET /api/v3.1/status 200' -e '/archive 200' | tail -25 | sed "s/^/    $n journal: /"
    timeout 5 "$lab" exec "$n" tail -n 8 /var/log/ha-nginx/error.log 2>/dev/null | sed "s/^/    $n nginx error.log: /"
    timeout 5 "$lab" exec "$n" grep -v -e 'GET /api/v3.1/status' -e '/archive' /var/log/ha-nginx/access.log 2>/dev/null |
      tail -n 8 | sed "s/^/    $n nginx access.log: /"
  done
}

# ---- install ---------------------------------------------------------------------
up_out=$("$lab" up --via-blueprint 2>&1); up_rc=$?
printf '%s\n' "$up_out" | grep '^lab: '
check "lab up --via-blueprint: Cloudify's install workflow provisions the lab, which comes up" [ "$up_rc" = 0 ]
[ "$up_rc" = 0 ] || { tail -40 "$log/install.log" 2>/dev/null; exit 1; }
# Each node_N's configure ran provision-node (the engine logs each command once per
# handler: counted by instance).
check "the engine ran each machine's configure (provision-node) in the node" \
  bash -c "[ \$(grep -oE '\\[node_[0-9]_[a-z0-9]+\\.configure\\] INFO: Running command: $top/scripts/provision-node --setup none --role' '$log/install.log' | sort -u | wc -l) = 3 ]"
check "outputs: manager_ip and manager_url are the floating IP" \
  bash -c "'$lab' blueprint outputs | grep '\"manager_ip\": \"$vip\"' >/dev/null && '$lab' blueprint outputs | grep '\"manager_url\": \"http://$vip/\"' >/dev/null"
healthy_everywhere() { local n; for n in n1 n2 n3; do "$lab" exec "$n" hactl health || return 1; done; }
rest_writable() { "$lab" exec c1 curl -sf --max-time 2 "http://$vip/api/v3.1/status" | grep '"db":"writable"' >/dev/null; }
check "every supervisor healthy" wait_for 60 healthy_everywhere
check "REST writable through the floating IP" wait_for 60 rest_writable
check "uploads acknowledged and on every node (files in sync)" "$top/scripts/lab.d/gated-uploads" 3 bp-before

# ---- install again ------------------------------------------------------------------
logged=$(wc -l <"$log/install.log")
check "install again on the installed deployment: succeeds" "$lab" blueprint install
check "... and runs no operation (every instance started)" \
  bash -c "! tail -n +$((logged + 1)) '$log/install.log' | grep 'Running command' >/dev/null"
check "... the cluster is still whole" wait_for 30 healthy_everywhere

# ---- uninstall, data kept --------------------------------------------------------------
check "uninstall (uninstall_data: keep)" "$lab" blueprint uninstall
no_units() {
  local n u
  for n in n1 n2 n3; do
    for u in consul ha-supervisor keepalived ha-nginx ha-patroni ha-syncthing rest-standin ha-upload-gate; do
      "$lab" exec "$n" systemctl cat "$u.service" >/dev/null 2>&1 && { echo "$n: $u.service still installed"; return 1; }
    done
    "$lab" exec "$n" nft list tables | grep ha_supervisor >/dev/null && { echo "$n: an nft table is left"; return 1; }
    ip -n "hal-$n" -4 addr show dev eth0 | grep " $vip/" >/dev/null && { echo "$n: still holds $vip"; return 1; }
  done
  return 0
}
check "every unit, nft table and the floating IP gone from every node" no_units
# What stays with keep: the data and the users that own it (blueprints/README.md).
only_data_left() {
  local n changes
  for n in n1 n2 n3; do
    changes=$("$lab" disk-changes "$n" | grep '^>' | awk '{print $2}' |
      grep -vE '^/(var/lib/(consul|ha-patroni|ha-syncthing|ha-supervisor|rabbitmq)|opt/manager|etc/(passwd|group|shadow|gshadow)$)' || true)
    [ -z "$changes" ] || { echo "$n keeps more than its data: $changes"; return 1; }
    "$lab" exec "$n" sh -c 'ls /opt/manager/resources/blueprints/bp-before-1* >/dev/null' ||
      { echo "$n: the uploaded files are gone"; return 1; }
  done
}
check "only the data is left (database, Consul, files, syncthing's identity, the broker's cluster and messages, their users)" only_data_left

# ---- a failed install on one machine, then install again ----------------------------------
"$lab" exec n2 touch /etc/ha-upload-gate   # a file where install.sh makes a directory
"$lab" blueprint install >/dev/null 2>&1; rc=$?
check "an install that fails on n2 fails" [ "$rc" != 0 ]
check "... naming n2 and the step" grep -q "n2: provision-node: upload-gate installed in .* ms (exit 1)" "$log/install.log"
check "... and node_2 is not started" bash -c "! '$lab' blueprint instances | grep '^node_2_.* started' >/dev/null"
"$lab" exec n2 rm /etc/ha-upload-gate
check "fixed, install again succeeds" "$lab" blueprint install
check "... every supervisor healthy" wait_for 90 healthy_everywhere
check "... REST writable" wait_for 90 rest_writable
kept_upload() { "$lab" exec c1 curl -sf --max-time 3 "http://$vip/api/v3.1/blueprints/bp-before-1" | grep sha256 >/dev/null; }
check "... the upload from before the uninstall is still served (the data was kept)" wait_for 60 kept_upload
# As `lab up` does: uploads once every broker is clustered (one still joining
# moves the floating IP off its node, and the upload in flight gets no answer).
check "... the cluster settled" "$top/scripts/lab.d/cluster-settled" --wait 120 --why
check "... new uploads acknowledged and on every node" "$top/scripts/lab.d/gated-uploads" 3 bp-after

# ---- uninstall, data removed ---------------------------------------------------------------
check "uninstall" "$lab" blueprint uninstall
for n in n1 n2 n3; do
  "$lab" exec "$n" "$top/scripts/unprovision-node" --data remove >/dev/null 2>&1
done
as_before() {
  local n
  for n in n1 n2 n3; do "$lab" disk-changes "$n" | sed "s/^/$n: /" | head -20; done
  for n in n1 n2 n3; do "$lab" disk-changes "$n" >/dev/null || return 1; done
}
check "unprovision-node --data remove: every node's disk as before the install" as_before
check "... and running it again removes nothing more and succeeds" "$lab" exec n1 "$top/scripts/unprovision-node" --data remove

# ---- two managers and the witness --------------------------------------------------------
"$lab" down >/dev/null 2>&1
up2_out=$("$lab" up --nodes 2 --via-blueprint --uninstall-data remove 2>&1); up2_rc=$?
printf '%s\n' "$up2_out" | grep '^lab: '
check "two managers and a witness (third_machine_role: witness): the lab comes up" [ "$up2_rc" = 0 ]
witness_is_consul_only() {
  "$lab" exec w1 systemctl is-active consul.service >/dev/null &&
    ! "$lab" exec w1 systemctl cat ha-supervisor.service >/dev/null 2>&1 &&
    grep -q 'Running command: .*--role witness --name w1 ' "$log/install.log"
}
check "... the witness runs Consul only" witness_is_consul_only
healthy_managers() { "$lab" exec n1 hactl health && "$lab" exec n2 hactl health; }
check "... both managers healthy" wait_for 60 healthy_managers
check "... REST writable through the floating IP" wait_for 60 rest_writable
# The gate acknowledges an upload once the other manager has it: its syncthing
# must be connected first (healthy says nothing of a peer).
managers_connected() {
  "$lab" exec n1 hactl status 2>/dev/null | grep "^  peer n2: connected" >/dev/null &&
    "$lab" exec n2 hactl status 2>/dev/null | grep "^  peer n1: connected" >/dev/null
}
check "... each manager's syncthing connected to the other" wait_for 60 managers_connected
check "... uploads acknowledged and on both managers" "$top/scripts/lab.d/gated-uploads" 2 bp-two 198.18.0.11 198.18.0.12
check "uninstall with uninstall_data: remove" "$lab" blueprint uninstall
as_before_two() {
  local n
  for n in n1 n2 w1; do "$lab" disk-changes "$n" | sed "s/^/$n: /" | head -20; done
  for n in n1 n2 w1; do "$lab" disk-changes "$n" >/dev/null || return 1; done
}
check "... every node's disk as before the install, the witness's too" as_before_two

echo "timings: $(printf '%s\n' "$up_out" | grep -E 'nodes booted|provisioned by' | sed 's/^lab: //' | tr '\n' ' ')"
echo "blueprint test: $passed passed, $failed failed in $((SECONDS - started)) s"
[ "$failed" = 0 ] || { printf 'failed: %s\n' "${failed_names[@]}"; exit 1; }
