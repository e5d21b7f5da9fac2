#!/usr/bin/env bash
# Benchmark of the appliance's availability in the lab: the upload workload
# (scripts/lab.d/upload-workload: 20 a second through the floating IP, each
# upload a database row and a file on the peers) while a node of each role is
# power-cut in turn, then every acknowledged upload read back from every node.
#
#   usage: sudo bench/availability_bench.sh [--runs N] [--pg patroni|stolon]
#                                           [--roles "primary sync vip raft replica"]
#                                           [--managers 2|3]
#
# Each run crashes, one after the other, the node with each role (the
# database's primary, its synchronous standby, the floating IP's holder,
# Consul's Raft leader, a plain replica: a role that is on a node crashed
# earlier in the run is crashed where it is now; roles often share a node,
# and the line says which it had; a plain replica exists only while the IP is
# on the primary or the sync standby, so it is measured when there is one), with
# scripts/lab.d/availability-run, cold-boots it and waits until the cluster is
# whole (scripts/lab.d/cluster-settled). Per role it prints median and max of:
#   outage:  the longest time from the crash with no upload acknowledged
#   slowest: the longest single request under way at the crash or after it
# and the requests that failed; at the end, acknowledged uploads lost (read
# back from every node's own REST instance: must be 0).
# --managers 2: two managers and the Consul-only witness (lab up --nodes 2,
# the design's starting point); the witness holds no role measured here.
# It brings a lab up (refuses if one is up in this checkout) and takes it down.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
labd="$top/scripts/lab.d"
runs=3 pg=patroni roles="primary sync vip raft replica" managers=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --pg) pg=$2; shift 2 ;;
    --roles) roles=$2; shift 2 ;;
    --managers) managers=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--pg patroni|stolon] [--roles LIST] [--managers 2|3]" >&2; exit 2 ;;
  esac
done
[ "$managers" = 2 ] || [ "$managers" = 3 ] || { echo "--managers takes 2 or 3" >&2; exit 2; }
lab_nodes=$managers
[ "$(id -u)" -eq 0 ] || { echo "needs root (the lab): sudo $0" >&2; exit 1; }
if [ "$pg" = stolon ]; then
  echo "--pg stolon: skipped: stolon's binaries cannot be installed on this machine (the Go module proxy refuses github.com/sorintlab/stolon; see README.md, PostgreSQL HA)"
  exit 0
fi
[ "$pg" = patroni ] || { echo "--pg takes patroni or stolon" >&2; exit 2; }
. "$top/bench/lab_bench_up.sh"
"$labd/cluster-settled" --wait 120 || { echo "the cluster did not settle after lab up" >&2; exit 1; }
"$lab" exec n1 sh -c "grep -E '^ *(ttl|loop_wait|retry_timeout|synchronous_mode|synchronous_mode_strict|synchronous_node_count):' /etc/ha-supervisor/patroni/patroni.yml" \
  | tr -s ' ' | tr '\n' ' ' | sed 's/^/settings: patroni /'; echo
work=$(mktemp -d)
results="$work/results"
failed_runs=0
for i in $(seq "$runs"); do
  for role in $roles; do
    line=$("$labd/availability-run" "$role" "$work/run$i-$role" 2>&1); rc=$?
    echo "run $i: $line"
    [ "$rc" = 3 ] && continue
    [ "$rc" = 0 ] || { failed_runs=$((failed_runs + 1)); continue; }
    echo "$line" >>"$results"
    node=$(echo "$line" | sed -n 's/.* node \(n[0-9]\) .*/\1/p')
    "$lab" restart "$node" >/dev/null 2>&1
    "$labd/cluster-settled" --wait 180 || { echo "run $i: the cluster did not settle after the restart of $node" >&2; failed_runs=$((failed_runs + 1)); break 2; }
  done
done
echo
echo "managers: $managers$([ "$managers" = 2 ] && echo ' and the witness')"
printf '%-8s %5s  %-22s %-22s %s\n' role runs "outage median/max" "slowest median/max" "failed requests"
for role in $roles; do
  grep -q "^role $role " "$results" 2>/dev/null || { printf '%-8s %5s  (no node had this role)\n' "$role" 0; continue; }
  grep "^role $role " "$results" | python3 -c '
import sys, statistics
rows = [dict(zip(l.split()[::2], l.split()[1::2])) for l in sys.stdin]
def col(k): return sorted(int(r[k]) for r in rows)
def mm(k): c = col(k); return "%d / %d ms" % (statistics.median_low(c), c[-1])
print("%-8s %5d  %-22s %-22s %d" % (sys.argv[1], len(rows), mm("outage_ms"), mm("slowest_ms"), sum(col("failed"))))' "$role"
done
lost=0
for log in "$work"/run*/requests; do
  [ -s "$log" ] || continue
  # In n1's network: each gate answers the cluster's nodes only (components/members-only).
  rest_urls=$(for m in $(seq "$managers"); do printf 'http://198.18.0.1%s:8100 ' "$m"; done)
  # shellcheck disable=SC2086  # one URL per manager
  out=$(nsenter --net=/run/netns/hal-n1 "$labd/upload-workload" check "$log" $rest_urls)
  n=$(echo "$out" | sed -n 's/^checked [0-9]* lost \([0-9]*\)$/\1/p')
  lost=$((lost + ${n:-1}))
  [ "${n:-1}" = 0 ] || echo "$out" | sed 's/^/  /'
done
echo "acknowledged uploads lost: $lost (read back from every node); failed runs: $failed_runs"
rm -rf "$work"
[ "$lost" = 0 ] && [ "$failed_runs" = 0 ]
