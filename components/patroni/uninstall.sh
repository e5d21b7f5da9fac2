#!/usr/bin/env bash
# Removes ha-patroni.service, its scripts, its rendered configuration and the
# cluster's secrets copy. The database (/var/lib/ha-patroni) and Patroni's logs
# go with --data remove only. The Patroni of .deps/ is the checkout's.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit ha-patroni.service
rm -rf /usr/local/lib/ha-patroni /etc/ha-supervisor/patroni /etc/ha-supervisor/db-secrets /run/ha-patroni
[ "$data" = keep ] || rm -rf /var/lib/ha-patroni /var/log/ha-patroni
echo "ha-patroni removed (the database: $data)"
