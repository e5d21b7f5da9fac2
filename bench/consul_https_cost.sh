#!/usr/bin/env bash
# What HTTPS costs each call to the local Consul agent (components/consul: its
# API is HTTPS only, and the supervisor opens a new connection per call, with
# no TLS session reuse). One throwaway Consul 1.8.7 server on 127.0.0.1 (free
# ports, the project's consul-config, the certificate generate-secrets makes)
# serves both plain HTTP and HTTPS; curl makes N calls of each kind in a row,
# each on a new connection (HTTP/1.1 as the supervisor speaks it, Connection:
# close, no TLS session reuse: every call is checked to be one), and the
# time per call is printed with the CPU the client used.
#   bench/consul_https_cost.sh [--calls N]   (default 500)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
consul=$top/.deps/consul/usr/bin/consul
calls=500
[ "${1:-}" = --calls ] && calls=$2
[ -x "$consul" ] || { echo "consul_https_cost: no $consul: run scripts/setup" >&2; exit 2; }
work=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http=$(free_port) https=$(free_port)
(cd "$work" && "$top/components/patroni/generate-secrets" secrets >/dev/null && mkdir tls &&
  for p in ca cert key; do sed -n "s/^consul_tls_$p=//p" secrets | base64 -d >"tls/$p.pem"; done)
"$top/components/consul/consul-config" --name bench --bind 127.0.0.1 --data-dir "$work/data" --expect 1 \
  --http "$http" --serf-lan "$(free_port)" --serf-wan "$(free_port)" --server-port "$(free_port)" >"$work/server.json"
cat >"$work/tls.json" <<JSON
{ "ports": { "https": $https }, "ca_file": "$work/tls/ca.pem", "cert_file": "$work/tls/cert.pem",
  "key_file": "$work/tls/key.pem" }
JSON
"$consul" agent -config-file="$work/server.json" -config-file="$work/tls.json" >"$work/consul.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -n "$(curl -s -m 1 "http://127.0.0.1:$http/v1/status/leader" | tr -d '"')" ] && break
  sleep 0.2
done
# run KIND URL CURL-OPTIONS...: N calls, one curl process, a new connection each.
run() {
  local kind=$1 url=$2 args=() i
  shift 2
  for i in $(seq "$calls"); do args+=(--next -s -o /dev/null -w '%{http_code} %{num_connects}\n' -H 'Connection: close' "$@" "$url"); done
  local t0=$EPOCHREALTIME
  TIMEFORMAT='%U %S'
  local cpu
  cpu=$( { time curl "${args[@]:1}" >"$work/answers"; } 2>&1 )
  # Every call answered 200 on a connection of its own, or the figure means nothing.
  [ "$(grep -c "^200 1$" "$work/answers")" = "$calls" ] || { echo "$kind: not every call was a 200 on a new connection:" >&2; sort "$work/answers" | uniq -c >&2; exit 1; }
  local wall_us=$(( (10#${EPOCHREALTIME//[!0-9]/} - 10#${t0//[!0-9]/}) ))
  local user=${cpu% *} sys=${cpu#* }
  awk -v k="$kind" -v n="$calls" -v w="$wall_us" -v u="$user" -v s="$sys" \
    'BEGIN { printf "%-6s %d calls: %.2f ms each (wall), client CPU %.2f ms each\n", k, n, w / n / 1000, (u + s) * 1000 / n }'
}
echo "consul_https_cost: GET /v1/status/leader, a new connection per call ($(date -u +%F))"
for round in 1 2 3; do
  run http "http://127.0.0.1:$http/v1/status/leader"
  run https "https://127.0.0.1:$https/v1/status/leader" --cacert "$work/tls/ca.pem" --no-sessionid --http1.1
done
