#!/usr/bin/env bash
# Benchmark of the message broker: the publish outage through the floating IP
# after a power cut of the IP's holder, whether any confirmed message is lost,
# and the throughput of confirmed publishes, beside a single unclustered
# broker on this machine.
#
#   usage: sudo bench/broker_failover_bench.sh [--runs N]   (default 10)
#
# It brings a 3-node lab up (scripts/lab up; refuses if a lab is already up in
# this checkout) and takes it down on exit, whatever happens. The client is
# tests/lab/broker_check.py on c1 (Debian's python3-pika): one publisher,
# persistent messages to a quorum queue, each publish waiting for its confirm
# (so a confirm means the queue's Raft majority has it), reconnecting at once
# when the connection drops; then a consumer reads the queue to the end.
#  - throughput: 10 s of publishes through the floating IP, no fault; then the
#    same publisher for 10 s against one broker alone (Debian's rabbitmq-server,
#    the same version and queue type, one replica), run in a network namespace
#    of its own (hal-bench: loopback only) with its data in a temporary folder.
#  - each run: 20 s of publishes; 5 s in, the holder of the floating IP is
#    crashed (scripts/lab crash: link down, every process SIGKILLed). Figure:
#    the longest gap between two confirms. Then the queue is read to the end
#    and every confirmed message must be there; the crashed node is cold-booted
#    and the run waits until its broker is back in the cluster.
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
check="$top/tests/lab/broker_check.py"
secrets="$top/.run/lab/db-secrets"
vip=198.18.0.100
work=$(mktemp -d)
clustered() {
  local n
  for n in n1 n2 n3; do
    "$lab" exec "$n" hactl status 2>/dev/null | grep "^broker: running, 3 of 3 nodes " >/dev/null || return 1
  done
}
wait_clustered() { for _ in $(seq 300); do clustered && return 0; sleep 0.5; done; return 1; }
holder() {
  local n
  for n in n1 n2 n3; do ip -n "hal-$n" -4 addr show dev eth0 2>/dev/null | grep " $vip/" >/dev/null && echo "$n"; done
}
wait_clustered || { echo "the brokers did not form a cluster" >&2; exit 1; }
echo "settings: $("$lab" exec n1 grep -E '^(cluster_partition_handling|listeners)' /etc/ha-rabbitmq/rabbitmq.conf | tr '\n' ' ')"

"$lab" exec c1 "$check" publish "$vip" "$secrets" bench-throughput 10 "$work/throughput.log" | sed 's/^/clustered, through the floating IP: /'
"$lab" exec c1 "$check" consume "$vip" "$secrets" bench-throughput "$work/throughput.log" | sed 's/^/  read back: /'

# One broker alone, in a namespace of its own (its epmd and ports are its own).
single=$work/single
bench_ns=hal-bench
single_down() {
  local pid
  for pid in $(ip netns pids "$bench_ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  sleep 1
  for pid in $(ip netns pids "$bench_ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$bench_ns" 2>/dev/null || true
}
trap 'single_down; "$lab" down >/dev/null 2>&1' EXIT
mkdir -p "$single/mnesia" "$single/home"
chmod 0755 "$work"  # the broker runs as rabbitmq: it must reach its folder (the logs stay root's)
ip netns add "$bench_ns" && ip -n "$bench_ns" link set lo up
printf 'listeners.tcp.1 = 127.0.0.1:5672\nload_definitions = %s/definitions.json\nlog.console = false\nlog.file = false\n' \
  "$single" >"$single/rabbitmq.conf"
/usr/bin/python3 - "$single/definitions.json" 3<"$secrets" <<'PY'
import base64, hashlib, json, os, sys
password = next(l.split("=", 1)[1].strip() for l in os.fdopen(3) if l.startswith("rabbitmq_manager="))
salt = os.urandom(4)
h = base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()
json.dump({"users": [{"name": "manager", "password_hash": h, "hashing_algorithm": "rabbit_password_hashing_sha256",
                      "tags": []}], "vhosts": [{"name": "/"}],
           "permissions": [{"user": "manager", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]},
          open(sys.argv[1], "w"))
PY
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$single/home/.erlang.cookie"
chmod 0400 "$single/home/.erlang.cookie"
chown -R rabbitmq: "$single"
ip netns exec "$bench_ns" runuser -u rabbitmq -- env HOME="$single/home" RABBITMQ_MNESIA_BASE="$single/mnesia" \
  RABBITMQ_LOG_BASE="$single" RABBITMQ_CONFIG_FILE="$single/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$single/plugins" \
  RABBITMQ_NODENAME=rabbit@127.0.0.1 RABBITMQ_USE_LONGNAME=true setsid /usr/lib/rabbitmq/bin/rabbitmq-server \
  >"$single/server.log" 2>&1 </dev/null &
disown  # single_down ends it by PID: no "Killed" job notice in the output
for _ in $(seq 120); do
  ip netns exec "$bench_ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' 2>/dev/null && break
  sleep 0.5
done
ip netns exec "$bench_ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' 2>/dev/null ||
  { echo "the single broker did not start: $single/server.log says:"; tail -5 "$single/server.log"; }
ip netns exec "$bench_ns" "$check" publish 127.0.0.1 "$secrets" bench-throughput 10 "$work/single.log" |
  sed 's/^/one broker alone, on loopback: /'
single_down

outages=() lost_total=0 failed=0
for i in $(seq "$runs"); do
  h=$(holder)
  log=$work/run$i.log
  "$lab" exec c1 "$check" publish "$vip" "$secrets" bench-failover 20 "$log" >"$work/run$i.out" 2>&1 &
  publisher=$!
  sleep 5
  "$lab" crash "$h" >/dev/null
  wait "$publisher"
  line=$(cat "$work/run$i.out")
  read_back=$("$lab" exec c1 "$check" consume "$vip" "$secrets" bench-failover "$log" 2>&1); rc=$?
  echo "run $i (crashed $h): $line; $read_back"
  o=$(echo "$line" | sed -n 's/.*longest publish outage \([0-9.]*\) s.*/\1/p')
  l=$(echo "$read_back" | sed -n 's/.* lost \([0-9]*\),.*/\1/p')
  [ -n "$o" ] && outages+=("$o")
  lost_total=$((lost_total + ${l:-0}))
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
  "$lab" restart "$h" >/dev/null 2>&1
  wait_clustered || { echo "run $i: $h's broker did not come back into the cluster" >&2; failed=$((failed + 1)); break; }
done
if [ ${#outages[@]} -gt 0 ]; then
  sorted=$(printf '%s\n' "${outages[@]}" | sort -n)
  n=${#outages[@]}
  echo "publish outage after a crash of the floating IP's holder: median $(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p") s, min $(echo "$sorted" | head -1) s, max $(echo "$sorted" | tail -1) s over $n runs"
fi
echo "confirmed messages lost: $lost_total; failed runs: $failed"
[ "$failed" -eq 0 ] && [ "$lost_total" -eq 0 ]
