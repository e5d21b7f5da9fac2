# Sourced by the lab's tests: one way to name a check, time it and count it.
#   check NAME COMMAND...   PASS/FAIL with when it came (seconds since the
#                           start) and how long it took, so a slow run shows
#                           where the time went; a test may define
#                           on_failure_show_state to print the cluster then.
#   wait_for SECONDS COMMAND...   poll every 0.2 s until COMMAND succeeds.
started=$SECONDS passed=0 failed=0 failed_names=()
check() {
  local name=$1 t0=$SECONDS; shift
  if "$@"; then
    echo "PASS [$((SECONDS - started)) s, +$((SECONDS - t0)) s]: $name"; passed=$((passed + 1))
  else
    echo "FAIL [$((SECONDS - started)) s, +$((SECONDS - t0)) s]: $name"; failed=$((failed + 1))
    failed_names+=("$name")
    if declare -F on_failure_show_state >/dev/null; then on_failure_show_state; fi
  fi
}
wait_for() {
  local end=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
