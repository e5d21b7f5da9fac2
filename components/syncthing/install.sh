#!/usr/bin/env bash
# Installs ha-syncthing on a manager node: one syncthing that replicates the
# manager's resources folder(s) to the other nodes. Only what syncthing needs
# before it first starts is written here, so that it never talks to anything
# but this cluster: its identity (keys), its REST API address and key, and its
# options with discovery, relays, NAT, usage reporting, crash reporting and
# upgrades off. Devices and folders are then kept by ha-supervisor, through
# the REST API, following the cluster's membership.
#   install.sh --listen ADDR [--sync-port P] [--api-port P] [--name NODE]
#              [--user USER] [--root DIR] [--no-enable]
# --listen: this node's address for the peers (static, tcp only).
# The API listens on 127.0.0.1 only; its key is in /etc/ha-syncthing/api-key
# (root only) and in syncthing's config (its home is its user's alone), never
# in argv. hactl rotate syncthing-key replaces it in both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
listen= sync_port=22000 api_port=8384 name=$(hostname -s) user=ha-syncthing root= enable=1
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) listen=$2; shift 2 ;;
    --sync-port) sync_port=$2; shift 2 ;;
    --api-port) api_port=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
fail() { echo "install.sh: $*" >&2; exit 2; }
[[ "$listen" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || fail "--listen must be this node's IPv4 address (got '$listen')"
for p in "$sync_port" "$api_port"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || fail "ports must be 1-65535 (got '$p')"
done
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] || fail "--name must be a plain node name (got '$name')"
[[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]] || fail "--user must be a user name"
command -v syncthing >/dev/null || [ -x "$root/usr/bin/syncthing" ] || {
  echo "install.sh: syncthing is not installed (apt-get install syncthing)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "install.sh: python3 is needed to write syncthing's first config" >&2; exit 1; }

home="$root/var/lib/ha-syncthing"
etc="$root/etc/ha-syncthing"
install -d -m 0700 "$home" "$etc"
if [ ! -f "$home/config.xml" ]; then
  # Keys and a config, no default folder; no port probing (nothing listens yet).
  syncthing generate --home="$home" --no-default-folder --skip-port-probing >/dev/null 2>&1
fi
if [ ! -s "$etc/api-key" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$etc/api-key.new" && mv "$etc/api-key.new" "$etc/api-key")
fi
key=$(cat "$etc/api-key")
[[ "$key" =~ ^[A-Za-z0-9]{20,}$ ]] || fail "$etc/api-key does not hold a usable key: remove it to make a new one"
# The options a first start must already have: an upgrade check, a discovery
# announcement or a relay connection would reach outside the cluster at once.
python3 - "$home/config.xml" "$listen" "$sync_port" "$api_port" "$name" "$key" <<'PY'
import sys, xml.etree.ElementTree as ET
path, listen, sync_port, api_port, name, key = sys.argv[1:7]
tree = ET.parse(path)
root = tree.getroot()
def put(parent, tag, value):
    el = parent.find(tag)
    if el is None:
        el = ET.SubElement(parent, tag)
    el.text = value
opts = root.find("options")
for el in opts.findall("listenAddress"):
    opts.remove(el)
ET.SubElement(opts, "listenAddress").text = f"tcp://{listen}:{sync_port}"
for tag, value in [("globalAnnounceEnabled", "false"), ("localAnnounceEnabled", "false"),
                   ("relaysEnabled", "false"), ("natEnabled", "false"), ("startBrowser", "false"),
                   ("urAccepted", "-1"), ("autoUpgradeIntervalH", "0"), ("crashReportingEnabled", "false"),
                   ("stunKeepaliveStartS", "0"), ("announceLANAddresses", "false")]:
    put(opts, tag, value)
gui = root.find("gui")
put(gui, "address", f"127.0.0.1:{api_port}")
put(gui, "apikey", key)
own = root.find("device")
if own is not None:
    own.set("name", name)
    for a in own.findall("address"):
        a.text = f"tcp://{listen}:{sync_port}"
tree.write(path + ".new", encoding="utf-8", xml_declaration=False)
PY
mv "$home/config.xml.new" "$home/config.xml"
# The API key: for syncthing in its config (above) alone, for ha-supervisor
# and the upload gate from the key file. Not also in its environment
# (STGUIAPIKEY): syncthing accepts that key beside the config's, so a rotated
# key (hactl rotate syncthing-key) would leave the old one working.
(umask 077
 { echo "STGUIADDRESS=127.0.0.1:$api_port"; } >"$etc/env.new"
 mv "$etc/env.new" "$etc/env")
# The unit's sandbox makes the folder writable only if it exists when syncthing starts.
mkdir -p "$root/opt/manager/resources"  # not install -d: it would reset a shared folder's mode
if [ -z "$root" ]; then
  # Its own user, in the group that owns the resources folder with the REST service.
  . "$here/../systemd/resources-owner"
  resources_owner "$user" /opt/manager/resources
  chown -R "$user" "$home"
fi
install -D -m 0644 "$here/ha-syncthing.service" "$root/etc/systemd/system/ha-syncthing.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/ha-syncthing.service.d/05-hardening.conf"
install -D -m 0644 "$here/../systemd/sandbox.conf" "$root/etc/systemd/system/ha-syncthing.service.d/10-sandbox.conf"
if [ "$user" != ha-syncthing ]; then
  printf '[Service]\nUser=%s\n' "$user" >"$root/etc/systemd/system/ha-syncthing.service.d/user.conf"
else
  rm -f "$root/etc/systemd/system/ha-syncthing.service.d/user.conf"
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  [ "$enable" = 1 ] && systemctl enable ha-syncthing.service >/dev/null 2>&1
fi
echo "ha-syncthing installed: device $(syncthing serve --home="$home" --device-id 2>/dev/null), peers on tcp://$listen:$sync_port, API on 127.0.0.1:$api_port"
