#!/usr/bin/env bash
# Installs a Consul 1.8.7 server agent on a manager (or witness) node: the
# binary under /opt/consul, its config in /etc/consul.d, a systemd unit.
#   install.sh --name N --bind ADDR --expect K --join ADDR [--join ADDR]...
#              [--consul-prefix DIR] [--root DIR] [--no-enable]
# --consul-prefix: an already unpacked consul (e.g. the project's .deps/consul),
# for machines without access to Debian's mirror. --root: install under DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name= bind= expect=3 root= enable=1 prefix=
joins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --bind) bind=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    --join) joins+=(--join "$2"); shift 2 ;;
    --consul-prefix) prefix=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$name" ] && [ -n "$bind" ] || { echo "install.sh: --name and --bind are required" >&2; exit 2; }
if [ -n "$prefix" ]; then
  install -d "$root/opt/consul/usr/bin"
  install -m 0755 "$prefix/usr/bin/consul" "$root/opt/consul/usr/bin/consul"
else
  "$here/fetch-consul" "$root/opt/consul" >/dev/null
fi
install -d -m 0750 "$root/etc/consul.d" "$root/var/lib/consul"
"$here/consul-config" --name "$name" --bind "$bind" --client 127.0.0.1 --data-dir /var/lib/consul \
  --expect "$expect" "${joins[@]}" >"$root/etc/consul.d/server.json"
out=$("$root/opt/consul/usr/bin/consul" validate "$root/etc/consul.d/server.json" 2>&1) || {
  echo "$out" >&2
  exit 1
}
install -D -m 0644 "$here/consul.service" "$root/etc/systemd/system/consul.service"
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now consul.service
fi
echo "consul server installed for node $name ($bind)"
