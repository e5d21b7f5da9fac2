#!/usr/bin/env bash
# Installs a Consul 1.8.7 server agent on a manager (or witness) node: the
# binary under /opt/consul, its config in /etc/consul.d, a systemd unit.
#   install.sh --name N --bind ADDR --expect K --join ADDR [--join ADDR]...
#              --secrets FILE [--consul-prefix DIR] [--root DIR] [--no-enable]
# --secrets: the cluster's secrets file (components/patroni/generate-secrets),
# the same on every agent; this script takes Consul's keys from it and installs
# them root-only (never on a command line):
#   consul_gossip    gossip encryption: only agents with the key join, and
#                    Consul refuses unencrypted gossip;
#   consul_tls_*     the servers' RPC (port 8300) is TLS both ways, checked
#                    against the cluster's CA and the name server.dc1.consul:
#                    a host without the certificate gets no answer; the
#                    HTTP API is HTTPS only, on 127.0.0.1:8501, with the same
#                    certificate (it names 127.0.0.1): a token never crosses
#                    even loopback in clear. The CA (public) is copied to
#                    /etc/ssl/ha-consul-ca.pem for its clients (the supervisor,
#                    Patroni running as postgres, curl), and /usr/local/bin/consul
#                    points Consul's CLI at that API;
#   consul_acl_*     ACLs with default deny: a call without a token (any
#                    local user) reads and writes nothing. The tokens go to
#                    /etc/consul.d/tokens/ROLE, root only; acl-setup (run by
#                    consul-acl-setup.service once the servers have a leader)
#                    gives each its policy.
# --consul-prefix: an already unpacked consul (e.g. the project's .deps/consul),
# for machines without access to Debian's mirror. --root: install under DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name= bind= expect=3 root= enable=1 prefix= secrets=
joins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --bind) bind=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    --join) joins+=(--join "$2"); shift 2 ;;
    --consul-prefix) prefix=$2; shift 2 ;;
    --secrets) secrets=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$name" ] && [ -n "$bind" ] || { echo "install.sh: --name and --bind are required" >&2; exit 2; }
[ -n "$secrets" ] || {
  echo "install.sh: --secrets FILE is required: without the cluster's keys an agent gossips in the clear and its RPC answers any host" >&2
  exit 2
}
[ -r "$secrets" ] || { echo "install.sh: cannot read $secrets" >&2; exit 2; }
secret() { sed -n "s/^$1=//p" "$secrets" | head -1; }
missing() {
  echo "install.sh: $secrets: $1 (an older file: components/patroni/generate-secrets --add-missing $secrets)" >&2
  exit 2
}
gossip_key=$(secret consul_gossip)
bytes=$(printf '%s' "$gossip_key" | base64 -d 2>/dev/null | wc -c) || bytes=0
case "$bytes" in 16|24|32) ;; *) missing "no consul_gossip= that is a gossip key (base64 of 16, 24 or 32 bytes)" ;; esac
tls=$(mktemp -d)
trap 'rm -rf "$tls"' EXIT
for part in ca cert key; do
  value=$(secret "consul_tls_$part")
  [ -n "$value" ] || missing "no consul_tls_$part="
  printf '%s' "$value" | base64 -d >"$tls/$part.pem" 2>/dev/null || missing "consul_tls_$part= is not base64"
  grep -q -- '-----BEGIN' "$tls/$part.pem" || missing "consul_tls_$part= is not a PEM file"
done
acl_roles="master agent supervisor patroni stolon rest operator"
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
for role in $acl_roles; do
  secret "consul_acl_$role" | grep -E "$uuid_re" >/dev/null || missing "no consul_acl_$role= that is a UUID"
done
if command -v openssl >/dev/null; then
  openssl verify -CAfile "$tls/ca.pem" "$tls/cert.pem" >/dev/null 2>&1 ||
    missing "consul_tls_cert= is not signed by consul_tls_ca="
fi
if [ -n "$prefix" ]; then
  install -d "$root/opt/consul/usr/bin"
  install -m 0755 "$prefix/usr/bin/consul" "$root/opt/consul/usr/bin/consul"
else
  "$here/fetch-consul" "$root/opt/consul" >/dev/null
fi
install -d -m 0750 "$root/etc/consul.d" "$root/var/lib/consul"
"$here/consul-config" --name "$name" --bind "$bind" --client 127.0.0.1 --https 8501 --data-dir /var/lib/consul \
  --expect "$expect" "${joins[@]}" >"$root/etc/consul.d/server.json"
# Root only, each written whole: no secret passes through a world-readable file.
install -d -m 0700 "$root/etc/consul.d/tls"
install -m 0600 "$tls/ca.pem" "$root/etc/consul.d/tls/ca.pem"
install -m 0600 "$tls/cert.pem" "$root/etc/consul.d/tls/server.pem"
install -m 0600 "$tls/key.pem" "$root/etc/consul.d/tls/server.key"
install -D -m 0644 "$tls/ca.pem" "$root/etc/ssl/ha-consul-ca.pem"
(umask 077 && printf '{ "encrypt": "%s" }\n' "$gossip_key" >"$root/etc/consul.d/gossip.json.new")
mv "$root/etc/consul.d/gossip.json.new" "$root/etc/consul.d/gossip.json"
# ACLs: default deny; the agent token for the agents' own work; the master
# token only for acl-setup. extend-cache: a node cut off from the leader goes
# on with the tokens it has already resolved.
install -d -m 0700 "$root/etc/consul.d/tokens"
for role in $acl_roles; do
  (umask 077 && secret "consul_acl_$role" >"$root/etc/consul.d/tokens/$role.new")
  mv "$root/etc/consul.d/tokens/$role.new" "$root/etc/consul.d/tokens/$role"
done
(umask 077 && cat >"$root/etc/consul.d/acl.json.new" <<JSON
{
  "primary_datacenter": "dc1",
  "acl": {
    "enabled": true,
    "default_policy": "deny",
    "down_policy": "extend-cache",
    "enable_token_persistence": false,
    "tokens": { "master": "$(secret consul_acl_master)", "agent": "$(secret consul_acl_agent)" }
  }
}
JSON
)
mv "$root/etc/consul.d/acl.json.new" "$root/etc/consul.d/acl.json"
# RPC between servers (and from any other host) is TLS with a certificate the
# cluster's CA signed, for server.dc1.consul. The API (127.0.0.1:8501) serves
# the same certificate; its clients prove themselves with ACL tokens, not
# certificates (verify_incoming_https off).
cat >"$root/etc/consul.d/tls.json" <<JSON
{
  "ca_file": "/etc/consul.d/tls/ca.pem",
  "cert_file": "/etc/consul.d/tls/server.pem",
  "key_file": "/etc/consul.d/tls/server.key",
  "verify_incoming_rpc": true,
  "verify_outgoing": true,
  "verify_server_hostname": true,
  "verify_incoming_https": false
}
JSON
out=$("$root/opt/consul/usr/bin/consul" validate "$root/etc/consul.d/" 2>&1) || {
  echo "$out" >&2
  exit 1
}
install -D -m 0644 "$here/consul.service" "$root/etc/systemd/system/consul.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/consul.service.d/05-hardening.conf"
install -D -m 0755 "$here/acl-setup" "$root/usr/local/lib/ha-consul/acl-setup"
install -D -m 0755 "$here/consul-cli" "$root/usr/local/bin/consul"
install -D -m 0644 "$here/consul-acl-setup.service" "$root/etc/systemd/system/consul-acl-setup.service"
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now consul.service
  # Not waited for: it finishes once the other servers are up (--no-block).
  systemctl enable consul-acl-setup.service
  systemctl start --no-block consul-acl-setup.service
fi
echo "consul server installed for node $name ($bind)"
