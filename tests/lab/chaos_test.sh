#!/usr/bin/env bash
# The fault suite's short schedule in CI (scripts/chaos): a lab of its own,
# HA_CHAOS_MINUTES (3) of seeded random faults under the workload, and a
# failure on any checker finding (an acknowledged upload or commit lost, two
# primaries, two IP holders, a recovery past its bound, a cluster that did not
# come back). The seed is fixed so a failure replays: HA_CHAOS_SEED changes it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lab/own_lab_or_skip.sh"
seed=${HA_CHAOS_SEED:-2026}
out="$top/.run/chaos/ci-$seed"
rm -rf "$out"
"$top/scripts/chaos" --minutes "${HA_CHAOS_MINUTES:-3}" --seed "$seed" --out "$out"
rc=$?
# A lab the run could not take down would stop the next lab test: say so.
[ ! -e "$top/.run/lab/nodes" ] || { echo "FAIL: the lab is still up after scripts/chaos"; "$top/scripts/lab" down; rc=1; }
echo "history: $out/history.jsonl; replay: sudo scripts/chaos --minutes ${HA_CHAOS_MINUTES:-3} --seed $seed"
exit $rc
