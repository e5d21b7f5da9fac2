#!/usr/bin/env bash
# hactl --config FILE: the API address comes from the file as the
# ha-supervisor beside hactl reads it (hactl has no config parser of its own).
# Nothing listens on 127.0.0.1:1, so hactl must say it cannot reach exactly
# that address (exit 3); a broken file gives the file's errors (exit 2).
# Usage: hactl_config_test.sh HACTL
set -euo pipefail
hactl=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# hactl --config FILE health: its exit status in $status, its words in $out.
health_with() {
  set +e
  out=$("$hactl" --config "$1" health 2>&1)
  status=$?
  set -e
}

cat >"$dir/good.conf" <<'CONF'
node: { name = "n1"; address = "127.0.0.1"; };
api: { listen = "127.0.0.1"; port = 1; };
CONF
health_with "$dir/good.conf"
[ "$status" -eq 3 ] || fail "good config: exit $status, wanted 3 (unreachable): $out"
grep -q 'cannot reach the supervisor at 127.0.0.1:1:' <<<"$out" || fail "good config: not the file's address: $out"

printf 'node: { name = "N 1"; address = "127.0.0.1"; };\napi: { port = 70000; };\n' >"$dir/bad.conf"
health_with "$dir/bad.conf"
[ "$status" -eq 2 ] || fail "bad config: exit $status, wanted 2: $out"
grep -q "bad.conf:1" <<<"$out" || fail "bad config: no error at bad.conf:1: $out"
grep -q "bad.conf:2" <<<"$out" || fail "bad config: no error at bad.conf:2: $out"

health_with "$dir/missing.conf"
[ "$status" -eq 2 ] || fail "missing config: exit $status, wanted 2: $out"
grep -q "missing.conf" <<<"$out" || fail "missing config: the file is not named: $out"
[ "$failures" -eq 0 ] || exit 1
echo "ok"
