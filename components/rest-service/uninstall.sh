#!/usr/bin/env bash
# Removes rest-standin: its unit, binary, options and database conninfo, and
# its Consul service definition. Its user and, once syncthing's is gone too,
# the uploaded files (/opt/manager/resources) go with --data remove only.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
. "$here/../systemd/resources-owner"
remove_own_unit rest-standin.service
rm -rf /usr/local/bin/rest-standin /usr/local/share/doc/rest-standin /etc/rest-standin /etc/consul.d/rest-service.json
remove_resources_owner "$data" rest-standin /opt/manager/resources
rmdir /usr/local/share/doc 2>/dev/null || true  # install.sh made it; gone if nothing else uses it
echo "rest-standin removed (the uploaded files: $data)"
