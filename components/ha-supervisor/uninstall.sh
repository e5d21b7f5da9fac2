#!/usr/bin/env bash
# Removes ha-supervisor: its unit (stopped first, so it starts nothing while
# the other components go), binaries, templates, /etc/ha-supervisor and its
# runtime files, and the kernel filters it loaded (every nft table named
# ha_supervisor_*: the VRRP filter, the dead peers', the members-only ports').
# Its memory of the cluster's nodes (/var/lib/ha-supervisor) goes with
# --data remove only.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit ha-supervisor.service
rm -rf /usr/local/bin/ha-supervisor /usr/local/bin/hactl /usr/local/share/ha-supervisor \
  /etc/ha-supervisor /run/ha-supervisor
if command -v nft >/dev/null; then
  nft list tables ip 2>/dev/null | awk '$3 ~ /^ha_supervisor_/ { print $3 }' |
    while read -r table; do nft delete table ip "$table"; done
fi
[ "$data" = keep ] || rm -rf /var/lib/ha-supervisor
echo "ha-supervisor removed (its state: $data)"
