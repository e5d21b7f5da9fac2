#!/usr/bin/env bash
# Installs Patroni's unit for the manager's PostgreSQL on a manager node. The
# configuration is not written here: ha-supervisor renders patroni.yml from
# templates/patroni.yml.mustache and its db.* settings, then starts the unit.
# The unit is not enabled at boot: after a power loss the supervisor starts it
# once Consul holds Patroni's records, or once it has written them back from
# the nodes' copies (components/patroni/keys_copy.hpp): a Patroni started by
# systemd before that could found the cluster from a stale node.
#   install.sh (--secrets FILE | --generate-secrets FILE) [--patroni PATH] [--root DIR] [--no-enable]
# (--no-enable is accepted and changes nothing: the unit is never enabled.)
# --patroni PATH: the Patroni 4 executable the unit runs (default: this
#   checkout's .deps/patroni/bin/patroni, which scripts/setup installs from PyPI).
# --secrets FILE: the cluster's PostgreSQL passwords, the same file on every
#   node (superuser=, replication=, rewind=, manager=, patroni_api=); installed as
#   /etc/ha-supervisor/db-secrets, readable by root only.
# --generate-secrets FILE: write a new secrets file to FILE first (once per
#   cluster; copy it to the other nodes and pass it with --secrets).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root= secrets= generate= patroni="$(cd "$here/../.." && pwd)/.deps/patroni/bin/patroni"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --secrets) secrets=$2; shift 2 ;;
    --patroni) patroni=$2; shift 2 ;;
    --generate-secrets) generate=$2; shift 2 ;;
    --no-enable) shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -n "$generate" ]; then
  "$here/generate-secrets" "$generate"
  secrets=$generate
fi
[ -n "$secrets" ] || { echo "install.sh: --secrets FILE or --generate-secrets FILE is required" >&2; exit 2; }
[ -r "$secrets" ] || { echo "install.sh: cannot read $secrets" >&2; exit 1; }
for key in superuser replication rewind manager patroni_api; do
  grep -Eq "^$key=[A-Za-z0-9._~-]{16,128}$" "$secrets" || {
    echo "install.sh: $secrets: $key= is missing or not 16..128 of [A-Za-z0-9._~-]" \
      "(an older file: components/patroni/generate-secrets --add-missing $secrets)" >&2; exit 2; }
done
missing=()
case "$patroni" in /*) ;; *) echo "install.sh: --patroni takes an absolute path" >&2; exit 2 ;; esac
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql-15)
command -v psql >/dev/null || missing+=(postgresql-client-15)
[ ${#missing[@]} -eq 0 ] || {
  echo "install.sh: missing: ${missing[*]} (apt-get install --no-install-recommends ${missing[*]})" >&2; exit 1; }
getent passwd postgres >/dev/null || { echo "install.sh: no postgres user (install postgresql-15)" >&2; exit 1; }
# As the unit runs it: as postgres, which must be able to read the venv and its interpreter.
runuser -u postgres -- "$patroni" --version 2>/dev/null | grep -E '^patroni 4\.' >/dev/null || {
  echo "install.sh: $patroni does not run as postgres, or is not Patroni 4" \
    "(scripts/setup installs it into .deps/patroni)" >&2; exit 1; }

install -d -m 0755 "$root/etc/ha-supervisor" "$root/usr/local/lib/ha-patroni" "$root/etc/systemd/system"
install -d -m 0750 -o root -g postgres "$root/etc/ha-supervisor/patroni"
install -d -m 0700 -o postgres -g postgres "$root/var/lib/ha-patroni"
install -m 0600 -o root -g root "$secrets" "$root/etc/ha-supervisor/db-secrets"
install -m 0755 "$here/stop-patroni" "$here/post-bootstrap" "$root/usr/local/lib/ha-patroni/"
sed "s|^ExecStart=@PATRONI@ |ExecStart=$patroni |" "$here/ha-patroni.service" >"$root/etc/systemd/system/ha-patroni.service"
chmod 0644 "$root/etc/systemd/system/ha-patroni.service"
install -D -m 0644 "$here/../systemd/hardening.conf" "$root/etc/systemd/system/ha-patroni.service.d/05-hardening.conf"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  # Debian's units would run a second PostgreSQL or a Patroni that leaves its
  # postmaster behind (KillMode=process).
  . "$here/../systemd/own-units"
  for unit in patroni.service postgresql.service; do
    disable_foreign_unit "$unit" "ha-patroni.service runs the manager's PostgreSQL"
  done
  systemctl daemon-reload
  # An earlier install enabled it: no longer (see above).
  systemctl disable ha-patroni.service >/dev/null 2>&1 || true
fi
echo "ha-patroni unit installed (ha-supervisor renders its config)"
