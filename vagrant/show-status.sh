#!/usr/bin/env bash
# The Vagrant demo's last step, in the last VM: waits until the REST service
# answers 200 on the floating IP (keepalived, nginx, the REST service and
# PostgreSQL all up), then prints the floating IP and `hactl status`.
#   show-status.sh FLOATING_IP
set -euo pipefail
vip=${1:?usage: show-status.sh FLOATING_IP}
code=
for _ in $(seq 180); do
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$vip/api/v3.1/status" || true)
  [ "$code" = 200 ] && break
  sleep 1
done
echo
if [ "$code" = 200 ]; then
  echo "floating IP: $vip   the manager: http://$vip/  (curl -s http://$vip/api/v3.1/status)"
else
  echo "floating IP: $vip does not answer 200 after 180 s (last: ${code:-none});"
  echo "see: vagrant ssh n1 -c 'sudo journalctl -u ha-supervisor -u ha-patroni'"
fi
echo
/usr/local/bin/hactl status || true
[ "$code" = 200 ]
