#!/usr/bin/env bash
# Provisions one manager VM of the Vagrant demo with the repository's
# components/*/install.sh, in the order and with the options scripts/lab's
# provision_node gives a lab node. Runs as root in the VM (Vagrant's shell
# provisioner), after the "build" provisioner (scripts/setup, scripts/build).
#   provision-node.sh --src DIR --name N --address ADDR --priority P --vip CIDR
#                     --peer-network CIDR --secrets FILE --manager ADDR...
# --manager: every manager's address, this one's included (Consul's peers and
# the REST service's multi-host list, in this order).
set -euo pipefail
die() { echo "provision-node.sh: $*" >&2; exit 1; }
src='' name='' address='' priority='' vip='' peer_network='' secrets=''
managers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --src) src=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --address) address=$2; shift 2 ;;
    --priority) priority=$2; shift 2 ;;
    --vip) vip=$2; shift 2 ;;
    --peer-network) peer_network=$2; shift 2 ;;
    --secrets) secrets=$2; shift 2 ;;
    --manager) managers+=("$2"); shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
for v in src name address priority vip peer_network secrets; do
  [ -n "${!v}" ] || die "--${v//_/-} is required"
done
[ ${#managers[@]} -ge 2 ] || die "--manager: every manager's address (two or more)"
[ -r "$secrets" ] || die "$secrets is missing: the Vagrantfile's trigger writes it on the host before 'vagrant up'"

# The floating IP goes on the interface that holds this node's address (the
# private network's; Vagrant's NAT interface comes first).
interface=$(ip -o -4 addr show to "$address/32" | awk '{print $2; exit}')
[ -n "$interface" ] || die "no interface holds $address"

joins=() hosts="" ports=""
for m in "${managers[@]}"; do
  [ "$m" = "$address" ] || joins+=(--join "$m")
  hosts+="${hosts:+,}$m"; ports+="${ports:+,}5432"
done
password=$(sed -n 's/^manager=//p' "$secrets")
conninfo="host=$hosts port=$ports dbname=manager user=manager password=$password target_session_attrs=read-write connect_timeout=1"

"$src/components/consul/install.sh" --name "consul-$name" --bind "$address" --expect "${#managers[@]}" \
  "${joins[@]}" --consul-prefix "$src/.deps/consul"
"$src/components/keepalived/install.sh"
"$src/components/nginx/install.sh"
# PostgreSQL HA (Patroni): the supervisor renders patroni.yml and starts it.
"$src/components/patroni/install.sh" --secrets "$secrets"
# syncthing: the supervisor shares /opt/manager/resources with every node.
"$src/components/syncthing/install.sh" --listen "$address" --name "$name"
# The REST stand-in reaches the primary through libpq's multi-host list; on
# loopback, behind the upload gate on the node's address.
"$src/components/rest-service/install.sh" --db "$conninfo" --listen 127.0.0.1 --port 8200 \
  --consul-address "$address" --consul-port 8100 --bin-dir "$src/build/components/rest-service"
"$src/components/upload-gate/install.sh" --api-key-file /etc/ha-syncthing/api-key --listen "$address" \
  --port 8100 --upstream-port 8200 --folder-id ha-opt-manager-resources \
  --bin-dir "$src/build/components/upload-gate"
"$src/components/ha-supervisor/install.sh" --name "$name" --address "$address" \
  --bin-dir "$src/build/supervisor" --vip "$vip" --vip-interface "$interface" \
  --vip-priority "$priority" --nginx --db patroni --db-peer-network "$peer_network" --files
