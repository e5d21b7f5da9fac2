#!/usr/bin/env bash
# Removes the upload gate: its unit, binary, configuration, syncthing API key
# copy, its runtime directory (the write hold's acknowledgement: kept by a stop,
# RuntimeDirectoryPreserve=yes) and its user (it owns no other file). No data.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit ha-upload-gate.service
rm -rf /usr/local/bin/ha-upload-gate /usr/local/share/doc/ha-upload-gate /etc/ha-upload-gate /run/ha-upload-gate
if getent passwd ha-gate >/dev/null; then userdel ha-gate; fi
rmdir /usr/local/share/doc 2>/dev/null || true  # install.sh made it; gone if nothing else uses it
echo "ha-upload-gate removed"
