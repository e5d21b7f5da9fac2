#!/usr/bin/env bash
# Installs the ha-nginx unit on a manager node. The configuration is not
# written here: ha-supervisor renders /etc/ha-supervisor/nginx/nginx.conf from
# templates/nginx.conf.mustache with Consul's passing REST service instances
# and starts the unit itself.
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
[ -x "$root/usr/sbin/nginx" ] || [ -x /usr/sbin/nginx ] || {
  echo "install.sh: nginx is not installed (apt-get install nginx-light, or nginx)" >&2; exit 1; }
install -d "$root/etc/ha-supervisor/nginx"
install -D -m 0644 "$here/ha-nginx.service" "$root/etc/systemd/system/ha-nginx.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/ha-nginx.service.d/05-hardening.conf"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  . "$here/../systemd/own-units"
  disable_foreign_unit nginx.service "it would hold port 80 that ha-nginx serves"
  systemctl daemon-reload
  systemctl enable ha-nginx.service >/dev/null 2>&1
fi
echo "ha-nginx unit installed (ha-supervisor renders its config)"
