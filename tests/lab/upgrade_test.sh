#!/usr/bin/env bash
# A rolling upgrade of the supervisor (issue 19), in a lab of its own, under
# the upload workload: each node's ha-supervisor is replaced by a build whose
# member-record schema is 2 (build/supervisor/ha-supervisor-schema2) and
# restarted, one node at a time, as README.md's "Upgrading the supervisor"
# says: a node that holds neither the primary nor the floating IP, then the
# floating IP's holder (the address stays put through its supervisor's
# restart), then a switchover to the first one and the last node. While the versions are mixed
# every node reads every record (the newer ones write schema 1 until every
# node reads 2) and hactl status says so; after the last node, the records are
# written in schema 2. No upload fails during the restarts (the switchover's
# are counted, as in lab_switchover), none acknowledged is lost.
#   usage: upgrade_test.sh   (from ctest; uses the checkout it lives in)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
lab="$top/scripts/lab"
vip=198.18.0.100
newer="$top/build/supervisor/ha-supervisor-schema2"

. "$top/tests/lab/own_lab_or_skip.sh"
. "$top/tests/lab/checks.sh"
. "$top/tests/lab/db_checks.sh"
[ -x "$newer" ] || { echo "SKIP: $newer not built (scripts/build builds it)"; exit 0; }
work=$(mktemp -d)
load_pid=""
trap '[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null; "$lab" down >/dev/null 2>&1; rm -rf "$work"' EXIT
on_failure_show_state() { show_nodes_state 9 'unreadable\|schema\|error'; }

lab_up_serving

# The member records as NODE's supervisor read them from Consul: "n1 1/1 n2 1/2
# n3 1/1 unreadable 0" (each live member's schema written / newest it reads).
schemas_seen_by() { "$lab" exec "$1" hactl status --json 2>/dev/null | python3 "$top/tests/lab/record_schemas.py"; }
every_node_reads() {  # every node reads all three records, as WANT says
  local n; for n in n1 n2 n3; do [ "$(schemas_seen_by "$n")" = "$1 unreadable 0" ] || return 1; done
}
check "before: every record in schema 1, read by every node" wait_for 30 every_node_reads "n1 1/1 n2 1/1 n3 1/1"

uploads="$work/uploads.jsonl"
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$uploads" --seconds 60 --rate 10 \
  --prefix "upgrade-$RANDOM" --timeout 20 >/dev/null 2>&1 &
load_pid=$!
sleep 5

upgrade() {  # upgrade NODE: the newer binary in place, the supervisor restarted
  "$lab" exec "$1" install -m 0755 "$newer" /usr/local/bin/ha-supervisor &&
    "$lab" exec "$1" systemctl restart ha-supervisor
}
reads_two() {  # NODE's supervisor is back, healthy, and reads schema 2
  [ "$("$lab" exec "$1" hactl status --json 2>/dev/null | python3 "$top/tests/lab/record_schemas.py" --self)" = "2 ok" ]
}
mixed_said() { "$lab" exec "$1" hactl status 2>/dev/null | grep "^records: member records written in schema 1, not this supervisor's 2, until every node reads it" >/dev/null; }

primary=$(primary_node)
held=$(holder)
first=""
for n in n1 n2 n3; do [ "$n" != "$primary" ] && [ "$n" != "$held" ] && { first=$n; break; }; done
echo "    primary $primary, floating IP on $held; upgraded first: $first, then $held (the holder)"
check "$first upgraded and restarted" upgrade "$first"
check "... healthy again, reading schema 2" wait_for 60 reads_two "$first"
expect_one() { local n o=""; for n in n1 n2 n3; do if [ "$n" = "$first" ]; then o+="$n 1/2 "; else o+="$n 1/1 "; fi; done; echo "${o% }"; }
check "... every node, old and new, reads every record: $first writes schema 1 still" \
  wait_for 30 every_node_reads "$(expect_one)"
check "... hactl status on $first says why: the others read up to schema 1" mixed_said "$first"
"$lab" exec "$first" hactl status 2>/dev/null | grep -e '^records:' -e '^versions:' | sed 's/^/    /'

# The holder's supervisor restarts under it: the address stays (the stopping
# supervisor leaves the track file's word, the starting one keeps it while it
# rejoins), so no request in flight on it is stranded.
restart_at=$(date +%s)
check "$held (the floating IP's holder) upgraded and restarted" upgrade "$held"
check "... healthy again, reading schema 2" wait_for 60 reads_two "$held"
never_left() {
  holder_is "$held" || return 1
  ! "$lab" exec "$held" journalctl -u keepalived --no-pager --since "@$restart_at" 2>/dev/null |
    grep -E 'Entering (FAULT|BACKUP) STATE' >/dev/null
}
check "... the floating IP stayed on $held through its supervisor's restart (keepalived never left MASTER)" never_left

# A switchover while the versions are mixed, to the first upgraded node: the
# last node then holds neither the primary nor the floating IP.
last=""; for n in n1 n2 n3; do [ "$n" != "$first" ] && [ "$n" != "$held" ] && last=$n; done
switch_to_first() {
  local said rc; said=$("$lab" exec "$last" hactl switchover --to "$first" 2>&1); rc=$?
  printf '%s\n' "$said" | tail -3 | sed 's/^/    hactl: /'
  [ "$rc" = 0 ]
}
switch_from=$(date +%s%3N)
check "hactl switchover --to $first (asked on $last, not yet upgraded): exit 0" switch_to_first
switch_to=$(date +%s%3N)
moved() { is_primary "$first" && holder_is "$first"; }
check "... $first holds the primary and the floating IP, $last neither" wait_for 30 moved
check "$last upgraded and restarted" upgrade "$last"
check "... healthy again, reading schema 2" wait_for 60 reads_two "$last"
check "after: every record written in schema 2, read by every node" \
  wait_for 30 every_node_reads "n1 2/2 n2 2/2 n3 2/2"
no_note() { ! "$lab" exec n1 hactl status 2>/dev/null | grep '^records:' >/dev/null; }
check "... and hactl status no longer says the schemas are mixed" no_note
check "every supervisor healthy" wait_for 60 healthy_everywhere

wait "$load_pid"; load_pid=""
# The supervisors' restarts must fail nothing. The switchover's database step
# has, in some runs, answered uploads 503 right after its hold released
# (lab_switchover counts them, issue 19: not traced yet): those started within
# its window (and 5 s after) are counted here, not failed on.
restarts_failed_nothing() {
  python3 - "$uploads" "${switch_from:-0}" "${switch_to:-0}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
start, end = int(sys.argv[2]), int(sys.argv[3]) + 5000
bad = [r for r in rows if r["status"] != 201]
during = [r for r in bad if start <= r["start"] <= end]
print(f"    {len(rows)} uploads, {len(rows) - len(bad)} acknowledged; failed: {len(bad) - len(during)} "
      f"during the restarts, {len(during)} during the switchover")
for r in bad[:5]:
    print(f"    failed: {r['id']} status {r['status']} {r.get('error', '')[:200]}")
sys.exit(0 if rows and len(bad) == len(during) else 1)
PY
}
check "not one upload failed during the supervisors' restarts" restarts_failed_nothing
check "every acknowledged upload is there (row and file, through the floating IP)" wait_for 60 nothing_lost "$uploads"

echo "upgrade test: $passed passed, $failed failed in $((SECONDS - started)) s"
[ "$failed" = 0 ] || { printf 'failed: %s\n' "${failed_names[@]}"; exit 1; }
