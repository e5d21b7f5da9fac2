#!/usr/bin/env bash
# The fault suite's short schedule in CI (scripts/chaos): a lab of its own,
# HA_CHAOS_MINUTES (3) of seeded random faults under the workload, and a
# failure on any checker finding (an acknowledged upload or commit lost, two
# primaries, two IP holders, a recovery past its bound, a cluster that did not
# come back). The seed is fixed so a failure replays: HA_CHAOS_SEED changes it.
# Then, on the same lab, a short schedule of disk-full alone (the seeded one
# may not draw it within its minutes): the checker again, and the primary's
# full filesystem must have been met by the leader's switchover away from it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lab/own_lab_or_skip.sh"
lab="$top/scripts/lab"
seed=${HA_CHAOS_SEED:-2026}
out="$top/.run/chaos/ci-$seed"
rm -rf "$out" "$out-disk-full"
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
  "$lab" down >/dev/null
else
  echo "FAIL: scripts/chaos --keep-lab left no lab up"
  rc=1
fi
echo "history: $out/history.jsonl, $out-disk-full/history.jsonl; replay: sudo scripts/chaos --minutes ${HA_CHAOS_MINUTES:-3} --seed $seed"
exit $rc
