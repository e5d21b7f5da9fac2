#!/usr/bin/env bash
# Benchmark of the message broker across a partition: the node leading a
# quorum queue is cut off (scripts/lab partition: its link down, its
# processes running) while a publisher on c1 sends through the floating IP,
# then healed. pause_minority pauses its broker; after the heal the supervisor
# restarts it if it still lists the partition in a minority of its view
# (components/rabbitmq/decide.cpp, decide_partition).
#
#   usage: sudo bench/broker_partition_bench.sh [--runs N]   (default 6)
#
# The victim goes round n1, n2, n3. Per run it prints the longest gap between
# two confirms, the confirmed messages lost (the queue read to the end: must
# be 0), the seconds from the heal until every node's broker runs with 3 of 3
# nodes, and how often the victim's supervisor restarted its broker after the
# heal (at most once: a second restart, from a view read before the first,
# was stop 43's CI failure). It brings a 3-node lab up (refuses if one is up
# in this checkout) and takes it down on exit.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
runs=6
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done
. "$top/bench/lab_bench_up.sh"
. "$top/tests/lab/checks.sh"  # wait_for SECONDS COMMAND...: the lab's one poll
check="$top/tests/lab/broker_check.py"
secrets="$top/.run/lab/db-secrets"
vip=198.18.0.100
work=$(mktemp -d)
trap '"$lab" down >/dev/null 2>&1; rm -rf "$work"' EXIT
clustered() {
  local n
  for n in n1 n2 n3; do
    "$lab" exec "$n" hactl status 2>/dev/null | grep "^broker: running, 3 of 3 nodes " >/dev/null || return 1
  done
}
healthy_all() { local n; for n in n1 n2 n3; do "$lab" exec "$n" hactl health >/dev/null 2>&1 || return 1; done; }
led_by() {  # led_by QUEUE NODE: another node's status names NODE's broker the queue's leader, 3 of 3 online
  local viewer=n1; [ "$2" = n1 ] && viewer=n2
  "$lab" exec "$viewer" hactl status 2>/dev/null |
    grep "^  quorum queue $1: leader rabbit@198.18.0.1${2:1}, 3 of 3 replicas online" >/dev/null
}
wait_for 180 clustered || { echo "the brokers did not form a cluster" >&2; exit 1; }
echo "settings: $("$lab" exec n1 grep -E '^cluster_partition_handling' /etc/ha-rabbitmq/rabbitmq.conf)"

back_s=() lost_total=0 failed=0 double=0
for i in $(seq "$runs"); do
  victim=n$(( (i - 1) % 3 + 1 ))
  wait_for 120 healthy_all || { echo "run $i: not every node is healthy" >&2; failed=$((failed + 1)); break; }
  queue=bench-partition-$i
  "$lab" exec c1 "$check" declare "198.18.0.1${victim:1}" "$secrets" "$queue" >/dev/null 2>&1
  wait_for 15 led_by "$queue" "$victim" || echo "run $i: $queue is not led by $victim's broker (measured anyway)"
  log=$work/run$i.log
  "$lab" exec c1 "$check" publish "$vip" "$secrets" "$queue" 30 "$log" >"$work/run$i.out" 2>&1 &
  publisher=$!
  sleep 3
  "$lab" partition "$victim" >/dev/null
  sleep 12  # past the cut-off (4 s) and the survivors' new leader
  heal_epoch=$(date +%s)
  t0=$SECONDS
  "$lab" heal "$victim" >/dev/null
  if wait_for 180 clustered; then back=$((SECONDS - t0)); back_s+=("$back"); else back="over 180"; failed=$((failed + 1)); fi
  wait "$publisher"
  read_back=$("$lab" exec c1 "$check" consume "$vip" "$secrets" "$queue" "$log" 2>&1); rc=$?
  restarts=$("$lab" exec "$victim" journalctl -u ha-supervisor --no-pager --since "@$heal_epoch" | grep -c 'broker: restarting')
  [ "$restarts" -le 1 ] || double=$((double + 1))
  echo "run $i (cut off $victim): $(cat "$work/run$i.out"); $read_back; 3 of 3 again ${back} s after the heal; restarts after the heal: $restarts"
  l=$(echo "$read_back" | sed -n 's/.* lost \([0-9]*\),.*/\1/p')
  lost_total=$((lost_total + ${l:-0}))
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
done
if [ ${#back_s[@]} -gt 0 ]; then
  sorted=$(printf '%s\n' "${back_s[@]}" | sort -n)
  n=${#back_s[@]}
  echo "brokers 3 of 3 after the heal: median $(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p") s, max $(echo "$sorted" | tail -1) s over $n runs"
fi
echo "confirmed messages lost: $lost_total; heals with more than one restart: $double; failed runs: $failed"
[ "$failed" -eq 0 ] && [ "$lost_total" -eq 0 ] && [ "$double" -eq 0 ]
