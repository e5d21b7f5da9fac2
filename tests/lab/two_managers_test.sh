#!/usr/bin/env bash
# Two managers and a Consul-only witness (the design's starting point) under
# the default durability rule, "available" (issue 15): the primary's manager
# crashed under the upload workload, the survivor goes on acknowledging
# uploads with one copy, says so in the answer and in hactl status, and loses
# nothing; the crashed manager, booted again, gets every file acknowledged
# meanwhile and streams again, and status no longer says "one copy".
#   usage: two_managers_test.sh   (from ctest; uses the checkout it lives in)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
lab="$top/scripts/lab"
vip=198.18.0.100

. "$top/tests/lab/own_lab_or_skip.sh"
. "$top/tests/lab/checks.sh"
. "$top/tests/lab/db_checks.sh"
work=$(mktemp -d)
load_pid=""
trap '[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null; "$lab" down >/dev/null 2>&1; rm -rf "$work"' EXIT
on_failure_show_state() {
  local n
  for n in n1 n2; do timeout 5 "$lab" exec "$n" hactl status 2>&1 | grep -E '^(durability|  now|  database|files|database)' | sed "s/^/    $n: /"; done
}

up_out=$("$lab" up --nodes 2 2>&1); up_rc=$?
printf '%s\n' "$up_out" | grep '^lab: ' | sed 's/^/    /'
check "lab up --nodes 2 (two managers and the witness w1)" [ "$up_rc" = 0 ]
[ "$up_rc" = 0 ] || exit 1
managers_healthy() { "$lab" exec n1 hactl health && "$lab" exec n2 hactl health; }
check "both managers healthy" wait_for 120 managers_healthy
check "REST writable through the floating IP" wait_for 60 rest_writable
check "the standby streams" wait_for 60 streams_with replicator 1

status_of() { "$lab" exec "$1" hactl status 2>&1; }
says_rule() { status_of n1 | grep '^durability: available: a node alone acknowledges writes and uploads with one copy' >/dev/null; }
check "hactl status names the durability rule: available, the default" says_rule
# The gate takes the rule from its own config; it says what it runs by.
gates_say_rule() {
  local n
  for n in n1 n2; do status_of "$n" | grep "^  uploads: available (the upload gate's replication.durability)" >/dev/null || return 1; done
}
check "hactl status on each manager: its upload gate runs by the same rule" gates_say_rule

primary=$(primary_node)
survivor=$([ "$primary" = n1 ] && echo n2 || echo n1)
echo "    primary $primary (crashed below), survivor $survivor, floating IP on $(holder)"

# --- the primary's manager crashed under uploads ------------------------------------
uploads="$work/uploads.jsonl"
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$uploads" --seconds 50 --rate 5 \
  --prefix "two-$RANDOM" --timeout 25 >/dev/null 2>&1 &
load_pid=$!
sleep 8
crash_ms=$(date +%s%3N)
"$lab" crash "$primary" >/dev/null
one_copy_upload() {  # the gate's answer names the one copy
  "$lab" exec c1 sh -c "head -c 4096 /dev/urandom >/tmp/alone-bp && curl -s -D - --max-time 30 -X PUT --data-binary @/tmp/alone-bp http://$vip/api/v3.1/blueprints/alone-bp" >"$work/alone" 2>&1
  grep '^HTTP/1.1 201' "$work/alone" >/dev/null && grep -i '^x-replication: one copy: ' "$work/alone" >/dev/null
}
check "with $primary down, an upload through the floating IP is acknowledged (201) and says: one copy" \
  wait_for 60 one_copy_upload
grep -iE '^(HTTP|x-replicat|warning)' "$work/alone" | tr -d '\r' | sed 's/^/    /'
says_now() { status_of "$survivor" | grep "^  now: $1" >/dev/null; }
check "... hactl status on $survivor: new commits have one copy" wait_for 30 says_now "new commits on this primary have one copy"
check "... and uploads to it are acknowledged with one copy" wait_for 30 says_now "uploads to this node are acknowledged with one copy"
wait "$load_pid"; load_pid=""
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" analyse "$uploads" --crash-ms "$crash_ms" | sed 's/^/    measured: /'
every_upload_acknowledged "$uploads" || true  # which failed around the crash, and what they were answered
late_acknowledged() {  # every upload started 25 s or more after the crash got its 201
  python3 - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
late = [r for r in rows if r["start"] >= int(sys.argv[2]) + 25000]
bad = [r for r in late if r["status"] != 201]
print(f"    {len(late)} uploads started 25 s or more after the crash, {len(bad)} not acknowledged")
for r in bad[:5]: print(f"    failed: {r['id']} status {r['status']} {r.get('error', '')[:200]}")
sys.exit(0 if late and not bad else 1)
PY
}
check "... the survivor alone acknowledges every upload from 25 s after the crash on" late_acknowledged "$uploads" "$crash_ms"
check "... nothing acknowledged is lost (every upload read back through the floating IP)" nothing_lost "$uploads"

# --- the crashed manager back: it gets what was acknowledged with one copy -----------
"$lab" restart "$primary" >/dev/null
check "$primary boots and its supervisor is healthy" wait_for 120 "$lab" exec "$primary" hactl health
check "... it streams from $survivor again" wait_for 90 streams_with replicator 1
# Read in the node: the upload gate on 8100 answers the cluster's nodes only
# (members_only), and the node's /tmp is its own.
"$lab" exec "$primary" sh -c 'cat >/tmp/two-managers-uploads.jsonl' <"$uploads"
on_returned() {  # every acknowledged upload, row and file, read from the returned node's own REST service
  local said; said=$(timeout 60 "$lab" exec "$primary" "$top/scripts/lab.d/upload-workload" check \
    /tmp/two-managers-uploads.jsonl "http://198.18.0.1${primary:1}:8100" 2>&1)
  printf '%s\n' "$said" | head -2 | sed 's/^/    /'
  grep '^checked [0-9]* lost 0$' >/dev/null <<<"$said"
}
check "... every upload acknowledged while it was down is on it too" wait_for 90 on_returned
two_copies() { ! status_of "$survivor" | grep '^  now: ' >/dev/null && says_rule; }
check "... and hactl status on $survivor no longer says one copy" wait_for 60 two_copies

# --- the database's rule edited by hand: the supervisors' leader sets it back ---------
# As an operator would: patronictl, which reads Patroni's password from
# patroni.yml (group postgres), none on a command line.
patronictl() { "$lab" exec "$survivor" runuser -u postgres -- "$top/.deps/patroni/bin/patronictl" -c /etc/ha-supervisor/patroni/patroni.yml "$@"; }
strict_is() { patronictl show-config 2>/dev/null | grep -x "synchronous_mode_strict: $1" >/dev/null; }
check "patronictl edit-config --set synchronous_mode_strict=true: exit 0" \
  patronictl edit-config --set synchronous_mode_strict=true --force
check "... the supervisors' leader sets it back to what cluster.durability says (false) within 15 s" wait_for 15 strict_is false
said_set() { "$lab" exec "$survivor" journalctl -u ha-supervisor --since "-2min" 2>/dev/null | grep 'synchronous_mode_strict set to false (cluster.durability available)' >/dev/null || \
             "$lab" exec "$primary" journalctl -u ha-supervisor --since "-2min" 2>/dev/null | grep 'synchronous_mode_strict set to false (cluster.durability available)' >/dev/null; }
check "... and the leader's journal says it did (so it was true in between)" said_set

echo "two managers test: $passed passed, $failed failed in $((SECONDS - started)) s"
[ "$failed" = 0 ] || { printf 'failed: %s\n' "${failed_names[@]}"; exit 1; }
