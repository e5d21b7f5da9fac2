#!/usr/bin/env bash
# Removes ha-rabbitmq's units, its files in /etc and the secrets it was given.
# The broker's data (/var/lib/rabbitmq: its cluster membership, queues and
# messages) goes with --data remove only.
#   uninstall.sh [--data keep|remove]   (keep: the default; ../systemd/own-units)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../systemd/own-units"
data=$(data_policy "$@")
remove_own_unit ha-rabbitmq.service
remove_own_unit ha-rabbitmq-join@.service
remove_own_unit ha-rabbitmq-forget@.service
rm -rf /etc/ha-rabbitmq /usr/local/lib/ha-rabbitmq
if [ "$data" = remove ]; then
  # Debian's package made the directory and a cookie of its own: they stay as it left them.
  find /var/lib/rabbitmq/mnesia -mindepth 1 -delete 2>/dev/null || true
  # What an Erlang VM that aborted (a start that failed) left behind.
  rm -f /var/lib/rabbitmq/erl_crash.dump
  if [ -f /var/lib/rabbitmq/.erlang.cookie.debian ]; then
    mv -f /var/lib/rabbitmq/.erlang.cookie.debian /var/lib/rabbitmq/.erlang.cookie
  else
    rm -f /var/lib/rabbitmq/.erlang.cookie
  fi
fi
echo "ha-rabbitmq removed (the broker's data: $data)"
