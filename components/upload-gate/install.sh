#!/usr/bin/env bash
# Installs ha-upload-gate: binary, config, systemd unit. Used as is by the lab,
# the Vagrant demo and the tests.
#   install.sh --api-key-file FILE [--listen ADDR] [--port P] [--metrics-port P] [--upstream-address ADDR]
#              [--upstream-port P] [--folder-id ID] [--folder PATH] [--syncthing-url URL]
#              [--quorum all-connected|N] [--min-peers N] [--timeout-ms MS] [--on-timeout fail|warn]
#              [--durability strict|available]
#              [--bin-dir DIR] [--root DIR] [--no-enable]
# --api-key-file: a file holding syncthing's API key (copied to
# /etc/ha-upload-gate/syncthing-api-key, 0600 root). --metrics-port: GET /metrics
# on 127.0.0.1 (default 8101; the config checks it stays on loopback).
# --bin-dir: where the built ha-upload-gate is (default: build/components/upload-gate
# of this checkout). --root: install under DIR instead of / (for tests and images).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
listen=127.0.0.1 port=8090 metrics_port=8101 upstream_address=127.0.0.1 upstream_port=8100
folder_id=resources folder=/opt/manager/resources syncthing_url=http://127.0.0.1:8384
quorum=all-connected min_peers=1 timeout_ms=10000 on_timeout=fail durability=strict
api_key_file= root= enable=1
bin_dir="$here/../../build/components/upload-gate"
while [ $# -gt 0 ]; do
  case "$1" in
    --api-key-file) api_key_file=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --metrics-port) metrics_port=$2; shift 2 ;;
    --upstream-address) upstream_address=$2; shift 2 ;;
    --upstream-port) upstream_port=$2; shift 2 ;;
    --folder-id) folder_id=$2; shift 2 ;;
    --folder) folder=$2; shift 2 ;;
    --syncthing-url) syncthing_url=$2; shift 2 ;;
    --quorum) quorum=$2; shift 2 ;;
    --min-peers) min_peers=$2; shift 2 ;;
    --timeout-ms) timeout_ms=$2; shift 2 ;;
    --on-timeout) on_timeout=$2; shift 2 ;;
    --durability) durability=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$api_key_file" ] || { echo "install.sh: --api-key-file is required" >&2; exit 2; }
[ -r "$api_key_file" ] || { echo "install.sh: $api_key_file cannot be read" >&2; exit 1; }
[ -x "$bin_dir/ha-upload-gate" ] || { echo "install.sh: $bin_dir/ha-upload-gate not found: build first (scripts/build)" >&2; exit 1; }
# Values go into a libconfig file between double quotes or as numbers: refuse
# anything that could break out of them.
for value in "$listen" "$upstream_address" "$folder_id" "$folder" "$syncthing_url" "$on_timeout" "$durability" "$quorum"; do
  case "$value" in *[\"\\$'\n']*) echo "install.sh: values cannot hold quotes, backslashes or newlines" >&2; exit 2 ;; esac
done
for number in "$port" "$upstream_port" "$min_peers" "$timeout_ms"; do
  case "$number" in ''|*[!0-9]*) echo "install.sh: '$number' is not a number" >&2; exit 2 ;; esac
done
case "$quorum" in all-connected) quorum_value='"all-connected"' ;; *[!0-9]*|'') echo "install.sh: --quorum must be all-connected or a number" >&2; exit 2 ;; *) quorum_value=$quorum ;; esac

install -d "$root/usr/local/bin" "$root/etc/ha-upload-gate" "$root/etc/systemd/system" \
  "$root/usr/local/share/doc/ha-upload-gate"
# mkdir, not install -d: that would reset the mode of a folder the REST
# service and syncthing already share (group-writable, ../systemd/resources-owner).
mkdir -p "$root$folder"
install -m 0755 "$bin_dir/ha-upload-gate" "$root/usr/local/bin/"
install -m 0644 "$here/README.md" "$root/usr/local/share/doc/ha-upload-gate/README.md"
# The gate runs as its own user (ha-gate.service: User=ha-gate), which owns its
# copy of the key; in a --root tree (tests) the user is not made.
if [ -z "$root" ] && ! getent passwd ha-gate >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ha-gate
fi
key="$root/etc/ha-upload-gate/syncthing-api-key"
install -m 0600 "$api_key_file" "$key.new"
conf="$root/etc/ha-upload-gate/gate.conf"
cat >"$conf.new" <<CONF
# Written by components/upload-gate/install.sh; read by ha-upload-gate.service.
# Every key: components/upload-gate/gate.conf.example.
listen = { address = "$listen"; port = $port; };
metrics = { address = "127.0.0.1"; port = $metrics_port; };
upstream = { address = "$upstream_address"; port = $upstream_port; };
folder = { id = "$folder_id"; path = "$folder"; };
syncthing = { api_url = "$syncthing_url"; api_key_file = "/etc/ha-upload-gate/syncthing-api-key"; };
replication = { quorum = $quorum_value; min_peers = $min_peers; timeout_ms = $timeout_ms; on_timeout = "$on_timeout";
                durability = "$durability"; };
CONF
chmod 0644 "$conf.new"
# The binary checks every value before the file replaces the old one (paths as
# they will be once installed: the key and folder are checked under --root).
# The new key is checked while it is still root's (the check runs as root);
# then it goes to the gate's user.
sed "s#\"/etc/ha-upload-gate/syncthing-api-key\"#\"$key.new\"#; s#path = \"$folder\"#path = \"$root$folder\"#" \
  "$conf.new" >"$conf.check"
if ! "$bin_dir/ha-upload-gate" --check-config "$conf.check" >/dev/null; then
  rm -f "$conf.new" "$conf.check" "$key.new"
  exit 1
fi
rm -f "$conf.check"
[ -n "$root" ] || chown ha-gate:ha-gate "$key.new"
mv "$key.new" "$key"
mv "$conf.new" "$conf"
install -m 0644 "$here/ha-upload-gate.service" "$root/etc/systemd/system/ha-upload-gate.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/ha-upload-gate.service.d/05-hardening.conf"
install -D -m 0644 "$here/../systemd/sandbox.conf" "$root/etc/systemd/system/ha-upload-gate.service.d/10-sandbox.conf"
if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now ha-upload-gate.service
fi
echo "ha-upload-gate installed: http://$listen:$port/ -> $upstream_address:$upstream_port, folder $folder_id ($folder)"
