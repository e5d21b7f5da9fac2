#!/usr/bin/env bash
# Installs rest-standin, the stand-in for the manager's REST service: binary,
# options, systemd unit. Used as is by the lab, the Vagrant demo and the tests.
#   install.sh --db-file FILE [--resources DIR] [--port P] [--listen ADDR]
#              [--max-body BYTES] [--bin-dir DIR] [--root DIR] [--no-enable]
#              [--consul-address ADDR [--consul-port P]]
# --consul-address: register the service with the local Consul agent (a
# service definition in /etc/consul.d) as "rest-service" at ADDR:PORT, with an
# HTTP check of /api/v3.1/status every second (200 only while its database is
# writable). nginx on every node routes to the passing instances.
# --consul-port: the port registered (and checked) when clients reach the
# service through something in front of it on ADDR, such as the upload gate
# (components/upload-gate); default: --port.
# --db-file: a file holding the libpq connection string; it may hold the
# password, so it never passes on a command line: its content is installed as
# /etc/rest-standin/db (owned by rest-standin, 0400), which the unit hands to
# rest-standin by path.
# --bin-dir: where the built rest-standin is (default: build/components/rest-service
# of this checkout). --root: install under DIR instead of / (for tests and images).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
db_file= resources=/opt/manager/resources port=8100 listen=127.0.0.1 max_body=2147483648 root= enable=1 consul_address= consul_port=
bin_dir="$here/../../build/components/rest-service"
while [ $# -gt 0 ]; do
  case "$1" in
    --db-file) db_file=$2; shift 2 ;;
    --resources) resources=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --max-body) max_body=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    --consul-address) consul_address=$2; shift 2 ;;
    --consul-port) consul_port=$2; shift 2 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$db_file" ] || { echo "install.sh: --db-file is required" >&2; exit 2; }
[ -f "$db_file" ] && [ -r "$db_file" ] || { echo "install.sh: --db-file: cannot read $db_file" >&2; exit 2; }
if [ -n "$consul_port" ]; then
  [[ "$consul_port" =~ ^[0-9]+$ ]] && [ "$consul_port" -ge 1 ] && [ "$consul_port" -le 65535 ] \
    || { echo "install.sh: --consul-port must be 1-65535" >&2; exit 2; }
fi
[ -x "$bin_dir/rest-standin" ] || { echo "install.sh: $bin_dir/rest-standin not found: build first (scripts/build)" >&2; exit 1; }
case "$consul_address" in
  *[!A-Za-z0-9.:-]*) echo "install.sh: --consul-address must be an IP address or host name" >&2; exit 2 ;;
esac
for value in "$resources" "$port" "$listen" "$max_body"; do
  case "$value" in *$'\n'*) echo "install.sh: values cannot hold a newline" >&2; exit 2 ;; esac
done
# The binary checks its own options (port range, address, conninfo syntax) before anything is written.
"$bin_dir/rest-standin" --check --listen "$listen" --port "$port" --resources "$resources" \
  --max-body "$max_body" --db-file "$db_file" >/dev/null
consul_port=${consul_port:-$port}  # --port was checked by the binary just above

# A double-quoted value as both systemd's EnvironmentFile= and sh read it.
quote() {
  local v=$1
  v=${v//\\/\\\\}; v=${v//\"/\\\"}; v=${v//\`/\\\`}; v=${v//\$/\\\$}
  printf '"%s"' "$v"
}

install -d "$root/usr/local/bin" "$root/etc/rest-standin" "$root/etc/systemd/system" \
  "$root/usr/local/share/doc/rest-standin"
mkdir -p "$root$resources"  # not install -d: it would reset a shared folder's mode
if [ -z "$root" ]; then
  # Its own user, in the group that owns the resources folder with syncthing.
  . "$here/../systemd/resources-owner"
  resources_owner rest-standin "$resources"
fi
install -m 0755 "$bin_dir/rest-standin" "$root/usr/local/bin/"
install -m 0644 "$here/README.md" "$root/usr/local/share/doc/rest-standin/README.md"
options="$root/etc/rest-standin/options"
{
  echo "# Written by components/rest-service/install.sh; read by rest-standin.service (rest-standin --help)"
  echo "LISTEN=$(quote "$listen")"
  echo "PORT=$(quote "$port")"
  echo "RESOURCES=$(quote "$resources")"
  echo "MAX_BODY=$(quote "$max_body")"
} >"$options.new"
chmod 0644 "$options.new"
mv "$options.new" "$options"
# The connection string (with its password): root and the service's user
# only, whole or not at all.
install -m 0600 "$db_file" "$root/etc/rest-standin/db.new"
if [ -z "$root" ]; then chown rest-standin "$root/etc/rest-standin/db.new" && chmod 0400 "$root/etc/rest-standin/db.new"; fi
mv "$root/etc/rest-standin/db.new" "$root/etc/rest-standin/db"
install -m 0644 "$here/rest-standin.service" "$root/etc/systemd/system/rest-standin.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/rest-standin.service.d/05-hardening.conf"
install -D -m 0644 "$here/../systemd/sandbox.conf" "$root/etc/systemd/system/rest-standin.service.d/10-sandbox.conf"
printf '[Service]\n# Written by install.sh: the only path rest-standin writes.\nReadWritePaths=%s\n' "$resources" \
  >"$root/etc/systemd/system/rest-standin.service.d/20-resources.conf"
if [ -n "$consul_address" ]; then
  install -d "$root/etc/consul.d"
  # With Consul's ACLs (components/consul/install.sh), the registration
  # carries the REST service's token: the file is root only then.
  token_line=''
  if [ -r "$root/etc/consul.d/tokens/rest" ]; then
    token_line="\"token\": \"$(cat "$root/etc/consul.d/tokens/rest")\","
  fi
  (umask 077 && cat >"$root/etc/consul.d/rest-service.json.new" <<JSON
{
  "service": {
    "id": "rest-service",
    "name": "rest-service",
    $token_line
    "address": "$consul_address",
    "port": $consul_port,
    "check": {
      "id": "rest-service-status",
      "name": "REST service answers /api/v3.1/status (its database is writable)",
      "http": "http://$consul_address:$consul_port/api/v3.1/status",
      "interval": "1s",
      "timeout": "1s"
    }
  }
}
JSON
  )
  mv "$root/etc/consul.d/rest-service.json.new" "$root/etc/consul.d/rest-service.json"
  if [ -z "$root" ] && [ -d /run/systemd/system ] && systemctl -q is-active consul.service; then
    systemctl reload consul.service
  fi
fi
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now rest-standin.service
fi
echo "rest-standin installed: http://$listen:$port/api/v3.1/, resources $resources"
