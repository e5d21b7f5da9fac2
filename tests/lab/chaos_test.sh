#!/usr/bin/env bash
# The fault suite's short schedule in CI (scripts/chaos): a lab of its own,
# HA_CHAOS_MINUTES (3) of seeded random faults under the workload, and a
# failure on any checker finding (an acknowledged upload or commit lost, two
# primaries, two IP holders, a recovery past its bound, a cluster that did not
# come back). The seed is fixed so a failure replays: HA_CHAOS_SEED changes it.
# Then, on the same lab, short schedules of disk-full alone and of files-full
# alone (the seeded one may not draw them within its minutes): the checker
# again, and each must have been met: the primary's full database filesystem
# by the leader's switchover away from it, the IP holder's full files
# filesystem by the floating IP leaving it while the fault held.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lab/own_lab_or_skip.sh"
lab="$top/scripts/lab"
seed=${HA_CHAOS_SEED:-2026}
out="$top/.run/chaos/ci-$seed"
rm -rf "$out" "$out-disk-full" "$out-files-full"
"$top/scripts/chaos" --minutes "${HA_CHAOS_MINUTES:-3}" --seed "$seed" --out "$out" --keep-lab
rc=$?
if [ -e "$top/.run/lab/nodes" ]; then
  "$top/scripts/chaos" --minutes 0.5 --seed "$seed" --faults disk-full --out "$out-disk-full" || rc=1
  # The last switchover, as every node reads it from Consul.
  last=$("$lab" exec "$(sed -n 1p "$top/.run/lab/nodes")" hactl status --json 2>/dev/null |
    python3 -c 'import json,sys; l=json.load(sys.stdin)["self"].get("switchover",{}).get("last",{}); print(l.get("phase",""), "|", l.get("requested_by",""), "|", l.get("outcome",""))' 2>&1)
  case "$last" in
    "done | supervisor@"*"'s database filesystem is full |"*) echo "ok: the full primary was switched over by the leader ($last)" ;;
    *) echo "FAIL: no switchover away from the primary whose filesystem was full: the last one is: $last"; rc=1 ;;
  esac
  "$top/scripts/chaos" --minutes 0.5 --seed "$seed" --faults files-full --out "$out-files-full" || rc=1
  # Each files-full that ran: the IP sampled on another node (alone) before its
  # heal; and the uploads the full node refused said why (507, never 500).
  python3 - "$out-files-full/history.jsonl" <<'PY' || rc=1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
faults = [l for l in lines if l["type"] == "fault" and l["kind"] == "files-full" and not l.get("skipped")]
vip = [(l["t"], l["holders"]) for l in lines if l["type"] == "vip"]
if not faults:
    sys.exit("FAIL: files-full never ran")
for f in faults:
    moved = [t for t, h in vip if f["inject_ms"] <= t <= f["heal_ms"] and h and f["target"] not in h]
    if not moved:
        sys.exit(f"FAIL: step {f['step']}: the floating IP stayed on {f['target']}, whose files filesystem was full")
    print(f"ok: step {f['step']}: the IP left {f['target']} {(moved[0] - f['inject_ms']) / 1000:.1f} s after its files filesystem was filled")
held = [l for l in lines if l["type"] == "upload" and any(f["inject_ms"] <= l["start"] <= f["heal_ms"] for f in faults)]
statuses = sorted({l["status"] for l in held if l["status"] not in (200, 201)})
if 500 in statuses or 507 not in statuses:
    sys.exit(f"FAIL: uploads refused by a full node should be 507 Insufficient Storage; seen: {statuses}")
print(f"ok: uploads refused while full: HTTP {statuses}")
PY
  "$lab" down >/dev/null
else
  echo "FAIL: scripts/chaos --keep-lab left no lab up"
  rc=1
fi
echo "history: $out/history.jsonl, $out-disk-full/history.jsonl, $out-files-full/history.jsonl; replay: sudo scripts/chaos --minutes ${HA_CHAOS_MINUTES:-3} --seed $seed"
exit $rc
