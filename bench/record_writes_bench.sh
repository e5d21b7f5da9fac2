#!/usr/bin/env bash
# How often each supervisor writes its member record to Consul while uploads
# stream in: each write is a Raft write and wakes every node's watch, so a
# record that changes with each upload costs the cluster a write per upload
# per node. Brings a lab up, waits until it settled, runs the upload workload
# from c1 (RATE uploads a second for SECONDS), then counts each node's
# "publishing member record" lines of that window in its journal, and the
# fields they changed (the loop's reason names them).
#
#   sudo bench/record_writes_bench.sh [--seconds S] [--rate N]   (defaults 30, 10)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
seconds=30 rate=10
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds S}; shift 2 ;;
    --rate) rate=${2:?--rate N}; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--rate N]" >&2; exit 2 ;;
  esac
done
. "$top/bench/lab_bench_up.sh"
work=$("$lab" exec c1 mktemp -d)
since=$(date -u '+%Y-%m-%d %H:%M:%S')
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$work/uploads.log" --seconds "$seconds" --rate "$rate" \
  >/dev/null 2>&1
until=$(date -u '+%Y-%m-%d %H:%M:%S')
acked=$("$lab" exec c1 grep -c '"status": 201' "$work/uploads.log")
"$lab" exec c1 rm -rf "$work"
echo "record_writes: $acked uploads acknowledged in $seconds s ($rate a second asked), $(date -u +%Y-%m-%d)"
for n in $(grep '^n' "$top/.run/lab/nodes"); do
  lines=$("$lab" exec "$n" journalctl --no-pager --since "$since" --until "$until" -u ha-supervisor 2>/dev/null |
    grep -o 'publishing member record ([^)]*)')
  if [ -z "$lines" ]; then echo "  $n: 0 member-record writes"; continue; fi
  echo "  $n: $(grep -c . <<<"$lines") member-record writes"
  sort <<<"$lines" | uniq -c | sort -rn | head -3 | sed 's/^/      /'
done
