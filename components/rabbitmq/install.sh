#!/usr/bin/env bash
# Installs ha-rabbitmq on a manager node: Debian's rabbitmq-server run by our
# own unit, which ha-supervisor starts once it has rendered rabbitmq.conf
# (templates/rabbitmq.conf.mustache), and clusters through Consul: the first
# node's broker founds the cluster, every other one joins it
# (ha-rabbitmq-join@.service), a node forgotten for good is removed
# (ha-rabbitmq-forget@.service).
#   install.sh --address ADDR --secrets FILE [--quorum-queues NAME,NAME...]
#              [--root DIR] [--no-enable]
# --address: this node's address; the broker's node name is rabbit@ADDR (long
#   names: no host name resolution between the nodes).
# Its files are in /etc/ha-rabbitmq (Debian's /etc/rabbitmq stays as the
# package left it): rabbitmq-env.conf, which the units name and rabbitmqctl
# reads too, enabled_plugins, definitions.json, and rabbitmq.conf, which the
# supervisor writes.
# --secrets: the cluster's secrets file (components/patroni/generate-secrets):
#   rabbitmq_cookie (the Erlang cookie: the same on every node, or the nodes
#   cannot talk), rabbitmq_manager (the manager's AMQP user, "manager") and
#   rabbitmq_supervisor (ha-supervisor's read-only user of the management
#   API). They reach the broker as files: the cookie in the rabbitmq user's
#   home (0400), the users as salted hashes in its definitions (0640); the
#   supervisor's password as a root-only file. None is an argument or printed.
# --quorum-queues: the manager's durable queues, declared as quorum queues
#   (replicated by Raft on every member) at each start (default:
#   cloudify.management).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
address= secrets= quorum_queues=cloudify.management root= enable=1
while [ $# -gt 0 ]; do
  case "$1" in
    --address) address=$2; shift 2 ;;
    --secrets) secrets=$2; shift 2 ;;
    --quorum-queues) quorum_queues=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
fail() { echo "install.sh: $*" >&2; exit 2; }
[[ "$address" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || fail "--address must be this node's IPv4 address (got '$address')"
[[ "$quorum_queues" =~ ^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$ ]] ||
  fail "--quorum-queues: queue names (letters, digits, . _ -), comma-separated (got '$quorum_queues')"
[ -r "$secrets" ] || fail "--secrets: the cluster's secrets file is required and readable (got '$secrets')"
[ -x "$root/usr/lib/rabbitmq/bin/rabbitmq-server" ] || {
  echo "install.sh: rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2; exit 1; }
getent passwd rabbitmq >/dev/null || fail "the rabbitmq user is missing (Debian's rabbitmq-server package makes it)"
secret() {
  local value
  value=$(sed -n "s/^$1=//p" "$secrets")
  [ -n "$value" ] || fail "$secrets has no $1= line (components/patroni/generate-secrets --add-missing $secrets adds it)"
  printf '%s' "$value"
}
cookie=$(secret rabbitmq_cookie)
[[ "$cookie" =~ ^[A-Za-z0-9]{32,255}$ ]] || fail "$secrets: rabbitmq_cookie must be 32-255 letters and digits"
secret rabbitmq_manager >/dev/null
secret rabbitmq_supervisor >/dev/null

# Debian's own unit would start a second broker on the same node name and data.
[ -n "$root" ] || disable_foreign_unit rabbitmq-server.service "ha-rabbitmq.service runs the broker"

own="$root/etc/ha-rabbitmq" lib="$root/usr/local/lib/ha-rabbitmq" home="$root/var/lib/rabbitmq"
install -d -m 0755 "$lib"
install -d -m 0750 -g rabbitmq "$own"
install -d -m 0750 -o rabbitmq -g rabbitmq "$home"
# The node name and the files, read by the server and by every rabbitmqctl.
cat >"$own/rabbitmq-env.conf" <<ENV
NODENAME=rabbit@$address
USE_LONGNAME=true
CONFIG_FILE=/etc/ha-rabbitmq/rabbitmq.conf
ENABLED_PLUGINS_FILE=/etc/ha-rabbitmq/enabled_plugins
ADVANCED_CONFIG_FILE=/etc/ha-rabbitmq/advanced.config
ENV
printf '[rabbitmq_management].\n' >"$own/enabled_plugins"
# A peer that crashed is seen down when its Erlang connection fails. The
# supervisor's dead-peers table resets at once a connection this node opened
# to it, but one the crashed node had opened waits for the tick: 60 s by
# default, measured in the lab as a 62 s publish stall on a quorum queue whose
# leader had crashed. 10 s (a tick every 2.5 s, down after 7.5-12.5 s) on a LAN.
printf '[{kernel, [{net_ticktime, 10}]}].\n' >"$own/advanced.config"
chmod 0644 "$own/rabbitmq-env.conf" "$own/enabled_plugins" "$own/advanced.config"
# The cookie, where the server and rabbitmqctl (as the rabbitmq user) read it.
# A change of it leaves a node unable to reach the others (the supervisor
# reports it by the fingerprint below); it never wipes data. The package's
# own cookie is kept aside for uninstall.sh --data remove.
if [ -f "$home/.erlang.cookie" ] && [ ! -e "$home/.erlang.cookie.debian" ] &&
   [ "$(cat "$home/.erlang.cookie")" != "$cookie" ]; then
  cp -p "$home/.erlang.cookie" "$home/.erlang.cookie.debian"
fi
(umask 077; printf '%s' "$cookie" >"$home/.erlang.cookie.new")
chown rabbitmq:rabbitmq "$home/.erlang.cookie.new"
chmod 0400 "$home/.erlang.cookie.new"
mv -f "$home/.erlang.cookie.new" "$home/.erlang.cookie"
# What the supervisor publishes to compare cookies across nodes: a hash, never the cookie.
printf '%s' "$cookie" | sha256sum | cut -c1-16 >"$own/cookie-fingerprint"
chmod 0644 "$own/cookie-fingerprint"
(umask 077; secret rabbitmq_supervisor >"$own/supervisor-password")
# Users as salted SHA-256 hashes (RabbitMQ's rabbit_password_hashing_sha256),
# the quorum queues, and nothing else: imported at every start of the broker.
(umask 027
 /usr/bin/python3 - "$own/definitions.json.new" "$quorum_queues" 3<<<"$(secret rabbitmq_manager)" \
   4<<<"$(secret rabbitmq_supervisor)" <<'PY'
import base64, hashlib, json, os, sys
path, queues = sys.argv[1], sys.argv[2].split(",")
def hashed(fd):
    password = os.fdopen(fd).read().rstrip("\n").encode()
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password).digest()).decode()
algorithm = "rabbit_password_hashing_sha256"
definitions = {
    "users": [
        {"name": "manager", "password_hash": hashed(3), "hashing_algorithm": algorithm, "tags": []},
        {"name": "ha-supervisor", "password_hash": hashed(4), "hashing_algorithm": algorithm, "tags": ["monitoring"]},
    ],
    "vhosts": [{"name": "/"}],
    "permissions": [{"user": "manager", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
                    # ha-supervisor's: none, but a vhost it may list (the queues' members and leaders).
                    {"user": "ha-supervisor", "vhost": "/", "configure": "^$", "write": "^$", "read": "^$"}],
    "queues": [{"name": q, "vhost": "/", "durable": True, "auto_delete": False,
                "arguments": {"x-queue-type": "quorum"}} for q in queues],
}
with open(path, "w") as f:
    json.dump(definitions, f, indent=1)
PY
)
chgrp rabbitmq "$own/definitions.json.new"
mv -f "$own/definitions.json.new" "$own/definitions.json"
install -m 0755 "$here/broker-join" "$here/broker-forget" "$lib/"
for unit in ha-rabbitmq.service ha-rabbitmq-join@.service ha-rabbitmq-forget@.service; do
  install -D -m 0644 "$here/$unit" "$root/etc/systemd/system/$unit"
done
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  # Enabled for boot; the first start is the supervisor's, after its render.
  [ "$enable" = 0 ] || systemctl enable --quiet ha-rabbitmq.service
fi
echo "ha-rabbitmq installed (rabbit@$address; quorum queues: $quorum_queues)"
