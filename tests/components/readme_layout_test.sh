#!/usr/bin/env bash
# README.md's Layout section and docs/adding-a-component.md against the tree:
# every folder under components/ is named in the Layout section, every driver
# in supervisor/loop/drivers.cpp and every entry of the component list
# (supervisor/loop/components.cpp) is named there too, and the walk-through's
# files of its example component exist. A component added or moved without
# its line in the README fails here.
#   usage: readme_layout_test.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
layout=$(awk '/^## Layout/ {on=1; next} on && /^## / {exit} on' "$src/README.md")
[ -n "$layout" ] || fail "README.md has no '## Layout' section"

for dir in "$src"/components/*/; do
  name=$(basename "$dir")
  grep -qw -- "$name" <<<"$layout" || fail "README's Layout section does not name components/$name"
done

# Drivers: the classes the driver list makes, each named (by its folder) in the Layout.
drivers=$(grep -o 'make_unique<[a-z]*::[A-Za-z]*Driver>' "$src/supervisor/loop/drivers.cpp" | sed 's/.*<\(.*\)>/\1/')
[ -n "$drivers" ] || fail "no driver found in supervisor/loop/drivers.cpp"
for d in $drivers; do
  header=$(grep -l "class ${d#*::} " "$src"/components/*/driver.hpp) || fail "no components/*/driver.hpp declares $d"
  folder=$(basename "$(dirname "$header")")
  grep -q "$folder.*driver\|driver.*$folder" <<<"$layout" || fail "README's Layout section does not name $folder's driver ($d)"
done

# The component list's names, as the status document shows them.
names=$(sed -n 's/^ *{"\([a-z]*\)", \[\](const Snapshot& s).*/\1/p' "$src/supervisor/loop/components.cpp")
[ "$(wc -w <<<"$names")" -ge 4 ] || fail "could not read the component list in supervisor/loop/components.cpp"
for n in $names; do
  grep -q "\"$n\"\|\b$n\b" <<<"$layout" || fail "README's Layout section does not name the component '$n'"
done

# The walk-through names real files.
doc="$src/docs/adding-a-component.md"
for f in $(grep -o '`components/syncthing/[a-z_.{},]*`\|`supervisor/[a-z_/]*\.\(cpp\|hpp\)`\|`scripts/provision-node`\|`tests/unit/[a-z_]*\.cpp`' "$doc" | tr -d '`' | sort -u); do
  case $f in
    *{*}*) base=${f%%\{*}; for ext in $(sed 's/.*{\(.*\)}/\1/' <<<"$f" | tr , ' '); do
             [ -e "$src/$base$ext" ] || fail "docs/adding-a-component.md names $base$ext, which does not exist"; done ;;
    */) [ -d "$src/$f" ] || fail "docs/adding-a-component.md names $f, which does not exist" ;;
    *) [ -e "$src/$f" ] || fail "docs/adding-a-component.md names $f, which does not exist" ;;
  esac
done
echo "README layout and docs/adding-a-component.md match the tree ($(wc -w <<<"$drivers") drivers, $(wc -w <<<"$names") components)"
