#!/usr/bin/env bash
# Benchmark: what the supervisor (and the upload gate) cost with nothing
# happening, in the full lab: CPU as a share of one core and RSS, per node.
#
#   usage: sudo bench/idle_cost.sh [--seconds N] [--keep]
#          (default: 30 s of samples; --keep leaves the lab up afterwards)
#
# Uses the lab that is up in this checkout, or brings a 3-node one up (and
# takes it down again on exit unless --keep). It waits until every node says
# healthy, lets the cluster settle 10 s, then reads each process's utime+stime
# (clock ticks, /proc/PID/stat) at the start and the end of the window.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
seconds=30 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--seconds N] [--keep]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (the lab): sudo $0" >&2; exit 1; }

started=0
if [ ! -f "$top/.run/lab/nodes" ]; then
  "$lab" up --nodes 3 >/dev/null
  started=1
fi
cleanup() { [ $started = 1 ] && [ $keep = 0 ] && "$lab" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

managers=$(cat "$top/.run/lab/nodes" | grep -v '^w')
for deadline in $(seq 1 120); do
  ok=1
  for n in $managers; do
    "$lab" exec "$n" hactl health >/dev/null 2>&1 || ok=0
  done
  [ $ok = 1 ] && break
  sleep 1
done
[ $ok = 1 ] || { echo "idle_cost: the lab never became healthy" >&2; exit 1; }
sleep 10

# "PID TICKS RSS_KB" of a unit's main process, read inside the node.
sample() {
  "$lab" exec "$1" sh -c '
    pid=$(systemctl show -p MainPID --value "$1") && [ "${pid:-0}" -gt 0 ] || exit 1
    rss=$(awk "/^VmRSS:/ {print \$2}" /proc/$pid/status)
    set -- $(sed "s/^.*) //" /proc/$pid/stat)
    echo "$pid $(( ${12} + ${13} )) $rss"' sh "$2"
}

units="ha-supervisor.service ha-upload-gate.service"
declare -A before
for n in $managers; do
  for u in $units; do before[$n/$u]=$(sample "$n" "$u" || echo "0 0 0"); done
done
t0=$(date +%s.%N)
sleep "$seconds"
t1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
window=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
printf 'idle cost over %.1f s (%s ticks/s), %s, %s\n' "$window" "$hz" "$(date -u +%F)" "$(git -C "$top" rev-parse --short HEAD)"
printf '%-4s %-24s %8s %10s %8s\n' node unit ticks "% of core" "RSS MB"
for n in $managers; do
  for u in $units; do
    read -r pid0 ticks0 _ <<<"${before[$n/$u]}"
    read -r pid1 ticks1 rss <<<"$(sample "$n" "$u" || echo "0 0 0")"
    if [ "$pid0" != "$pid1" ] || [ "$pid1" = 0 ]; then
      printf '%-4s %-24s %s\n' "$n" "$u" "restarted or absent during the window: no figure"
      continue
    fi
    ticks=$((ticks1 - ticks0))
    awk -v n="$n" -v u="$u" -v t="$ticks" -v hz="$hz" -v w="$window" -v rss="$rss" \
      'BEGIN { printf "%-4s %-24s %8d %10.2f %8.1f\n", n, u, t, 100 * t / (hz * w), rss / 1024 }'
  done
done
