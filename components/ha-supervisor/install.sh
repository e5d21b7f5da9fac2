#!/usr/bin/env bash
# Installs ha-supervisor on a manager node: binaries, config, systemd unit.
# Used as is by the lab, the Vagrant demo and the Cloudify blueprint.
#   install.sh --name N --address ADDR [--consul-port P] [--consul-ca-file F] [--token-file F]
#              [--api-port P] [--bin-dir DIR] [--root DIR] [--no-enable]
#              [--vip CIDR --vip-interface IF --vip-priority P [--vrid ID]]
#              [--watch-units UNIT,UNIT...] [--nginx [--nginx-port P]]
#              [--db patroni|stolon --db-peer-network CIDR] [--files [--folders PATHS]]
#              [--members-only PORTS] [--broker] [--rest-conninfo CONNINFO]
#              [--durability available|strict]
# --nginx: the supervisor renders nginx's config from Consul's passing
# rest-service instances and runs ha-nginx.service (components/nginx/install.sh).
# --db patroni: the supervisor renders patroni.yml and runs ha-patroni.service
# (components/patroni/install.sh first), follows the database's state in
# Consul and probes the local endpoint; --db-peer-network goes into pg_hba.
# --files: the supervisor keeps syncthing (components/syncthing/install.sh
# first) sharing the folders (default /opt/manager/resources) with every node.
# --consul-port, --consul-ca-file: the local agent's API, HTTPS checked against
# that CA as components/consul/install.sh sets it up (8501,
# /etc/ssl/ha-consul-ca.pem); --consul-ca-file '' for an agent on plain HTTP.
# --broker: the supervisor renders rabbitmq.conf, runs ha-rabbitmq.service and
# clusters the brokers through Consul (components/rabbitmq/install.sh first).
# --rest-conninfo: the REST service's connection string without user= or
# password= (hosts, database, timeouts): at a rotation of the manager's
# database login (hactl rotate db-password) the supervisor writes it, with the
# login in force, into /etc/rest-standin/db and reloads rest-standin.service.
# --durability: the appliance's one durability rule (cluster.durability, default
# available); give the upload gate the same (its install.sh --durability).
# --members-only PORTS: only the cluster's nodes may connect to these TCP ports
# on this node (the upload gate's: components/members-only).
# --bin-dir: where the built ha-supervisor and hactl are (default: build/supervisor
# of this checkout). --root: install under DIR instead of / (for tests and images).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name= address= consul_port=8501 consul_ca_file=/etc/ssl/ha-consul-ca.pem token_file= api_port=8801 root= enable=1 members_only=
vip= vip_interface=eth0 vip_priority=100 vrid=51 watch_units=consul.service nginx=0 nginx_port=80
db=none db_peer_network= files=0 folders=/opt/manager/resources broker=0 rest_conninfo= durability=available
bin_dir="$here/../../build/supervisor"
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --address) address=$2; shift 2 ;;
    --consul-port) consul_port=$2; shift 2 ;;
    --consul-ca-file) consul_ca_file=$2; shift 2 ;;
    --members-only) members_only=$2; shift 2 ;;
    --token-file) token_file=$2; shift 2 ;;
    --api-port) api_port=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    --vip) vip=$2; shift 2 ;;
    --vip-interface) vip_interface=$2; shift 2 ;;
    --vip-priority) vip_priority=$2; shift 2 ;;
    --vrid) vrid=$2; shift 2 ;;
    --watch-units) watch_units=$2; shift 2 ;;
    --nginx) nginx=1; shift ;;
    --nginx-port) nginx_port=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --db-peer-network) db_peer_network=$2; shift 2 ;;
    --files) files=1; shift ;;
    --broker) broker=1; shift ;;
    --rest-conninfo) rest_conninfo=$2; shift 2 ;;
    --folders) folders=$2; shift 2 ;;
    --durability) durability=$2; shift 2 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$name" ] && [ -n "$address" ] || { echo "install.sh: --name and --address are required" >&2; exit 2; }
case "$durability" in available|strict) ;; *) echo "install.sh: --durability takes available or strict" >&2; exit 2 ;; esac
case "$rest_conninfo" in
  *[\"\\]*|*$'\n'*) echo "install.sh: --rest-conninfo cannot hold a quote, a backslash or a newline" >&2; exit 2 ;;
esac
for b in ha-supervisor hactl; do
  [ -x "$bin_dir/$b" ] || { echo "install.sh: $bin_dir/$b not found: build first (scripts/build)" >&2; exit 1; }
done

install -d "$root/usr/local/bin" "$root/etc/ha-supervisor" "$root/etc/systemd/system" \
  "$root/usr/local/share/ha-supervisor/templates"
install -m 0755 "$bin_dir/ha-supervisor" "$bin_dir/hactl" "$root/usr/local/bin/"
install -m 0644 "$here"/../../templates/*.mustache "$root/usr/local/share/ha-supervisor/templates/"
conf="$root/etc/ha-supervisor/ha-supervisor.conf"
{
  echo "# Written by components/ha-supervisor/install.sh; every key: ha-supervisor --help-config"
  echo "node: { name = \"$name\"; address = \"$address\"; };"
  echo "cluster: { durability = \"$durability\"; };"
  consul="host = \"127.0.0.1\"; port = $consul_port;"
  [ -z "$consul_ca_file" ] || consul+=" ca_file = \"$consul_ca_file\";"
  [ -z "$token_file" ] || consul+=" token_file = \"$token_file\";"
  echo "consul: { $consul };"
  echo "api: { listen = \"127.0.0.1\"; port = $api_port; };"
  echo "systemd: { watch_units = \"$watch_units\"; };"
  if [ -n "$vip" ]; then
    echo "vip: { address = \"$vip\"; interface = \"$vip_interface\"; priority = $vip_priority;"
    echo "       virtual_router_id = $vrid; };"
  fi
  if [ "$nginx" = 1 ]; then
    echo "nginx: { enabled = true; listen_port = $nginx_port; };"
  fi
  if [ "$db" != none ]; then
    rest=''
    [ -z "$rest_conninfo" ] || rest=" rest_conninfo_file = \"/etc/rest-standin/db\"; rest_conninfo = \"$rest_conninfo\";"
    echo "db: { backend = \"$db\"; peer_network = \"$db_peer_network\";$rest };"
  fi
  if [ "$files" = 1 ]; then
    echo "files: { enabled = true; folders = \"$folders\"; };"
  fi
  # A crashed peer's connections fail at once, not after a timeout (components/dead-peers).
  echo "dead_peers: { enabled = true; };"
  if [ "$broker" = 1 ]; then
    echo "broker: { enabled = true; };"
  fi
  if [ -n "$members_only" ]; then
    echo "members_only: { enabled = true; ports = \"$members_only\"; };"
  fi
} >"$conf.new"
chmod 0640 "$conf.new"
mv "$conf.new" "$conf"
"$root/usr/local/bin/ha-supervisor" --check-config "$conf" >/dev/null
install -m 0644 "$here/ha-supervisor.service" "$root/etc/systemd/system/ha-supervisor.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/ha-supervisor.service.d/05-hardening.conf"
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now ha-supervisor.service
fi
echo "ha-supervisor installed for node $name ($address)"
