#!/usr/bin/env bash
# Removes ha-nginx.service and the configuration the supervisor rendered;
# Debian's nginx.service, if install.sh turned it off, is turned on again by
# scripts/unprovision-node once everything is removed. Its logs
# (/var/log/ha-nginx) go with --data remove.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit ha-nginx.service
rm -rf /etc/ha-supervisor/nginx /run/ha-nginx
[ "$data" = keep ] || rm -rf /var/log/ha-nginx
echo "ha-nginx removed (its logs: $data)"
