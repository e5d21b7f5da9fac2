#!/usr/bin/env bash
# The cluster's pause (issue 19's hactl pause / resume), in a lab of its own:
# paused, every node says so and Patroni is paused too; work on Consul (the
# floating-IP holder's agent stopped under the upload workload) moves nothing
# and fails no upload; the primary's node crashed while paused is not failed
# over, and status says what the operator must do; hactl resume then lets
# Patroni promote the synchronous standby, and nothing acknowledged is lost.
#   usage: pause_test.sh   (from ctest; uses the checkout it lives in)
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
on_failure_show_state() { show_nodes_state 8 'pause\|floating IP'; }

lab_up_serving

first=$(primary_node)
held=$(holder)
other=""; for n in n1 n2 n3; do [ "$n" != "$first" ] && [ "$n" != "$held" ] && other=$n; done
echo "    primary $first, floating IP on $held, hactl run on $other"

# --- paused: every node says so, Patroni too, and moves are refused ---
pause_on() {
  local said rc; said=$("$lab" exec "$1" hactl pause --reason "lab pause test" 2>&1); rc=$?
  printf '%s\n' "$said" | sed 's/^/    hactl: /'
  [ "$rc" = 0 ] && grep "^PAUSED by api@$1 at .* (lab pause test): no failover" >/dev/null <<<"$said"
}
check "hactl pause on $other: exit 0, PAUSED by whom and why" pause_on "$other"
every_node_paused() {
  local n
  for n in n1 n2 n3; do "$lab" exec "$n" hactl status 2>/dev/null | grep "^PAUSED by api@$other" >/dev/null || return 1; done
}
check "... every node's hactl status says PAUSED" wait_for 15 every_node_paused
patroni_paused() {  # Patroni's own word, from its REST API on the primary's node
  "$lab" exec "$first" curl -s --max-time 2 "http://$("$lab" exec "$first" hostname -I | awk '{print $1}'):8008/patroni" |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("pause") is True else 1)'
}
check "... Patroni is paused too (GET /patroni says pause: true)" wait_for 20 patroni_paused
switchover_refused() {
  local said rc; said=$("$lab" exec "$other" hactl switchover 2>&1); rc=$?
  printf '%s\n' "$said" | sed 's/^/    hactl: /'
  [ "$rc" = 1 ] && grep "the cluster is paused" >/dev/null <<<"$said"
}
check "... hactl switchover is refused: the cluster is paused" switchover_refused

# --- work on Consul: the holder's agent stopped, under uploads: nothing moves ---
uploads="$work/uploads.jsonl"
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$uploads" --seconds 35 --rate 10 \
  --prefix "pause-$RANDOM" --timeout 20 >/dev/null 2>&1 &
load_pid=$!
sleep 5
"$lab" stop "$held" consul.service >/dev/null
cut_off() { "$lab" exec "$held" hactl status 2>/dev/null | grep 'quorum: NOT reachable' >/dev/null; }
check "Consul's agent stopped on the holder $held: its supervisor has no quorum" wait_for 20 cut_off
sleep 12  # unpaused, the holder gives the address up 4 s after losing the quorum, and Patroni demotes
check "... 12 s later $held still holds the floating IP, alone" holder_is "$held"
check "... $first is still primary" is_primary "$first"
check "... and REST is writable through the floating IP" rest_writable
"$lab" start "$held" consul.service >/dev/null
wait "$load_pid"; load_pid=""
check "... not one upload failed while the holder's Consul agent was down" every_upload_acknowledged "$uploads"
quorum_back() { "$lab" exec "$held" hactl status 2>/dev/null | grep 'quorum: reachable' >/dev/null; }
check "... its agent started again: quorum reachable on $held" wait_for 30 quorum_back
sleep 3
check "... and $held still holds the floating IP (joining Consul again moved nothing)" holder_is "$held"

# --- the primary's node crashed while paused: no failover, status says what to do ---
"$lab" crash "$first" >/dev/null
survivor=""; for n in n1 n2 n3; do [ "$n" != "$first" ] && survivor=$n; done
advice() {
  "$lab" exec "$survivor" hactl status 2>/dev/null |
    grep '^ACTION NEEDED: the database has no primary and the cluster is paused: nothing fails over.*hactl resume' >/dev/null
}
check "$first crashed: hactl status on $survivor says ACTION NEEDED, with hactl resume" wait_for 40 advice
"$lab" exec "$survivor" hactl status 2>/dev/null | grep '^ACTION NEEDED' | sed 's/^/    /'
sleep 10
no_primary() { ! primary_node >/dev/null; }
check "... 10 s later still no primary: nothing failed over while paused" no_primary
t0=$(date +%s%N)
resume_on() {
  local said rc; said=$("$lab" exec "$1" hactl resume 2>&1); rc=$?
  printf '%s\n' "$said" | sed 's/^/    hactl: /'
  [ "$rc" = 0 ] && grep "^resumed" >/dev/null <<<"$said"
}
check "hactl resume on $survivor: exit 0" resume_on "$survivor"
check "... a primary again within 60 s" wait_for 60 primary_node
echo "    a primary $(( ($(date +%s%N) - t0) / 1000000 )) ms after hactl resume"
check "... REST writable through the floating IP" wait_for 60 rest_writable
not_paused_anywhere() {
  local n
  for n in n1 n2 n3; do
    [ "$n" = "$first" ] && continue
    "$lab" exec "$n" hactl status 2>/dev/null | grep -e '^PAUSED' -e '^ACTION NEEDED' >/dev/null && return 1
  done
  return 0
}
check "... no survivor says PAUSED or ACTION NEEDED" wait_for 20 not_paused_anywhere
check "every acknowledged upload is there (row and file, through the floating IP)" wait_for 60 nothing_lost "$uploads"
"$lab" restart "$first" >/dev/null 2>&1
check "$first booted: both standbys stream again" wait_for 120 streams_with replicator 2

echo "pause test: $passed passed, $failed failed in $((SECONDS - started)) s"
[ "$failed" = 0 ] || { printf 'failed: %s\n' "${failed_names[@]}"; exit 1; }
