#!/usr/bin/env bash
# Removes ha-syncthing.service and its API key. Its home (/var/lib/ha-syncthing:
# the node's identity and index), its user and, once the REST service's user is
# gone too, the resources folder go with --data remove only.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
. "$here/../systemd/resources-owner"
remove_own_unit ha-syncthing.service
rm -rf /etc/ha-syncthing
[ "$data" = keep ] || rm -rf /var/lib/ha-syncthing
remove_resources_owner "$data" ha-syncthing /opt/manager/resources
echo "ha-syncthing removed (its identity and the files: $data)"
