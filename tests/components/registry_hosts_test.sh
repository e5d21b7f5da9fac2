#!/usr/bin/env bash
# The project names no package registry's or mirror's host: installs use the
# machine's own client settings. Checked two ways:
# - fetch-consul takes the Debian mirror from apt's sources (deb822 .sources and
#   one-line sources.list), whatever they say, and says so when there is none;
# - no file the repository tracks names a host that this machine's clients use
#   (apt's sources, go's GOPROXY/GOSUMDB, npm's and pip's indexes). The hosts are
#   read from the machine, so this test itself names none.
#   usage: registry_hosts_test.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch=$src/components/consul/fetch-consul

# deb822: the security and deb-src stanzas and a third party's suite are skipped;
# the first URI of the first Debian release stanza is taken, without its slash.
mkdir -p "$work/a/sources.list.d"
printf 'Types: deb\nURIs: http://third.invalid/node\nSuites: nodistro\nComponents: main\n' \
  >"$work/a/sources.list.d/0-third.sources"
printf '%s\n' 'Types: deb' 'URIs: http://security.invalid/debian-security' 'Suites: bookworm-security' '' \
  'Types: deb-src' 'URIs: http://src.invalid/debian' 'Suites: bookworm' '' \
  'Types: deb' 'URIs: http://mirror.invalid/debian/ http://second.invalid/debian' 'Suites: bookworm bookworm-updates' \
  >"$work/a/sources.list.d/debian.sources"
got=$(HA_APT_ETC=$work/a "$fetch" --print-mirror) || fail "fetch-consul found no mirror in deb822 sources"
[ "$got" = http://mirror.invalid/debian ] || fail "fetch-consul took '$got' from deb822 sources"

# One-line sources.list, with options in brackets and a commented-out line.
mkdir -p "$work/b"
printf '%s\n' '# deb http://commented.invalid/debian bookworm main' \
  'deb [signed-by=/k.gpg arch=amd64] http://updates.invalid/debian bookworm-updates main' \
  'deb [signed-by=/k.gpg] http://line.invalid/debian bookworm main' >"$work/b/sources.list"
got=$(HA_APT_ETC=$work/b "$fetch" --print-mirror) || fail "fetch-consul found no mirror in sources.list"
[ "$got" = http://line.invalid/debian ] || fail "fetch-consul took '$got' from sources.list"

# No Debian source at all: a clear error, exit 1.
mkdir -p "$work/c"
if err=$(HA_APT_ETC=$work/c "$fetch" --print-mirror 2>&1); then fail "fetch-consul invented a mirror: $err"; fi
case "$err" in *"no Debian mirror found"*) ;; *) fail "fetch-consul's error does not say what is missing: $err" ;; esac
echo "fetch-consul takes the machine's Debian mirror: ok"

# The hosts this machine's package clients use, from their own settings.
hosts=$( { grep -hoE '(URIs:|deb(-src)?( \[[^]]*\])?) +[a-z]+://[^ /]+' /etc/apt/sources.list \
             /etc/apt/sources.list.d/* 2>/dev/null || true
           command -v go >/dev/null && go env GOPROXY GOSUMDB 2>/dev/null
           command -v npm >/dev/null && timeout 5 npm config get registry 2>/dev/null
           command -v pip >/dev/null && timeout 5 pip config list 2>/dev/null
           printf '%s\n' "${PIP_INDEX_URL:-}" "${GOPROXY:-}"; } |
         grep -oE '[a-z]+://[^/ ,|"'"'"']+' | sed -E 's#^[a-z]+://##; s#^[^@]*@##; s#:[0-9]+$##' |
         grep -vE '^(localhost|127\.)' | sort -u || true)
[ -n "$hosts" ] || { echo "no package client settings readable here: the host check has nothing to look for (skipped)"; exit 0; }
cd "$src"
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then files=$(git ls-files); else files=$(find . -type f -not -path './build/*' -not -path './.deps/*'); fi
found=""
for h in $hosts; do
  hit=$(printf '%s\n' "$files" | grep -v '^\.git/' | xargs -r -d '\n' grep -lF -- "$h" 2>/dev/null || true)
  [ -z "$hit" ] || found+="$h in: $(echo $hit)"$'\n'
done
[ -z "$found" ] || fail "files name a package registry's host (use the machine's own client settings):"$'\n'"$found"
echo "no registry host named in the repository ($(echo "$hosts" | wc -l) hosts checked): ok"
