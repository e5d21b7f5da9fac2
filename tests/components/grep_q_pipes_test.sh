#!/usr/bin/env bash
# No shell code in the repository pipes into `grep -q`. grep -q exits at its
# first match; under `set -o pipefail` the writer, if it still has lines to
# write (nft, hactl and curl write in pieces), dies of SIGPIPE and the whole
# pipeline fails although the text matched. A lab run failed so once (n1's
# members-only counter was there, the check said it was not). Write
# `... | grep PATTERN >/dev/null` instead: grep then reads to the end.
# The rule is kept everywhere, in `bash -c` strings too, so code can move
# between them. First the rule's own pattern is checked on known lines.
#   usage: grep_q_pipes_test.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
pipe_into_grep_q='(^|[^|])\|[[:space:]]*grep[[:space:]]+-[A-Za-z]*q'

for bad in 'nft list table x | grep -q y' 'a |grep -qE "b"' 'a | grep -Eqx b'; do
  grep -Eq -- "$pipe_into_grep_q" <<<"$bad" || fail "the pattern misses: $bad"
done
for good in 'nft list table x | grep y >/dev/null' 'a || grep -q b file' 'grep -q b file | cat'; do
  if grep -Eq -- "$pipe_into_grep_q" <<<"$good"; then fail "the pattern flags a good line: $good"; fi
done

# The same pipe continued on the next line (`... |`, then `grep -q ...`):
# FILE:LINE: TEXT of each. A lab run's check failed so (cold start, round 4:
# journalctl's output cut off by grep -q, "nobody" found that had written).
continued_into_grep_q() {
  perl -ne 'print "$ARGV:$.: $_" if $prev =~ /(^|[^|])\|\s*$/ && /^\s*grep\s+-[A-Za-z]*q/;
            $prev = $_; if (eof) { close ARGV; $prev = "" }' "$@"
}
examples=$(mktemp -d)
trap 'rm -rf "$examples"' EXIT
printf 'journalctl -b |\n    grep -q x && echo n1\n' >"$examples/bad"
printf 'a ||\n  grep -q b file\nc |\n  grep d >/dev/null\n' >"$examples/good"
[ -n "$(continued_into_grep_q "$examples/bad")" ] || fail "a pipe continued into grep -q is missed"
[ -z "$(continued_into_grep_q "$examples/good")" ] || fail "the continued-pipe rule flags a good line"

cd "$src"
# Every tracked file that is shell: by name, or by its first line.
shell_files=()
while IFS= read -r f; do
  case "$f" in
    tests/components/grep_q_pipes_test.sh) ;;  # its examples
    *.sh) shell_files+=("$f") ;;
    *.md|*.py|*.cpp|*.hpp|*.txt|*.json|*.yaml|*.conf|*.in|*.tmpl|*.mustache) ;;
    *) [ -f "$f" ] && head -c 64 "$f" | head -1 | grep -E '^#!.*\b(ba)?sh\b' >/dev/null && shell_files+=("$f") ;;
  esac
done < <(git ls-files)
[ "${#shell_files[@]}" -gt 20 ] || fail "found only ${#shell_files[@]} shell files: is $src a git checkout?"
if found=$(grep -nE -- "$pipe_into_grep_q" "${shell_files[@]}"); then
  fail "pipes into grep -q (use '| grep PATTERN >/dev/null'):
$found"
fi
if found=$(continued_into_grep_q "${shell_files[@]}") && [ -n "$found" ]; then
  fail "pipes into grep -q on a continued line (use '| grep PATTERN >/dev/null'):
$found"
fi
echo "ok: ${#shell_files[@]} shell files, none pipes into grep -q"
