#!/usr/bin/env bash
# Installs a Consul 1.8.7 server agent on a manager (or witness) node: the
# binary under /opt/consul, its config in /etc/consul.d, a systemd unit.
#   install.sh --name N --bind ADDR --expect K --join ADDR [--join ADDR]...
#              --gossip-key-file F [--consul-prefix DIR] [--root DIR] [--no-enable]
# --gossip-key-file: a file holding the cluster's gossip encryption key (the
# secrets file's consul_gossip=, base64 of 16, 24 or 32 bytes): the same on
# every agent. Only agents that hold it join; gossip is encrypted and Consul
# refuses unencrypted gossip. Installed root-only, never on a command line.
# --consul-prefix: an already unpacked consul (e.g. the project's .deps/consul),
# for machines without access to Debian's mirror. --root: install under DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name= bind= expect=3 root= enable=1 prefix= gossip_key_file=
joins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --bind) bind=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    --join) joins+=(--join "$2"); shift 2 ;;
    --consul-prefix) prefix=$2; shift 2 ;;
    --gossip-key-file) gossip_key_file=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$name" ] && [ -n "$bind" ] || { echo "install.sh: --name and --bind are required" >&2; exit 2; }
[ -n "$gossip_key_file" ] || {
  echo "install.sh: --gossip-key-file is required: an agent without the cluster's key gossips in the clear and lets any host join" >&2
  exit 2
}
gossip_key=$(head -c 200 "$gossip_key_file" 2>/dev/null | tr -d '\n') || true
bytes=$(printf '%s' "$gossip_key" | base64 -d 2>/dev/null | wc -c) || bytes=0
case "$bytes" in 16|24|32) ;; *)
  echo "install.sh: $gossip_key_file: not a gossip key (base64 of 16, 24 or 32 bytes: components/patroni/generate-secrets)" >&2
  exit 2 ;;
esac
if [ -n "$prefix" ]; then
  install -d "$root/opt/consul/usr/bin"
  install -m 0755 "$prefix/usr/bin/consul" "$root/opt/consul/usr/bin/consul"
else
  "$here/fetch-consul" "$root/opt/consul" >/dev/null
fi
install -d -m 0750 "$root/etc/consul.d" "$root/var/lib/consul"
"$here/consul-config" --name "$name" --bind "$bind" --client 127.0.0.1 --data-dir /var/lib/consul \
  --expect "$expect" "${joins[@]}" >"$root/etc/consul.d/server.json"
# Root only, written whole: the key never passes through a world-readable file.
(umask 077 && printf '{ "encrypt": "%s" }\n' "$gossip_key" >"$root/etc/consul.d/gossip.json.new")
mv "$root/etc/consul.d/gossip.json.new" "$root/etc/consul.d/gossip.json"
out=$("$root/opt/consul/usr/bin/consul" validate "$root/etc/consul.d/" 2>&1) || {
  echo "$out" >&2
  exit 1
}
install -D -m 0644 "$here/consul.service" "$root/etc/systemd/system/consul.service"
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now consul.service
fi
echo "consul server installed for node $name ($bind)"
