#!/usr/bin/env bash
# Benchmark of the planned switchover (hactl switchover) in the lab, under the
# upload workload through the floating IP (each upload a row in PostgreSQL and
# a file on the peers, 10 a second, each on its own connection).
#
#   usage: sudo bench/switchover_bench.sh [--runs N] [--pg patroni]   (default 10 runs)
#
# It brings a 3-node lab up (bench/lab_bench_up.sh) and takes it down on exit.
# Each run asks the node that is not primary for `hactl switchover` (to the
# synchronous standby it chooses), then waits 6 s. Per run it prints the steps
# as the supervisors timed them (hold, database, floating-ip) and, from the
# clients' side, the slowest upload under way during the switchover; at the end
# the medians and maxima, the uploads that failed (any answer but 201, or
# none), and those acknowledged but missing afterwards (read back, row and file).
# Writes pause from the hold's start to the database step's end; the floating
# IP's move after it drains (new connections wait ~1 s for the SYN's resend).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
runs=10 pg=patroni
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --pg) pg=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--pg patroni]" >&2; exit 2 ;;
  esac
done
if [ "$pg" != patroni ]; then
  echo "--pg $pg: hactl switchover drives Patroni's switchover only; stolon's commands are not built here (issue 13)" >&2
  exit 2
fi
. "$top/bench/lab_bench_up.sh"
vip=198.18.0.100
work=$(mktemp -d)
. "$top/tests/lab/db_checks.sh"
for _ in $(seq 300); do primary_node >/dev/null && break; sleep 0.2; done
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$work/uploads.jsonl" --seconds $((runs * 14 + 10)) \
  --rate 10 --prefix "bench-so-$RANDOM" --timeout 30 >/dev/null 2>&1 &
load=$!
sleep 5
: > "$work/runs"
for i in $(seq "$runs"); do
  p=$(primary_node) || { echo "run $i: no primary" >&2; break; }
  asker=n1; [ "$p" = n1 ] && asker=n2
  t0=$(date +%s%3N)
  said=$("$lab" exec "$asker" hactl switchover --timeout 60 2>&1); rc=$?
  t1=$(date +%s%3N)
  line=$(grep -E '^switchover so-[0-9a-f]+ to n[1-3]: (done|failed)' <<<"$said" | tail -1)
  echo "run $i: from $p: ${line:-no end seen (exit $rc)}"
  echo "$t0 $t1 $rc $line" >> "$work/runs"
  sleep 6
done
wait "$load"
"$lab" exec c1 "$top/scripts/lab.d/upload-workload" check "$work/uploads.jsonl" "http://$vip" > "$work/check" 2>&1
python3 - "$work/uploads.jsonl" "$work/runs" "$work/check" <<'PY'
import json, re, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = [l.split(" ", 3) for l in open(sys.argv[2]) if l.strip()]
check = open(sys.argv[3]).read()
def steps(text):
    return {name: int(ms) for name, ms in re.findall(r"(hold|database|floating-ip) (\d+) ms", text)}
paused, slowest, done = [], [], 0
for t0, t1, rc, *rest in runs:
    t0, t1 = int(t0), int(t1)
    line = rest[0] if rest else ""
    s = steps(line)
    if rc == "0" and "done" in line:
        done += 1
        paused.append(s.get("hold", 0) + s.get("database", 0))
    during = [r["end"] - r["start"] for r in rows if r["start"] < t1 and r["end"] > t0]
    if during:
        slowest.append(max(during))
failed = [r for r in rows if r["status"] != 201]
lost = re.search(r"checked (\d+) lost (\d+)", check)
def show(name, values):
    if values:
        print(f"{name}: median {statistics.median(values):.0f} ms, max {max(values)} ms over {len(values)} switchovers")
print(f"switchovers done: {done} of {len(runs)}")
show("writes held (hold + database steps, the supervisors' clock)", paused)
show("slowest upload under way during a switchover (the clients' clock)", slowest)
print(f"uploads: {len(rows)}, failed {len(failed)}" +
      "".join(f"\n  failed: {r['id']} status {r['status']} {r.get('error', '')[:80]}" for r in failed[:5]))
print(f"acknowledged uploads read back: {lost.group(1) if lost else '?'}, lost {lost.group(2) if lost else '?'}")
sys.exit(0 if done == len(runs) and not failed and lost and lost.group(2) == "0" else 1)
PY
