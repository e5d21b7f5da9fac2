#!/usr/bin/env bash
# Benchmark of PostgreSQL HA in the lab: the write outage after a power cut of
# the primary's node, and whether any acknowledged commit is lost.
#
#   usage: sudo bench/db_failover_bench.sh [--runs N]   (default 10)
#
# It brings a 3-node lab up (scripts/lab up; refuses if a lab is already up in
# this checkout) and takes it down on exit, whatever happens. Each run is
# scripts/lab.d/db-failover-run: a node that is not the primary (pg_hba admits
# only the nodes) commits one row every 20 ms through libpq's
# multi-host list (target_session_attrs=read-write, connect_timeout=1,
# tcp_user_timeout=1000, as the REST stand-in connects); 3 s in, the primary's
# node is crashed (scripts/lab crash: link down, every process SIGKILLed); 3 s
# after writes resume the
# stream stops and every acknowledged id is looked up on the new primary.
# Figure: the last acknowledged commit before the crash to the first after it,
# printed beside the supervisors' own record of the failover (hactl incidents:
# each phase's offset from the first sign, bench/incident_phases.py).
# Then the crashed node is cold-booted and the run waits until the cluster has
# a primary, a synchronous standby and a replica on one timeline again.
# Settings: the lab's, i.e. the supervisor's defaults (db.ttl_s 5, loop_wait_s 1,
# retry_timeout_s 2, synchronous on, non-strict), printed at the start.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done
. "$top/bench/lab_bench_up.sh"
work=$(mktemp -d)
settled() {
  local rows
  rows=$("$lab" exec n1 hactl status 2>/dev/null | grep -E '^n[1-3] ')
  # One primary, and two standbys of which at least one is synchronous (quorum commit: both).
  [ "$(echo "$rows" | grep -c ' primary TL')" = 1 ] && [ "$(echo "$rows" | grep -c ' sync TL[0-9]* lag')" -ge 1 ] \
    && [ "$(echo "$rows" | grep -cE ' (sync|replica) TL[0-9]* lag')" = 2 ] \
    && [ "$(echo "$rows" | grep -oE 'TL[0-9]+' | sort -u | wc -l)" = 1 ]
}
wait_settled() { for _ in $(seq 600); do settled && return 0; sleep 0.2; done; return 1; }
wait_settled || { echo "the cluster did not settle" >&2; exit 1; }
"$lab" exec n1 sh -c "grep -E '^ *(ttl|loop_wait|retry_timeout|synchronous_mode|synchronous_mode_strict):' /etc/ha-supervisor/patroni/patroni.yml" \
  | tr -s ' ' | tr '\n' ' ' | sed 's/^/settings: /'; echo
outages=() lost_total=0 failed=0
for i in $(seq "$runs"); do
  # Quiet first: failure signs within 20 s of each other are one incident
  # (supervisor/events/timeline.hpp), and each crash is to be its own record.
  sleep 22
  line=$("$top/scripts/lab.d/db-failover-run" "$work/run$i" 2>&1); rc=$?
  echo "run $i: $line"
  o=$(echo "$line" | sed -n 's/.*outage_ms \([0-9]*\).*/\1/p')
  l=$(echo "$line" | sed -n 's/.* lost \([0-9]*\).*/\1/p')
  [ -n "$o" ] && outages+=("$o")
  lost_total=$((lost_total + ${l:-0}))
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
  crashed=$(echo "$line" | sed -n 's/.*primary_before \(n[0-9]\).*/\1/p')
  # The same failover as the supervisors recorded it (hactl incidents), beside
  # the outage the writer measured from outside.
  survivor=n1; [ "$crashed" = n1 ] && survivor=n2
  echo "run $i: flight recorder on $survivor: $("$lab" exec "$survivor" hactl incidents --json 2>/dev/null | /usr/bin/python3 "$top/bench/incident_phases.py")"
  [ -n "$crashed" ] && "$lab" restart "$crashed" >/dev/null 2>&1
  wait_settled || { echo "run $i: the cluster did not settle after the restart of $crashed" >&2; break; }
done
if [ ${#outages[@]} -gt 0 ]; then
  sorted=$(printf '%s\n' "${outages[@]}" | sort -n)
  n=${#outages[@]}
  median=$(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p")
  p95=$(echo "$sorted" | sed -n "$(( (n * 95 + 99) / 100 ))p")
  echo "write outage after a crash of the primary's node: median ${median} ms, p95 ${p95} ms, min $(echo "$sorted" | head -1) ms, max $(echo "$sorted" | tail -1) ms over $n runs"
fi
echo "acknowledged commits lost: $lost_total; failed runs: $failed"
[ "$failed" -eq 0 ] && [ "$lost_total" -eq 0 ]
