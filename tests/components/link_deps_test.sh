#!/usr/bin/env bash
# The one-way layering, checked on the binaries as built: hactl and
# ha-upload-gate must not need the supervisor's libraries (libpq, libsystemd;
# hactl also libconfig++: it asks ha-supervisor --print-api instead) nor carry
# the supervisor's loop or config code. The gate reads its own libconfig file,
# so libconfig++ is its own need. Two views: what CMake links (every target
# and library below each binary, tests/CMakeLists.txt; the linker's --as-needed
# would hide a wrong link in the binary until the code used it) and the binary
# itself (NEEDED entries, the functions it carries).
# Usage: link_deps_test.sh HACTL HACTL'S-LINKS GATE GATE'S-LINKS (comma-separated)
set -euo pipefail
hactl=$1 hactl_links=$2 gate=$3 gate_links=$4
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# Functions defined in the binary, demangled: what code it carries.
defined() { nm -C --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { $1 = ""; $2 = ""; print }'; }

check() {
  local binary=$1 links=$2 targets=$3 libraries=$4 namespaces=$5 libs code
  [ -x "$binary" ] || { fail "$binary is not built"; return; }
  tr ',' '\n' <<<"$links" | grep -x 'hasup_common' >/dev/null || fail "$(basename "$binary"): no hasup_common in its links ($links)"
  if tr ',' '\n' <<<"$links" | grep -Ex "$targets" >/dev/null; then
    fail "$(basename "$binary") links $(tr ',' '\n' <<<"$links" | grep -Ex "$targets" | tr '\n' ' ')"
  fi
  libs=$(needed "$binary")
  [ -n "$libs" ] || fail "$binary: readelf shows no NEEDED entries (is it dynamically linked?)"
  if grep -E "$libraries" <<<"$libs" >/dev/null; then
    fail "$(basename "$binary") needs $(grep -E "$libraries" <<<"$libs" | tr '\n' ' ')"
  fi
  code=$(defined "$binary")
  grep -q 'hasup::' <<<"$code" || fail "$binary: no hasup:: functions found (nm output changed?)"
  if grep -E "$namespaces" <<<"$code" >/dev/null; then
    fail "$(basename "$binary") carries supervisor code: $(grep -E "$namespaces" <<<"$code" | head -3 | tr '\n' ';')"
  fi
  echo "$(basename "$binary"): needs $(tr '\n' ' ' <<<"$libs")"
}

supervisor_side='hasup_(core|daemon|keepalived|nginx|patroni|postgres|stolon|systemd)|PostgreSQL::PostgreSQL|PkgConfig::LIBSYSTEMD|SDBusCpp::sdbus-c\+\+'
check "$hactl" "$hactl_links" "$supervisor_side|PkgConfig::LIBCONFIGXX|hasup_syncthing|hasup_upload_gate" '^lib(pq|systemd|config)' 'hasup::(loop|config|cluster|api|nginx|patroni|stolon|keepalived|postgres|syncthing)::'
check "$gate" "$gate_links" "$supervisor_side|hasup_cli" '^lib(pq|systemd)' 'hasup::(loop|config|cluster|api|cli|nginx|patroni|stolon|keepalived|postgres)::'
[ "$failures" -eq 0 ] || exit 1
echo "ok"
