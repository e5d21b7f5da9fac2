#!/usr/bin/env bash
# Removes what install.sh installed (keepalived's unit, the heartbeat check)
# and the keepalived.conf the supervisor rendered. Debian's keepalived package
# stays. No data.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit keepalived.service
rm -f /etc/keepalived/keepalived.conf /usr/local/lib/ha-supervisor/heartbeat-fresh
rmdir /usr/local/lib/ha-supervisor 2>/dev/null || true
rm -rf /run/keepalived
echo "keepalived unit removed"
