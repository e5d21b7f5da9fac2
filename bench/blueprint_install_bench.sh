#!/usr/bin/env bash
# The lab provisioned two ways, side by side: scripts/lab's own provisioning
# (provision-node in each node, in parallel) and Cloudify's install workflow
# running blueprints/ha-manager-blueprint.yaml (scripts/lab up --via-blueprint).
# Each run: lab up, then lab down, each way; prints, per way, the time from the
# nodes booted to every node provisioned, and to the lab up (IP answering,
# supervisors healthy, REST writable, files in sync), as median and max.
#   usage: sudo bench/blueprint_install_bench.sh [--runs N]   (default 3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
runs=3
[ "${1:-}" = --runs ] && runs=$2
[ ! -e "$top/.run/lab/nodes" ] || { echo "a lab is up: run scripts/lab down first" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"; "$lab" down >/dev/null 2>&1 || true' EXIT
for i in $(seq "$runs"); do
  for way in own blueprint; do
    opt=(); [ "$way" = own ] || opt=(--via-blueprint)
    "$lab" up "${opt[@]}" >/dev/null 2>&1 || { echo "lab up ${opt[*]} failed (run $i)" >&2; exit 1; }
    awk '{ t[$1] = $2 } END { printf "%.1f %.1f\n", t["provisioned"] - t["booted"], t["up"] - t["booted"] }' \
      "$top/.run/lab/timings" >>"$out/$way"
    "$lab" down >/dev/null
  done
done
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f / %.1f", v[int((NR + 1) / 2)], v[NR] }'; }
printf '%-34s %-26s %s\n' "provisioned by ($runs runs)" "booted -> provisioned (s)" "booted -> lab up (s)"
for way in own blueprint; do
  name="scripts/lab (provision-node)"; [ "$way" = own ] || name="Cloudify's install workflow"
  printf '%-34s %-26s %s\n' "$name" "$(cut -d' ' -f1 "$out/$way" | stats)" "$(cut -d' ' -f2 "$out/$way" | stats)"
done
echo "(median / max)"
