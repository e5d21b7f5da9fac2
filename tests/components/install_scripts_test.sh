#!/usr/bin/env bash
# The component install scripts write what the services accept: run each into a
# scratch root and check the result with the services' own validators.
#   usage: install_scripts_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$src/components/consul/install.sh" --root "$root" --name consul-n1 --bind 198.18.0.11 --expect 3 \
  --join 198.18.0.12 --join 198.18.0.13 --consul-prefix "$src/.deps/consul" --no-enable >/dev/null
[ -x "$root/opt/consul/usr/bin/consul" ] || fail "consul binary not installed"
grep -q '"raft_multiplier": 1' "$root/etc/consul.d/server.json" || fail "raft_multiplier missing"
grep -q '"retry_join": \[ "198.18.0.12", "198.18.0.13" \]' "$root/etc/consul.d/server.json" || fail "joins missing"
[ -f "$root/etc/systemd/system/consul.service" ] || fail "consul unit missing"

"$src/components/ha-supervisor/install.sh" --root "$root" --name n1 --address 198.18.0.11 \
  --bin-dir "$build/supervisor" --no-enable >/dev/null
"$root/usr/local/bin/ha-supervisor" --check-config "$root/etc/ha-supervisor/ha-supervisor.conf" >/dev/null \
  || fail "installed config does not pass --check-config"
[ -f "$root/etc/systemd/system/ha-supervisor.service" ] || fail "supervisor unit missing"
if command -v systemd-analyze >/dev/null; then
  # Unit syntax, without loading the host's units.
  SYSTEMD_UNIT_PATH="$root/etc/systemd/system" systemd-analyze verify --man=false \
    "$root/etc/systemd/system/ha-supervisor.service" 2>&1 | grep -v -e "not found" -e "No such file" \
    -e "executable path" -e "Command .* is not executable" | grep . && fail "unit file warnings" || true
fi
# A bad name is refused by the installed binary's config check, not silently written.
if "$src/components/ha-supervisor/install.sh" --root "$root" --name "Bad Name" --address 198.18.0.11 \
     --bin-dir "$build/supervisor" --no-enable >/dev/null 2>&1; then
  fail "an invalid node name was installed"
fi
"$src/components/rest-service/install.sh" --root "$root" --db "host=127.0.0.1 dbname=manager user=manager" \
  --bin-dir "$build/components/rest-service" --no-enable >/dev/null || fail "rest stand-in install failed"
[ -f "$root/etc/systemd/system/rest-standin.service" ] || fail "rest stand-in unit missing"
"$src/components/rest-service/install.sh" --root "$root" --db "host=127.0.0.1 dbname=manager user=manager" \
  --bin-dir "$build/components/rest-service" --no-enable --port 8100 --listen 198.18.0.11 \
  --consul-address 198.18.0.11 >/dev/null || fail "rest stand-in install with Consul registration failed"
"$root/opt/consul/usr/bin/consul" validate "$root/etc/consul.d/" >/dev/null 2>&1 \
  || fail "the rest-service definition does not pass consul validate"
grep -q '"http": "http://198.18.0.11:8100/api/v3.1/status"' "$root/etc/consul.d/rest-service.json" \
  || fail "rest-service check missing"
if "$src/components/rest-service/install.sh" --root "$root" --db "host=x" --bin-dir "$build/components/rest-service" \
     --no-enable --consul-address '1.2.3.4"; x' >/dev/null 2>&1; then
  fail "a bad --consul-address was written into Consul's config"
fi
"$src/components/keepalived/install.sh" --root "$root" >/dev/null || fail "keepalived install failed"
[ -f "$root/etc/systemd/system/keepalived.service" ] || fail "keepalived unit missing"
[ -f "$root/usr/local/share/ha-supervisor/templates/keepalived.conf.mustache" ] || fail "templates not installed"
"$src/components/nginx/install.sh" --root "$root" >/dev/null || fail "nginx install failed"
[ -f "$root/etc/systemd/system/ha-nginx.service" ] || fail "ha-nginx unit missing"
[ -d "$root/etc/ha-supervisor/nginx" ] || fail "nginx config dir missing"
[ -f "$root/usr/local/share/ha-supervisor/templates/nginx.conf.mustache" ] || fail "nginx template not installed"
"$src/components/ha-supervisor/install.sh" --root "$root" --name n1 --address 198.18.0.11 \
  --bin-dir "$build/supervisor" --no-enable --nginx >/dev/null || fail "supervisor install with --nginx failed"
grep -q 'nginx: { enabled = true; listen_port = 80; };' "$root/etc/ha-supervisor/ha-supervisor.conf" \
  || fail "--nginx did not enable nginx in the supervisor's config"
echo "install scripts: ok"
