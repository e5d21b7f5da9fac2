#!/usr/bin/env bash
# Uploads right after `lab up`: what a user who starts at once gets. Each run
# brings a fresh lab up, then uploads 64 KB archives back to back from the
# client c1 through the floating IP for SECONDS (each with a 30 s timeout),
# and counts the uploads that got no 201 or took longer than 5 s.
#
#   sudo bench/uploads_after_up.sh [--runs N] [--seconds S]   (defaults 3, 45)
#
# Prints one line per run, each failed or slow upload with its time and
# curl's words, and the totals. Refuses a lab already up in this checkout.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
runs=3 seconds=45
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?--runs N}; shift 2 ;;
    --seconds) seconds=${2:?--seconds S}; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--seconds S]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (the lab): sudo $0" >&2; exit 1; }
[ -e "$top/.run/lab/nodes" ] && { echo "a lab is already up in this checkout: run scripts/lab down first" >&2; exit 1; }
trap '"$lab" down >/dev/null 2>&1' EXIT
total=0 bad=0
for run in $(seq "$runs"); do
  "$lab" down >/dev/null 2>&1
  up=$("$lab" up 2>&1) || { printf '%s\n' "$up" | tail -5; echo "run $run: lab up failed" >&2; exit 1; }
  out=$("$lab" exec c1 bash -s "$seconds" "$run" <<'RUN'
seconds=$1 run=$2 end=$((SECONDS + $1)) i=0 bad=0
body=$(mktemp); trap 'rm -f "$body"' EXIT
head -c 65536 /dev/urandom >"$body"
while [ $SECONDS -lt $end ]; do
  i=$((i + 1))
  at=$(date -u +%T)
  answer=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 -X PUT --data-binary @"$body" \
    "http://198.18.0.100/api/v3.1/blueprints/after-up-$run-$i" 2>&1)
  code=${answer%% *} took=${answer##* }
  if [ "$code" != 201 ] || [ "${took%%.*}" -ge 5 ]; then
    echo "  $at upload $i: $answer"; bad=$((bad + 1))
  fi
done
echo "uploads $i bad $bad"
RUN
)
  printf '%s\n' "$out" | grep '^  '
  counts=$(printf '%s\n' "$out" | tail -1)
  read -r _ n _ b <<<"$counts"
  total=$((total + n)) bad=$((bad + b))
  echo "run $run: lab up $(printf '%s\n' "$up" | sed -n 's/^lab up in //p'), then $n uploads in $seconds s, $b without a 201 within 5 s"
done
echo "uploads_after_up: $runs runs, $total uploads, $bad without a 201 within 5 s ($(date -u +%Y-%m-%d))"
