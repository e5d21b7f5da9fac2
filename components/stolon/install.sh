#!/usr/bin/env bash
# Installs stolon v0.17.0 on a manager node: stolon-keeper, stolon-sentinel,
# stolon-proxy and stolonctl under /opt/stolon/bin, this node's settings in
# /etc/stolon/stolon.env, the PostgreSQL passwords in /etc/stolon/secrets
# (postgres only), and the units stolon-keeper, stolon-sentinel, stolon-proxy.
# The cluster itself is initialised by ha-supervisor (bootstrap_once), once.
#   install.sh --uid NODE --listen ADDR --password-file FILE
#              [--bin-dir DIR | --sha256 HEX] [--cluster-name NAME]
#              [--consul-address ADDR[:PORT]] [--store-prefix PREFIX]
#              [--pg-port P] [--proxy-port P] [--proxy-listen ADDR]
#              [--data-dir DIR] [--pg-bin-path DIR] [--root DIR] [--no-enable]
# --uid: the keeper's uid, equal to the supervisor's node name; stolon accepts
#   only lower-case letters, digits and '_'.
# --listen: the address PostgreSQL listens on (the node's cluster address);
#   the proxy listens there too unless --proxy-listen says otherwise.
# --password-file: two lines, "superuser=PASSWORD" and "replication=PASSWORD",
#   readable by root (or postgres) only. Needed the first time; later runs keep
#   the installed passwords when it is left out.
# --bin-dir DIR (or STOLON_BIN_DIR): a directory holding the four binaries
#   (offline installs, tests). Without it the official release tarball is
#   downloaded, and installed only if its sha256 equals --sha256.
# --root DIR: install under DIR instead of / (tests, images); nothing is enabled.
# Exit status: 2 for a bad option or value (nothing written), 1 when the
# binaries cannot be found, downloaded or verified.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

readonly version=v0.17.0
readonly tarball=stolon-$version-linux-amd64.tar.gz
readonly url=https://github.com/sorintlab/stolon/releases/download/$version/$tarball

uid= listen= password_file= bin_dir=${STOLON_BIN_DIR:-} sha256= cluster_name=manager
consul_address=127.0.0.1:8500 store_prefix=stolon/cluster pg_port=5433 proxy_port=5432 proxy_listen=
data_dir=/var/lib/stolon/keeper pg_bin_path=/usr/lib/postgresql/15/bin root= enable=1
# The PostgreSQL roles stolon creates at initialisation; the same on every keeper.
readonly su_username=postgres repl_username=replicator

usage() { echo "install.sh: $*" >&2; exit 2; }
need_value() { [ $# -ge 2 ] || usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --uid) need_value "$@"; uid=$2; shift 2 ;;
    --listen) need_value "$@"; listen=$2; shift 2 ;;
    --password-file) need_value "$@"; password_file=$2; shift 2 ;;
    --bin-dir) need_value "$@"; bin_dir=$2; shift 2 ;;
    --sha256) need_value "$@"; sha256=$2; shift 2 ;;
    --cluster-name) need_value "$@"; cluster_name=$2; shift 2 ;;
    --consul-address) need_value "$@"; consul_address=$2; shift 2 ;;
    --store-prefix) need_value "$@"; store_prefix=$2; shift 2 ;;
    --pg-port) need_value "$@"; pg_port=$2; shift 2 ;;
    --proxy-port) need_value "$@"; proxy_port=$2; shift 2 ;;
    --proxy-listen) need_value "$@"; proxy_listen=$2; shift 2 ;;
    --data-dir) need_value "$@"; data_dir=$2; shift 2 ;;
    --pg-bin-path) need_value "$@"; pg_bin_path=$2; shift 2 ;;
    --root) need_value "$@"; root=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    *) usage "unknown option $1" ;;
  esac
done
[ -n "$proxy_listen" ] || proxy_listen=$listen

# --- Every value is checked before anything is written. ---------------------
for value in "$uid" "$listen" "$password_file" "$bin_dir" "$sha256" "$cluster_name" "$consul_address" \
             "$store_prefix" "$pg_port" "$proxy_port" "$proxy_listen" "$data_dir" "$pg_bin_path" "$root"; do
  case "$value" in *$'\n'* | *$'\r'*) usage "values cannot hold a newline" ;; esac
done
[ -n "$uid" ] || usage "--uid is required (the node name)"
[ -n "$listen" ] || usage "--listen is required (the address PostgreSQL listens on)"
[[ $uid =~ ^[a-z0-9_]{1,63}$ ]] ||
  usage "--uid '$uid': stolon-keeper accepts only lower-case letters, digits and '_' (at most 63)"
[[ $cluster_name =~ ^[A-Za-z0-9_-]{1,63}$ ]] ||
  usage "--cluster-name '$cluster_name': letters, digits, '_' and '-' only (at most 63)"
[[ $store_prefix =~ ^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$ ]] ||
  usage "--store-prefix '$store_prefix': Consul key segments of letters, digits, '_' and '-', joined by '/'"
valid_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && [ "$((10#$1))" -ge 1 ] && [ "$((10#$1))" -le 65535 ]; }
valid_port "$pg_port" || usage "--pg-port '$pg_port': a port number, 1-65535"
valid_port "$proxy_port" || usage "--proxy-port '$proxy_port': a port number, 1-65535"
# An IPv4 address or a host name: both end up in command lines and in clusterdata.
valid_host() {
  if [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    local IFS=. part
    for part in $1; do [ "$((10#$part))" -le 255 ] || return 1; done
    return 0
  fi
  [[ $1 =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]
}
valid_host "$listen" || usage "--listen '$listen': an IPv4 address or a host name"
valid_host "$proxy_listen" || usage "--proxy-listen '$proxy_listen': an IPv4 address or a host name"
consul_host=${consul_address%:*} consul_port=8500
[ "$consul_host" = "$consul_address" ] || consul_port=${consul_address##*:}
valid_host "$consul_host" && valid_port "$consul_port" ||
  usage "--consul-address '$consul_address': ADDR or ADDR:PORT of this node's Consul agent"
if [ "$listen" = "$proxy_listen" ] && [ "$((10#$pg_port))" = "$((10#$proxy_port))" ]; then
  usage "--pg-port and --proxy-port are both $pg_port on $listen"
fi
valid_path() { [[ $1 =~ ^/[A-Za-z0-9._/-]*$ ]] && ! [[ $1 =~ (^|/)\.\.(/|$) ]]; }
valid_path "$data_dir" || usage "--data-dir '$data_dir': an absolute path of letters, digits, '.', '_', '-' and '/'"
valid_path "$pg_bin_path" || usage "--pg-bin-path '$pg_bin_path': an absolute path of letters, digits, '.', '_', '-' and '/'"
[ "${data_dir%/}" != "" ] || usage "--data-dir cannot be /"

if [ -z "$bin_dir" ]; then
  if [ -z "$sha256" ]; then
    {
      echo "install.sh: no --bin-dir, and no --sha256 to check a download against: nothing installed."
      echo "  Offline: pass --bin-dir DIR (or STOLON_BIN_DIR=DIR), DIR holding stolon-keeper,"
      echo "  stolon-sentinel, stolon-proxy and stolonctl."
      echo "  Online: take the sha256 of $tarball from a source you trust"
      echo "  (the release page, https://github.com/sorintlab/stolon/releases/tag/$version)"
      echo "  and pass it as --sha256 HEX; the download from"
      echo "  $url is installed only if it matches."
    } >&2
    exit 2
  fi
  [[ $sha256 =~ ^[0-9a-fA-F]{64}$ ]] || usage "--sha256 '$sha256': 64 hexadecimal digits"
fi

# Passwords: "superuser=..." and "replication=...", each once.
su_password= repl_password=
secrets_dir=/etc/stolon/secrets
if [ -n "$password_file" ]; then
  [ -f "$password_file" ] && [ -r "$password_file" ] || usage "--password-file '$password_file': not a readable file"
  mode=$(stat -c %a "$password_file")
  [ $((8#$mode & 8#007)) -eq 0 ] ||
    usage "--password-file '$password_file' is open to every user (mode $mode): chmod 600 it"
  su_count=0 repl_count=0 line_no=0
  while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    case "$line" in
      superuser=*) su_password=${line#superuser=}; su_count=$((su_count + 1)) ;;
      replication=*) repl_password=${line#replication=}; repl_count=$((repl_count + 1)) ;;
      '' | '#'*) ;;
      *) usage "--password-file line $line_no: expected superuser=PASSWORD or replication=PASSWORD" ;;
    esac
  done <"$password_file"
  [ $su_count -eq 1 ] && [ -n "$su_password" ] ||
    usage "--password-file: needs exactly one non-empty superuser=PASSWORD line"
  [ $repl_count -eq 1 ] && [ -n "$repl_password" ] ||
    usage "--password-file: needs exactly one non-empty replication=PASSWORD line"
  case "$su_password$repl_password" in *$'\r'*) usage "--password-file: passwords cannot hold a carriage return" ;; esac
elif ! [ -s "$root$secrets_dir/pg-su-password" ] || ! [ -s "$root$secrets_dir/pg-repl-password" ]; then
  usage "--password-file is required (no passwords installed yet)"
fi

# --- The binaries. -----------------------------------------------------------
binaries=(stolon-keeper stolon-sentinel stolon-proxy stolonctl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$bin_dir" ]; then
  [ "$(uname -m)" = x86_64 ] || { echo "install.sh: the release tarball is for amd64 only: use --bin-dir" >&2; exit 1; }
  command -v curl >/dev/null || { echo "install.sh: curl is needed to download stolon (or use --bin-dir)" >&2; exit 1; }
  echo "install.sh: downloading $url" >&2
  curl -fsSL --proto '=https' --retry 2 -o "$work/$tarball" "$url" ||
    { echo "install.sh: download failed: $url (or use --bin-dir)" >&2; exit 1; }
  got=$(sha256sum "$work/$tarball" | cut -d' ' -f1)
  if [ "$got" != "${sha256,,}" ]; then
    echo "install.sh: $tarball has sha256 $got, not the expected ${sha256,,}: not installed" >&2
    exit 1
  fi
  tar -xzf "$work/$tarball" -C "$work"
  # The release layout (scripts/build-binary): stolon-VERSION-linux-amd64/bin/.
  bin_dir=$work/stolon-$version-linux-amd64/bin
fi
for b in "${binaries[@]}"; do
  [ -f "$bin_dir/$b" ] && [ -x "$bin_dir/$b" ] ||
    { echo "install.sh: $bin_dir/$b not found (or not executable)" >&2; exit 1; }
done

# --- Write. ------------------------------------------------------------------
owner=
if [ "$(id -u)" = 0 ] && id -u postgres >/dev/null 2>&1; then owner=postgres:postgres; fi
[ -n "$owner" ] || [ -n "$root" ] || { echo "install.sh: run as root on a node with PostgreSQL installed (user postgres)" >&2; exit 1; }

install -d "$root/opt/stolon/bin" "$root/opt/stolon/libexec" "$root/etc/stolon" "$root/etc/systemd/system" \
  "$root/usr/local/share/doc/stolon"
install -m 0755 "${binaries[@]/#/$bin_dir/}" "$root/opt/stolon/bin/"
install -m 0755 "$here/stolon-kill-postgres" "$root/opt/stolon/libexec/stolon-kill-postgres"
install -m 0644 "$here/README.md" "$root/usr/local/share/doc/stolon/README.md"

install -d -m 0700 "$root$secrets_dir"
if [ -n "$password_file" ]; then
  # No trailing newline: the keeper warns about one and strips it.
  (umask 077 && printf '%s' "$su_password" >"$root$secrets_dir/pg-su-password.new" &&
    printf '%s' "$repl_password" >"$root$secrets_dir/pg-repl-password.new")
  mv "$root$secrets_dir/pg-su-password.new" "$root$secrets_dir/pg-su-password"
  mv "$root$secrets_dir/pg-repl-password.new" "$root$secrets_dir/pg-repl-password"
fi
# The keeper's data dir (PostgreSQL's in its postgres/ subdirectory).
install -d -m 0700 "$root$data_dir"
if [ -n "$owner" ]; then
  chown "$owner" "$root$secrets_dir" "$root$secrets_dir"/pg-*-password "$root$data_dir"
fi

env_file=$root/etc/stolon/stolon.env
{
  echo "# Written by components/stolon/install.sh: this node's stolon settings, read by"
  echo "# stolon-keeper.service, stolon-sentinel.service and stolon-proxy.service."
  echo "STOLON_CLUSTER_NAME=$cluster_name"
  echo "STOLON_STORE_ENDPOINTS=http://$consul_host:$consul_port"
  echo "STOLON_STORE_PREFIX=$store_prefix"
  echo "STOLON_KEEPER_UID=$uid"
  echo "STOLON_DATA_DIR=$data_dir"
  echo "STOLON_PG_LISTEN_ADDRESS=$listen"
  echo "STOLON_PG_PORT=$((10#$pg_port))"
  echo "STOLON_PG_BIN_PATH=$pg_bin_path"
  echo "STOLON_PG_SU_USERNAME=$su_username"
  echo "STOLON_PG_SU_PASSWORDFILE=$secrets_dir/pg-su-password"
  echo "STOLON_PG_REPL_USERNAME=$repl_username"
  echo "STOLON_PG_REPL_PASSWORDFILE=$secrets_dir/pg-repl-password"
  echo "STOLON_PROXY_LISTEN_ADDRESS=$proxy_listen"
  echo "STOLON_PROXY_PORT=$((10#$proxy_port))"
} >"$env_file.new"
chmod 0644 "$env_file.new"  # no secrets: those are in $secrets_dir
mv "$env_file.new" "$env_file"
for unit in stolon-keeper stolon-sentinel stolon-proxy; do
  install -m 0644 "$here/$unit.service" "$root/etc/systemd/system/$unit.service"
done

if [ -z "$root" ] && [ "$enable" = 1 ] && [ -d /run/systemd/system ]; then
  if systemctl -q is-active postgresql.service 2>/dev/null; then
    echo "install.sh: Debian's postgresql.service is running: its cluster may hold port 5432" \
      "(pg_dropcluster 15 main --stop, or systemctl disable --now postgresql)" >&2
  fi
  systemctl daemon-reload
  # Until ha-supervisor's bootstrap_once wrote clusterdata, all three wait idle.
  systemctl enable --now stolon-sentinel.service stolon-keeper.service stolon-proxy.service
fi
echo "stolon $version installed for keeper $uid ($listen:$((10#$pg_port)), proxy $proxy_listen:$((10#$proxy_port)))"
