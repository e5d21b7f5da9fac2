#!/usr/bin/env bash
# Benchmark: hostile slow clients against the manager, and an ordinary client
# beside them (issue 17's load figures; docs/limits.md has the limits).
#
#   usage: sudo bench/hostile_clients_bench.sh [--clients N] [--seconds S] [--bytes-per-s B]
#          (default: 512 clients for 60 s, each trickling 10 bytes/s)
#
# It brings a 3-node lab up (scripts/lab up; refuses if a lab is already up in
# this checkout) and takes it down again on exit, whatever happens. Then, from
# the client namespace c1:
#   1. the ordinary client alone for 20 s: uploads of 64 KiB through the floating
#      IP, 2 a second (scripts/lab.d/upload-workload run --source 198.18.0.51, a
#      second address of c1's, added for the run);
#   2. the same, for S seconds, while N hostile clients from c1's own address
#      (.50) each send an upload's header with a 10 MiB Content-Length and then
#      trickle its body (scripts/lab.d/hostile-clients), reconnecting 1 s after
#      each answer.
# Every second during phase 2 it samples, on every manager, the REST service's
# Consul check (through its gate) and the resident memory of the gate and the
# REST stand-in. It prints, per phase, the ordinary client's uploads (started,
# acknowledged, failed) and its latency median / p99 / max; what the hostile
# clients got; how many check samples were not passing; the gate's and the
# stand-in's peak memory (VmHWM) per node. Exit 0 when the ordinary client had
# no failure in phase 2, every check sample passed, and each peak is under 64 MiB.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
lab=$top/scripts/lab
labd=$top/scripts/lab.d
clients=512 seconds=60 rate=10
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --bytes-per-s) rate=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. "$top/bench/lab_bench_up.sh"
"$labd/cluster-settled" --wait 120 >/dev/null || { echo "the lab did not settle" >&2; exit 1; }
work=$(mktemp -d /tmp/hostile-bench.XXXXXX)
normal_ip=198.18.0.51
c1_dev=$("$lab" exec c1 ip -o -4 addr show | awk '$4 ~ /^198\.18\.0\.50\// {print $2; exit}')
"$lab" exec c1 ip addr add "$normal_ip/24" dev "$c1_dev" || { echo "cannot add $normal_ip to c1" >&2; exit 1; }
trap '"$lab" exec c1 ip addr del "$normal_ip/24" dev "$c1_dev" >/dev/null 2>&1; "$lab" down >/dev/null 2>&1; rm -rf "$work"' EXIT
managers=$(grep '^n' "$top/.run/lab/nodes")

# Every second: each manager's REST check status and its two services' RSS.
sample() {
  while :; do
    for n in $managers; do
      "$lab" exec "$n" sh -c '
        checks=$(curl -s --max-time 1 -H "X-Consul-Token: $(cat /etc/consul.d/tokens/supervisor)" \
          --cacert /etc/ssl/ha-consul-ca.pem https://127.0.0.1:8501/v1/agent/checks) || checks="{}"
        status=$(printf "%s" "$checks" | /usr/bin/python3 -c "
import json, sys
try: d = json.load(sys.stdin)
except ValueError: d = {}
print(d.get(\"rest-service-status\", {}).get(\"Status\", \"unknown\"))")
        rss() { p=$(systemctl show -p MainPID --value "$1"); awk "/^VmRSS:/ {print \$2}" /proc/$p/status 2>/dev/null || echo 0; }
        echo "$(date +%s%3N) $0 check $status gate_rss_kib $(rss ha-upload-gate.service) rest_rss_kib $(rss rest-standin.service)"' "$n"
    done
    sleep 1
  done
}

normal() {  # phase name, seconds
  "$lab" exec c1 "$labd/upload-workload" run "$work/normal-$1.log" --seconds "$2" --rate 2 --size 65536 \
    --timeout 30 --prefix "normal-$1" --source "$normal_ip" >/dev/null 2>&1
}

summary() {  # phase name
  /usr/bin/python3 - "$work/normal-$1.log" "$1" <<'EOF'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [r["end"] - r["start"] for r in rows if r["status"] == 201]
failed = {}
for r in rows:
    if r["status"] != 201:
        key = str(r["status"]) if r["status"] else (r.get("error") or "no answer")[:40]
        failed[key] = failed.get(key, 0) + 1
ok.sort()
p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))] if ok else 0
print("%-22s uploads %4d acked %4d failed %3d  latency median %5d ms  p99 %5d ms  max %5d ms  %s" % (
    sys.argv[2], len(rows), len(ok), len(rows) - len(ok), statistics.median(ok) if ok else 0, p99,
    ok[-1] if ok else 0, json.dumps(failed) if failed else ""))
EOF
}

echo "hostile clients bench: $clients clients trickling $rate bytes/s for $seconds s; $(date -u +%Y-%m-%dT%H:%MZ)"
normal alone 20
summary alone

sample >"$work/samples" 2>/dev/null &
sampler=$!
"$lab" exec c1 "$labd/hostile-clients" "$work/hostile.log" --clients "$clients" --seconds "$seconds" \
  --bytes-per-s "$rate" >"$work/hostile.summary" 2>"$work/hostile.err" &
hostile=$!
sleep 5  # the hostile clients first take what they can
normal with-hostile $((seconds - 10))
wait "$hostile"
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
summary with-hostile
echo "hostile clients: $(cat "$work/hostile.summary")"
[ -s "$work/hostile.err" ] && sed 's/^/  hostile-clients: /' "$work/hostile.err" | head -5

peaks=$(for n in $managers; do
  "$lab" exec "$n" sh -c 'hwm() { p=$(systemctl show -p MainPID --value "$1"); awk "/^VmHWM:/ {print \$2}" /proc/$p/status 2>/dev/null || echo 0; }
    echo "$0 gate_hwm_kib $(hwm ha-upload-gate.service) rest_hwm_kib $(hwm rest-standin.service)"' "$n"
done)
/usr/bin/python3 - "$work/samples" "$peaks" <<'EOF'
import sys
samples = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 8]
bad = [s for s in samples if s[3] != "passing"]
print("REST Consul check samples (every manager, every second): %d, not passing: %d%s" % (
    len(samples), len(bad), "" if not bad else " (" + ", ".join(sorted({s[1] + ":" + s[3] for s in bad})) + ")"))
for n in sorted({s[1] for s in samples}):
    mine = [s for s in samples if s[1] == n]
    print("  %s RSS during the run: gate max %d KiB, REST max %d KiB" % (
        n, max(int(s[5]) for s in mine), max(int(s[7]) for s in mine)))
worst = 0
for line in sys.argv[2].splitlines():
    f = line.split()
    print("  %s peak since start (VmHWM): gate %s KiB, REST %s KiB" % (f[0], f[2], f[4]))
    worst = max(worst, int(f[2]), int(f[4]))
sys.exit(0 if not bad and worst < 64 * 1024 else 3)
EOF
verdict=$?
failed_with=$(summary with-hostile | awk '{print $7}')
[ "$verdict" = 0 ] && [ "${failed_with:-1}" = 0 ]
