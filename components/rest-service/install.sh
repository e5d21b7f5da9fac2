#!/usr/bin/env bash
# Installs rest-standin, the stand-in for the manager's REST service: binary,
# options, systemd unit. Used as is by the lab, the Vagrant demo and the tests.
#   install.sh --db CONNINFO [--resources DIR] [--port P] [--listen ADDR]
#              [--max-body BYTES] [--bin-dir DIR] [--root DIR] [--no-enable]
# --bin-dir: where the built rest-standin is (default: build/components/rest-service
# of this checkout). --root: install under DIR instead of / (for tests and images).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
db= resources=/opt/manager/resources port=8100 listen=127.0.0.1 max_body=2147483648 root= enable=1
bin_dir="$here/../../build/components/rest-service"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=$2; shift 2 ;;
    --resources) resources=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --max-body) max_body=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$db" ] || { echo "install.sh: --db is required" >&2; exit 2; }
[ -x "$bin_dir/rest-standin" ] || { echo "install.sh: $bin_dir/rest-standin not found: build first (scripts/build)" >&2; exit 1; }
for value in "$db" "$resources" "$port" "$listen" "$max_body"; do
  case "$value" in *$'\n'*) echo "install.sh: values cannot hold a newline" >&2; exit 2 ;; esac
done
# The binary checks its own options (port range, address, conninfo syntax) before anything is written.
"$bin_dir/rest-standin" --check --listen "$listen" --port "$port" --resources "$resources" \
  --max-body "$max_body" --db "$db" >/dev/null

# A double-quoted value as both systemd's EnvironmentFile= and sh read it.
quote() {
  local v=$1
  v=${v//\\/\\\\}; v=${v//\"/\\\"}; v=${v//\`/\\\`}; v=${v//\$/\\\$}
  printf '"%s"' "$v"
}

install -d "$root/usr/local/bin" "$root/etc/rest-standin" "$root/etc/systemd/system" \
  "$root/usr/local/share/doc/rest-standin" "$root$resources"
install -m 0755 "$bin_dir/rest-standin" "$root/usr/local/bin/"
install -m 0644 "$here/README.md" "$root/usr/local/share/doc/rest-standin/README.md"
options="$root/etc/rest-standin/options"
{
  echo "# Written by components/rest-service/install.sh; read by rest-standin.service (rest-standin --help)"
  echo "LISTEN=$(quote "$listen")"
  echo "PORT=$(quote "$port")"
  echo "RESOURCES=$(quote "$resources")"
  echo "MAX_BODY=$(quote "$max_body")"
  echo "DB=$(quote "$db")"
} >"$options.new"
chmod 0640 "$options.new"  # a conninfo may hold a password
mv "$options.new" "$options"
install -m 0644 "$here/rest-standin.service" "$root/etc/systemd/system/rest-standin.service"
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now rest-standin.service
fi
echo "rest-standin installed: http://$listen:$port/api/v3.1/, resources $resources"
