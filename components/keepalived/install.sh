#!/usr/bin/env bash
# Installs keepalived's unit on a manager node. The configuration is not
# written here: ha-supervisor renders it from templates/keepalived.conf.mustache
# with the live members from Consul and starts the unit itself.
#   install.sh [--root DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$root/usr/sbin/keepalived" ] || [ -x /usr/sbin/keepalived ] || {
  echo "install.sh: keepalived is not installed (apt-get install keepalived)" >&2; exit 1; }
# The supervisor loads a kernel filter with nft: VRRP from the members only (vip.vrrp_filter).
[ -x "$root/usr/sbin/nft" ] || [ -x /usr/sbin/nft ] || {
  echo "install.sh: nft is not installed (apt-get install nftables): the VRRP filter needs it" >&2; exit 1; }
install -d "$root/etc/keepalived"
# keepalived's check of the supervisor's heartbeat (vip.heartbeat_check): root's,
# not writable by anyone else (keepalived's enable_script_security).
install -D -m 0755 "$here/heartbeat-fresh" "$root/usr/local/lib/ha-supervisor/heartbeat-fresh"
install -D -m 0644 "$here/keepalived.service" "$root/etc/systemd/system/keepalived.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/keepalived.service.d/05-hardening.conf"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable keepalived.service >/dev/null 2>&1
fi
echo "keepalived unit installed (ha-supervisor renders its config)"
