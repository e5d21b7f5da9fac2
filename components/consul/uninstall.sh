#!/usr/bin/env bash
# Removes what install.sh installed: consul.service, consul-acl-setup.service,
# Consul under /opt/consul, /etc/consul.d (its keys and the ACL tokens), the CLI
# wrapper and the CA copy. Consul's Raft data (/var/lib/consul) goes with
# --data remove only.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit consul-acl-setup.service
remove_own_unit consul.service
rm -rf /etc/consul.d /opt/consul /usr/local/lib/ha-consul /usr/local/bin/consul /etc/ssl/ha-consul-ca.pem
[ "$data" = keep ] || rm -rf /var/lib/consul
echo "consul removed (its data: $data)"
