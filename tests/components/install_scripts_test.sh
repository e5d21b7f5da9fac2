#!/usr/bin/env bash
# The component install scripts write what the services accept: run each into a
# scratch root and check the result with the services' own validators.
#   usage: install_scripts_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The cluster's secrets file, as every deployment makes it: Consul's gossip key from it.
"$src/components/patroni/generate-secrets" "$root/cluster-secrets"
[ "$(stat -c %a "$root/cluster-secrets")" = 600 ] || fail "generate-secrets: the secrets file is not root-only"
consul_install() {
  "$src/components/consul/install.sh" --root "$root" --name consul-n1 --bind 198.18.0.11 --expect 3 \
    --join 198.18.0.12 --join 198.18.0.13 --consul-prefix "$src/.deps/consul" --no-enable "$@"
}
if consul_install >/dev/null 2>&1; then fail "consul installed without the cluster's secrets (open to any host)"; fi
sed 's/^consul_gossip=.*/consul_gossip=not-a-key"/' "$root/cluster-secrets" >"$root/bad-gossip"
if consul_install --secrets "$root/bad-gossip" >/dev/null 2>&1; then fail "consul took a gossip key that is not one"; fi
grep -v '^consul_tls_cert=' "$root/cluster-secrets" >"$root/no-cert"
if consul_install --secrets "$root/no-cert" >/dev/null 2>&1; then fail "consul installed without its TLS certificate"; fi
# A certificate from another cluster's CA is refused before Consul ever sees it.
"$src/components/patroni/generate-secrets" "$root/other-cluster"
{ grep -v '^consul_tls_ca=' "$root/cluster-secrets"; grep '^consul_tls_ca=' "$root/other-cluster"; } >"$root/mixed"
if consul_install --secrets "$root/mixed" >/dev/null 2>&1; then fail "consul took a certificate its CA did not sign"; fi
consul_install --secrets "$root/cluster-secrets" >/dev/null
[ -x "$root/opt/consul/usr/bin/consul" ] || fail "consul binary not installed"
grep -qF "\"encrypt\": \"$(sed -n 's/^consul_gossip=//p' "$root/cluster-secrets")\"" "$root/etc/consul.d/gossip.json" \
  || fail "gossip key not installed"
grep -q '"verify_incoming_rpc": true' "$root/etc/consul.d/tls.json" || fail "RPC does not verify incoming certificates"
for f in gossip.json tls/ca.pem tls/server.pem tls/server.key; do
  [ "$(stat -c %a "$root/etc/consul.d/$f")" = 600 ] || fail "$f is not root-only"
done
openssl verify -CAfile "$root/etc/consul.d/tls/ca.pem" "$root/etc/consul.d/tls/server.pem" >/dev/null \
  || fail "the installed certificate does not verify against the installed CA"
openssl x509 -in "$root/etc/consul.d/tls/server.pem" -noout -ext subjectAltName | grep 'DNS:server.dc1.consul' >/dev/null \
  || fail "the certificate is not for server.dc1.consul (verify_server_hostname)"
# ACLs: default deny, the agent's token and the master token in acl.json, each
# role's token in its own root-only file, and acl-setup with its unit.
grep -q '"default_policy": "deny"' "$root/etc/consul.d/acl.json" || fail "Consul's ACLs are not default deny"
grep -qF "\"agent\": \"$(sed -n 's/^consul_acl_agent=//p' "$root/cluster-secrets")\"" "$root/etc/consul.d/acl.json" \
  || fail "the agents' ACL token is not installed"
[ "$(stat -c %a "$root/etc/consul.d/acl.json")" = 600 ] || fail "acl.json is not root-only"
[ "$(stat -c %a "$root/etc/consul.d/tokens")" = 700 ] || fail "the tokens' folder is not root-only"
for role in master agent supervisor patroni stolon rest operator; do
  [ "$(cat "$root/etc/consul.d/tokens/$role")" = "$(sed -n "s/^consul_acl_$role=//p" "$root/cluster-secrets")" ] ||
    fail "the $role token is not installed"
  [ "$(stat -c %a "$root/etc/consul.d/tokens/$role")" = 600 ] || fail "the $role token is not root-only"
done
[ -x "$root/usr/local/lib/ha-consul/acl-setup" ] && [ -f "$root/etc/systemd/system/consul-acl-setup.service" ] ||
  fail "acl-setup or its unit missing"
sed 's/^consul_acl_supervisor=.*/consul_acl_supervisor=not-a-uuid/' "$root/cluster-secrets" >"$root/bad-token"
if consul_install --secrets "$root/bad-token" >/dev/null 2>&1; then fail "consul took an ACL token that is not a UUID"; fi
# --add-missing completes an older file and keeps what it had.
printf 'superuser=old-superuser-secret-1\n' >"$root/old-secrets"
"$src/components/patroni/generate-secrets" --add-missing "$root/old-secrets"
grep -qx 'superuser=old-superuser-secret-1' "$root/old-secrets" || fail "--add-missing changed an existing secret"
for key in replication rewind manager patroni_api consul_gossip consul_tls_ca consul_tls_cert consul_tls_key \
           consul_acl_master consul_acl_agent consul_acl_supervisor consul_acl_patroni consul_acl_rest consul_acl_operator \
           store_key; do
  grep -q "^$key=" "$root/old-secrets" || fail "--add-missing did not add $key"
done
if "$src/components/patroni/generate-secrets" "$root/old-secrets" 2>/dev/null; then fail "generate-secrets overwrote a secrets file"; fi
# The store key: 32 random bytes in standard base64, its own in each cluster.
for f in "$root/cluster-secrets" "$root/old-secrets"; do
  key=$(sed -n 's/^store_key=//p' "$f")
  [[ "$key" =~ ^[A-Za-z0-9+/]{43}=$ ]] && [ "$(printf '%s' "$key" | base64 -d | wc -c)" = 32 ] ||
    fail "generate-secrets: $f: store_key= is not 32 bytes of base64"
done
[ "$(sed -n 's/^store_key=//p' "$root/cluster-secrets")" != "$(sed -n 's/^store_key=//p' "$root/other-cluster")" ] ||
  fail "generate-secrets: two clusters got the same store key"
grep -q '"raft_multiplier": 1' "$root/etc/consul.d/server.json" || fail "raft_multiplier missing"
grep -q '"retry_join": \[ "198.18.0.12", "198.18.0.13" \]' "$root/etc/consul.d/server.json" || fail "joins missing"
[ -f "$root/etc/systemd/system/consul.service" ] || fail "consul unit missing"

# keepalived's check of the supervisor's heartbeat: fresh passes, stale or missing fails.
fresh="$src/components/keepalived/heartbeat-fresh"
touch "$root/alive"
"$fresh" "$root/alive" 10 || fail "heartbeat-fresh: a file touched now is not fresh"
touch -d '-30 seconds' "$root/alive"
if "$fresh" "$root/alive" 10; then fail "heartbeat-fresh: a file 30 s old is fresh at 10 s"; fi
if "$fresh" "$root/no-such-file" 10; then fail "heartbeat-fresh: a missing file is fresh"; fi

# The CA consul's install put under the root (the config names it as the
# supervisor will find it on the node): HTTPS to the agent by default.
[ -f "$root/etc/ssl/ha-consul-ca.pem" ] || fail "consul's CA not installed for its clients"
[ -x "$root/usr/local/bin/consul" ] || fail "the consul command (HTTPS to the agent) not installed"
"$src/components/ha-supervisor/install.sh" --root "$root" --name n1 --address 198.18.0.11 \
  --consul-ca-file "$root/etc/ssl/ha-consul-ca.pem" --bin-dir "$build/supervisor" --no-enable >/dev/null
grep -qF "port = 8501; ca_file = \"$root/etc/ssl/ha-consul-ca.pem\";" "$root/etc/ha-supervisor/ha-supervisor.conf" \
  || fail "the supervisor's config does not reach Consul over HTTPS"
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
     --consul-ca-file "$root/etc/ssl/ha-consul-ca.pem" --bin-dir "$build/supervisor" --no-enable >/dev/null 2>&1; then
  fail "an invalid node name was installed"
fi
rest_db="$root/rest-db"
echo "host=127.0.0.1 dbname=manager user=manager" >"$rest_db"
"$src/components/rest-service/install.sh" --root "$root" --db-file "$rest_db" \
  --bin-dir "$build/components/rest-service" --no-enable >/dev/null || fail "rest stand-in install failed"
[ -f "$root/etc/systemd/system/rest-standin.service" ] || fail "rest stand-in unit missing"
"$src/components/rest-service/install.sh" --root "$root" --db-file "$rest_db" \
  --bin-dir "$build/components/rest-service" --no-enable --port 8100 --listen 198.18.0.11 \
  --consul-address 198.18.0.11 >/dev/null || fail "rest stand-in install with Consul registration failed"
"$root/opt/consul/usr/bin/consul" validate "$root/etc/consul.d/" >/dev/null 2>&1 \
  || fail "the rest-service definition does not pass consul validate"
grep -q '"http": "http://198.18.0.11:8100/api/v3.1/status"' "$root/etc/consul.d/rest-service.json" \
  || fail "rest-service check missing"
grep -qF "\"token\": \"$(cat "$root/etc/consul.d/tokens/rest")\"" "$root/etc/consul.d/rest-service.json" \
  || fail "the rest-service registration does not carry the REST service's ACL token"
[ "$(stat -c %a "$root/etc/consul.d/rest-service.json")" = 600 ] || fail "rest-service.json (with its token) is not root-only"
if "$src/components/rest-service/install.sh" --root "$root" --db-file "$rest_db" --bin-dir "$build/components/rest-service" \
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
  --consul-ca-file "$root/etc/ssl/ha-consul-ca.pem" --bin-dir "$build/supervisor" --no-enable --nginx >/dev/null || fail "supervisor install with --nginx failed"
grep -q 'nginx: { enabled = true; listen_port = 80; };' "$root/etc/ha-supervisor/ha-supervisor.conf" \
  || fail "--nginx did not enable nginx in the supervisor's config"
echo "install scripts: ok"

# --- stolon (components/stolon/install.sh) ----------------------------------
# Self-contained. The stolon binaries are TEST DOUBLES made here (no stolon on
# this machine), and a curl TEST DOUBLE first in PATH logs any call: the script
# must never download anything in a test.
st=$root/stolon-test
mkdir -p "$st/fake-bin" "$st/fake-curl"
for b in stolon-keeper stolon-sentinel stolon-proxy stolonctl; do
  printf '#!/bin/sh\n# TEST DOUBLE of %s (tests/components/install_scripts_test.sh)\necho "%s test double"\n' \
    "$b" "$b" >"$st/fake-bin/$b"
  chmod 0755 "$st/fake-bin/$b"
done
printf '#!/bin/sh\n# TEST DOUBLE of curl: logs the call, downloads nothing\necho "$*" >>"%s"\nexit 1\n' \
  "$st/curl-calls" >"$st/fake-curl/curl"
chmod 0755 "$st/fake-curl/curl"
printf 'superuser=su-secret\nreplication=repl-secret\n' >"$st/passwords"
chmod 0600 "$st/passwords"
st_install() { env -u STOLON_BIN_DIR PATH="$st/fake-curl:$PATH" "$src/components/stolon/install.sh" "$@"; }
st_args=(--bin-dir "$st/fake-bin" --uid n1 --listen 198.18.0.11 --password-file "$st/passwords" --no-enable)

r=$st/root
st_install --root "$r" "${st_args[@]}" --cluster-name manager-ha --consul-address 198.18.0.11:8501 \
  --store-prefix ha/stolon --pg-port 5433 --proxy-port 25432 --data-dir /var/lib/stolon/n1 >/dev/null \
  || fail "stolon install failed"
for b in stolon-keeper stolon-sentinel stolon-proxy stolonctl; do
  [ -x "$r/opt/stolon/bin/$b" ] && cmp -s "$st/fake-bin/$b" "$r/opt/stolon/bin/$b" || fail "stolon: $b not installed"
done
[ -x "$r/opt/stolon/libexec/stolon-kill-postgres" ] || fail "stolon: stolon-kill-postgres not installed"
for unit in stolon-keeper stolon-sentinel stolon-proxy; do
  cmp -s "$src/components/stolon/$unit.service" "$r/etc/systemd/system/$unit.service" || fail "stolon: $unit unit missing"
done
for line in STOLON_CLUSTER_NAME=manager-ha STOLON_STORE_ENDPOINTS=http://198.18.0.11:8501 \
            STOLON_STORE_PREFIX=ha/stolon STOLON_KEEPER_UID=n1 STOLON_DATA_DIR=/var/lib/stolon/n1 \
            STOLON_PG_LISTEN_ADDRESS=198.18.0.11 STOLON_PG_PORT=5433 STOLON_PG_BIN_PATH=/usr/lib/postgresql/15/bin \
            STOLON_PG_SU_USERNAME=postgres STOLON_PG_REPL_USERNAME=replicator \
            STOLON_PG_SU_PASSWORDFILE=/etc/stolon/secrets/pg-su-password \
            STOLON_PG_REPL_PASSWORDFILE=/etc/stolon/secrets/pg-repl-password \
            STOLON_PROXY_LISTEN_ADDRESS=198.18.0.11 STOLON_PROXY_PORT=25432; do
  grep -qx "$line" "$r/etc/stolon/stolon.env" || fail "stolon: $line missing from stolon.env"
done
# Every ${VAR} the units use is set by the env file.
for var in $(grep -oh '\${[A-Z_]*}' "$r"/etc/systemd/system/stolon-*.service | tr -d '${}' | sort -u); do
  grep -q "^$var=" "$r/etc/stolon/stolon.env" || fail "stolon: the units use \${$var}, stolon.env does not set it"
done
for secret in su:su-secret repl:repl-secret; do
  f=$r/etc/stolon/secrets/pg-${secret%%:*}-password want=${secret#*:}
  [ "$(stat -c %a "$f")" = 600 ] || fail "stolon: $f is not mode 600"
  [ "$(cat "$f")" = "$want" ] && [ "$(stat -c %s "$f")" = "${#want}" ] ||
    fail "stolon: $f does not hold exactly the password (no newline)"
  if [ "$(id -u)" = 0 ] && id -u postgres >/dev/null 2>&1; then
    [ "$(stat -c %U "$f")" = postgres ] || fail "stolon: $f is not owned by postgres"
  fi
done
[ "$(stat -c %a "$r/etc/stolon/secrets")" = 700 ] || fail "stolon: the secrets dir is not mode 700"
[ -d "$r/var/lib/stolon/n1" ] || fail "stolon: data dir not created"
if command -v systemd-analyze >/dev/null; then
  SYSTEMD_UNIT_PATH="$r/etc/systemd/system" systemd-analyze verify --man=false \
    "$r"/etc/systemd/system/stolon-*.service 2>&1 | grep -v -e "not found" -e "No such file" \
    -e "executable path" -e "Command .* is not executable" | grep . && fail "stolon: unit file warnings" || true
fi
# A second run without --password-file keeps the passwords and updates the settings.
st_install --root "$r" --bin-dir "$st/fake-bin" --uid n1 --listen 198.18.0.11 --pg-port 5434 --no-enable >/dev/null \
  || fail "stolon: reinstall without --password-file failed"
grep -qx STOLON_PG_PORT=5434 "$r/etc/stolon/stolon.env" || fail "stolon: reinstall did not update the settings"
[ "$(cat "$r/etc/stolon/secrets/pg-su-password")" = su-secret ] || fail "stolon: reinstall lost the passwords"
# STOLON_BIN_DIR instead of --bin-dir.
STOLON_BIN_DIR=$st/fake-bin PATH="$st/fake-curl:$PATH" "$src/components/stolon/install.sh" --root "$st/root-env" \
  --uid n2 --listen 198.18.0.12 --password-file "$st/passwords" --no-enable >/dev/null \
  || fail "stolon: install with STOLON_BIN_DIR failed"
[ -x "$st/root-env/opt/stolon/bin/stolonctl" ] || fail "stolon: STOLON_BIN_DIR was not used"

# Bad values: exit 2, a message, and nothing written.
st_refused() {  # st_refused WHY ARG...
  local why=$1 rc=0 fresh
  shift
  fresh=$(mktemp -d "$st/refused.XXXXXX")
  st_install --root "$fresh" "$@" >/dev/null 2>"$st/stderr" || rc=$?
  [ "$rc" = 2 ] || fail "stolon: $why: exit $rc, expected 2 ($(cat "$st/stderr"))"
  [ -s "$st/stderr" ] || fail "stolon: $why: refused without a message"
  [ -z "$(ls -A "$fresh")" ] || fail "stolon: $why: files written before refusing"
}
cp "$st/passwords" "$st/passwords-open" && chmod 0644 "$st/passwords-open"
printf 'superuser=x\n' >"$st/passwords-half" && chmod 0600 "$st/passwords-half"
printf 'superuser=x\nreplication=y\npassword=z\n' >"$st/passwords-junk" && chmod 0600 "$st/passwords-junk"
printf 'superuser=x\nreplication=\n' >"$st/passwords-empty" && chmod 0600 "$st/passwords-empty"
st_refused "a uid with '-'" "${st_args[@]}" --uid node-1
st_refused "an upper-case uid" "${st_args[@]}" --uid N1
st_refused "an empty uid" "${st_args[@]}" --uid ''
st_refused "a cluster name with a space" "${st_args[@]}" --cluster-name 'a b'
st_refused "a cluster name with a newline" "${st_args[@]}" --cluster-name $'a\nb'
st_refused "pg port 70000" "${st_args[@]}" --pg-port 70000
st_refused "pg port 0" "${st_args[@]}" --pg-port 0
st_refused "proxy port abc" "${st_args[@]}" --proxy-port abc
st_refused "pg and proxy on one port" "${st_args[@]}" --pg-port 6000 --proxy-port 6000
st_refused "a listen address with shell text" "${st_args[@]}" --listen '198.18.0.11; rm -rf /'
st_refused "listen 300.1.1.1" "${st_args[@]}" --listen 300.1.1.1
st_refused "a bad proxy listen address" "${st_args[@]}" --proxy-listen 'a b'
st_refused "a consul address with quotes" "${st_args[@]}" --consul-address '1.2.3.4"; x'
st_refused "a consul port 99999" "${st_args[@]}" --consul-address 127.0.0.1:99999
st_refused "a store prefix with .." "${st_args[@]}" --store-prefix ../x
st_refused "a store prefix with a leading /" "${st_args[@]}" --store-prefix /stolon
st_refused "a relative data dir" "${st_args[@]}" --data-dir var/lib/stolon
st_refused "a data dir with .." "${st_args[@]}" --data-dir /var/lib/../../etc
st_refused "a relative pg bin path" "${st_args[@]}" --pg-bin-path bin
st_refused "a password file others can read" "${st_args[@]}" --password-file "$st/passwords-open"
st_refused "a password file without replication" "${st_args[@]}" --password-file "$st/passwords-half"
st_refused "a password file with another line" "${st_args[@]}" --password-file "$st/passwords-junk"
st_refused "an empty replication password" "${st_args[@]}" --password-file "$st/passwords-empty"
st_refused "a missing password file" "${st_args[@]}" --password-file "$st/nothing-here"
st_refused "no password file on a first install" --bin-dir "$st/fake-bin" --uid n1 --listen 198.18.0.11 --no-enable
st_refused "an unknown option" "${st_args[@]}" --frobnicate
st_refused "an option without its value" "${st_args[@]}" --uid
# Neither --bin-dir nor --sha256: refused, with what to do, and no download.
st_refused "no binaries and no checksum" --uid n1 --listen 198.18.0.11 --password-file "$st/passwords" --no-enable
grep -q -- '--sha256' "$st/stderr" && grep -q -- '--bin-dir' "$st/stderr" ||
  fail "stolon: the refusal does not say what to do: $(cat "$st/stderr")"
st_refused "a malformed checksum" --uid n1 --listen 198.18.0.11 --password-file "$st/passwords" --sha256 xyz
[ ! -e "$st/curl-calls" ] || fail "stolon: install.sh tried to download: $(cat "$st/curl-calls")"
# A --bin-dir without the binaries: exit 1, nothing written.
rc=0
st_install --root "$st/root-missing" --bin-dir "$st/fake-curl" --uid n1 --listen 198.18.0.11 \
  --password-file "$st/passwords" --no-enable >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "stolon: a --bin-dir without stolon binaries: exit $rc, expected 1"
[ ! -e "$st/root-missing" ] || fail "stolon: files written although the binaries were missing"

# stolon-kill-postgres, the keeper unit's ExecStartPre/ExecStopPost, against a
# real PostgreSQL 15 started by a TEST DOUBLE of stolon-keeper (postgres as its
# child, like the real keeper): kill -9 the keeper and the postmaster survives
# it, a writable primary; the script takes it down.
pgbin=/usr/lib/postgresql/15/bin
if [ -x "$pgbin/postgres" ] && [ -x /usr/bin/setpriv ] && [ "$(id -u)" = 0 ] && id -u postgres >/dev/null 2>&1; then
  as_postgres() { /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
  pgtest=$(mktemp -d /tmp/stolon-kill-postgres-test.XXXXXX)
  chown postgres:postgres "$pgtest"
  pgdata=$pgtest/keeper/postgres
  # Only processes this test started: those working in its own temp data dir.
  pg_pids() {
    local p
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/cwd" 2>/dev/null)" = "$pgdata" ] && echo "${p#/proc/}"
    done
    return 0
  }
  pg_fail() {
    local pids
    pids=$(pg_pids)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    [ -z "${keeper:-}" ] || kill -KILL "$keeper" 2>/dev/null
    rm -rf "$pgtest"
    fail "$@"
  }
  as_postgres mkdir -p "$pgtest/keeper"
  as_postgres "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >"$pgtest/initdb.log" 2>&1 || pg_fail "stolon: initdb failed"
  cat >"$pgtest/stolon-keeper-test-double" <<EOF
#!/bin/sh
# TEST DOUBLE of stolon-keeper (tests/components/install_scripts_test.sh):
# starts postgres as its own child, not daemonised, and stays.
"$pgbin/postgres" -D "$pgdata" -k "$pgtest" -c listen_addresses= >"$pgtest/postgres.log" 2>&1 &
wait
EOF
  chmod 0755 "$pgtest/stolon-keeper-test-double"
  # The installed script, where the postgres user can read it (the scratch root is root's only).
  kill_postgres=$pgtest/stolon-kill-postgres
  install -m 0755 "$r/opt/stolon/libexec/stolon-kill-postgres" "$kill_postgres"
  /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups -- "$pgtest/stolon-keeper-test-double" &
  keeper=$!
  i=0
  until as_postgres "$pgbin/pg_isready" -q -h "$pgtest" -p 5432; do
    i=$((i + 1))
    [ $i -lt 300 ] || pg_fail "stolon: PostgreSQL did not start: $(tail -5 "$pgtest/postgres.log")"
    sleep 0.1
  done
  postmaster=$(head -1 "$pgdata/postmaster.pid")
  kill -KILL "$keeper"
  wait "$keeper" 2>/dev/null || true
  keeper=
  sleep 0.3
  as_postgres "$pgbin/pg_isready" -q -h "$pgtest" -p 5432 ||
    pg_fail "stolon: expected the postmaster to outlive its keeper (what the unit guards against)"
  as_postgres "$kill_postgres" "$pgdata" 2>"$pgtest/kill.log" ||
    pg_fail "stolon: stolon-kill-postgres failed: $(cat "$pgtest/kill.log")"
  [ -z "$(pg_pids)" ] || pg_fail "stolon: PostgreSQL processes of $pgdata left: $(pg_pids)"
  [ "$(readlink "/proc/$postmaster/cwd" 2>/dev/null)" != "$pgdata" ] || pg_fail "stolon: the postmaster survived"
  grep -q "immediate shutdown" "$pgtest/kill.log" || pg_fail "stolon: stolon-kill-postgres said nothing"
  # Nothing running: nothing to do. A relative path: usage error.
  as_postgres "$kill_postgres" "$pgdata" || pg_fail "stolon: second run failed"
  rc=0
  as_postgres "$kill_postgres" keeper/postgres 2>/dev/null || rc=$?
  [ "$rc" = 2 ] || pg_fail "stolon: stolon-kill-postgres with a relative path: exit $rc, expected 2"
  rm -rf "$pgtest"
else
  echo "stolon: stolon-kill-postgres not tried against PostgreSQL (needs root, setpriv, user postgres, $pgbin)" >&2
fi
echo "stolon install script: ok"

# --- syncthing (components/syncthing/install.sh) -------------------------------
# Its first config must already keep syncthing inside the cluster: checked in
# config.xml (what syncthing reads at its first start) before it ever runs.
st_root=$(mktemp -d)
trap 'rm -rf "$root" "$st_root"' EXIT
"$src/components/syncthing/install.sh" --root "$st_root" --listen 198.18.0.11 --name n1 --no-enable >/dev/null \
  || fail "syncthing install failed"
cfg=$st_root/var/lib/ha-syncthing/config.xml
[ -f "$cfg" ] || fail "syncthing: no config.xml"
for want in '<listenAddress>tcp://198.18.0.11:22000</listenAddress>' '<globalAnnounceEnabled>false' \
  '<localAnnounceEnabled>false' '<relaysEnabled>false' '<natEnabled>false' '<urAccepted>-1' \
  '<autoUpgradeIntervalH>0' '<crashReportingEnabled>false' '<address>127.0.0.1:8384</address>' 'name="n1"'; do
  grep -q -- "$want" "$cfg" || fail "syncthing: config.xml lacks $want"
done
[ "$(grep -c '<listenAddress>' "$cfg")" = 1 ] || fail "syncthing: more than one listen address (default ones left)"
key=$(cat "$st_root/etc/ha-syncthing/api-key")
[[ "$key" =~ ^[A-Za-z0-9]{20,}$ ]] || fail "syncthing: api-key is not a usable key"
[ "$(stat -c %a "$st_root/etc/ha-syncthing/api-key")" = 600 ] || fail "syncthing: api-key is not 0600"
[ "$(stat -c %a "$st_root/etc/ha-syncthing/env")" = 600 ] || fail "syncthing: env is not 0600"
# The key is in the config alone: syncthing would accept a key in its
# environment beside it, and a rotated key must leave no old one working.
! grep -q "STGUIAPIKEY" "$st_root/etc/ha-syncthing/env" || fail "syncthing: env gives syncthing a second API key"
grep -qx "STGUIADDRESS=127.0.0.1:8384" "$st_root/etc/ha-syncthing/env" || fail "syncthing: env lacks the API's address"
grep -q "<apikey>$key</apikey>" "$cfg" || fail "syncthing: config.xml has another API key"
grep -q 'EnvironmentFile=/etc/ha-syncthing/env' "$st_root/etc/systemd/system/ha-syncthing.service" \
  || fail "syncthing: the unit does not read its environment file"
! grep -q "$key" "$st_root/etc/systemd/system/ha-syncthing.service" || fail "syncthing: the key is in the unit"
# Installing again keeps the identity and the key.
id1=$(syncthing serve --home="$st_root/var/lib/ha-syncthing" --device-id 2>/dev/null)
"$src/components/syncthing/install.sh" --root "$st_root" --listen 198.18.0.11 --name n1 --no-enable >/dev/null \
  || fail "syncthing: second install failed"
[ "$(syncthing serve --home="$st_root/var/lib/ha-syncthing" --device-id 2>/dev/null)" = "$id1" ] || fail "syncthing: identity changed"
[ "$(cat "$st_root/etc/ha-syncthing/api-key")" = "$key" ] || fail "syncthing: API key changed"
for bad in "--listen 198.18.0" "--listen 198.18.0.11 --name 'a b'" "--listen 198.18.0.11 --sync-port 70000"; do
  if eval "\"$src/components/syncthing/install.sh\" --root \"$st_root\" --no-enable $bad" >/dev/null 2>&1; then
    fail "syncthing: install accepted $bad"
  fi
done
echo "syncthing install script: ok"

# --- the upload gate (components/upload-gate/install.sh) ------------------------
# It takes syncthing's key from the file the syncthing install wrote, and its
# config must pass the binary's own check.
gate_install() { "$src/components/upload-gate/install.sh" --root "$st_root" --no-enable \
  --bin-dir "$build/components/upload-gate" --api-key-file "$st_root/etc/ha-syncthing/api-key" "$@"; }
gate_install --listen 198.18.0.11 --port 8100 --upstream-port 8200 --folder-id ha-opt-manager-resources >/dev/null \
  || fail "upload-gate install failed"
gconf=$st_root/etc/ha-upload-gate/gate.conf
grep -q 'listen = { address = "198.18.0.11"; port = 8100; };' "$gconf" || fail "upload-gate: listen not written"
grep -q 'upstream = { address = "127.0.0.1"; port = 8200; };' "$gconf" || fail "upload-gate: upstream not written"
grep -q 'metrics = { address = "127.0.0.1"; port = 8101; };' "$gconf" || fail "upload-gate: its /metrics (loopback) not written"
grep -q 'folder = { id = "ha-opt-manager-resources"; path = "/opt/manager/resources"; };' "$gconf" \
  || fail "upload-gate: folder not written"
[ "$(stat -c %a "$st_root/etc/ha-upload-gate/syncthing-api-key")" = 600 ] || fail "upload-gate: its key copy is not 0600"
cmp -s "$st_root/etc/ha-upload-gate/syncthing-api-key" "$st_root/etc/ha-syncthing/api-key" || fail "upload-gate: key differs"
[ -f "$st_root/etc/systemd/system/ha-upload-gate.service" ] || fail "upload-gate: unit missing"
# The write hold's acknowledgement goes to /run/ha-upload-gate (hold.ack_file's
# default): systemd makes it, writable in the sandbox, kept across restarts.
grep -qx 'RuntimeDirectory=ha-upload-gate' "$st_root/etc/systemd/system/ha-upload-gate.service" \
  || fail "upload-gate: the unit makes no /run/ha-upload-gate"
grep -qx 'RuntimeDirectoryPreserve=yes' "$st_root/etc/systemd/system/ha-upload-gate.service" \
  || fail "upload-gate: the unit removes /run/ha-upload-gate on a stop"
# Every daemon runs in one hardening (components/systemd/hardening.conf); the
# three network-facing services without privilege add one sandbox
# (components/systemd/sandbox.conf). The lab checks what they amount to, and
# Patroni's install (it needs Patroni 4 runnable as postgres).
for unit in ha-upload-gate rest-standin ha-syncthing ha-supervisor keepalived ha-nginx consul; do
  found=0
  for r in "$st_root" "$root"; do
    [ -f "$r/etc/systemd/system/$unit.service" ] || continue
    found=1
    cmp -s "$src/components/systemd/hardening.conf" "$r/etc/systemd/system/$unit.service.d/05-hardening.conf" \
      || fail "$unit: the hardening drop-in is not installed"
    case $unit in ha-upload-gate|rest-standin|ha-syncthing)
      cmp -s "$src/components/systemd/sandbox.conf" "$r/etc/systemd/system/$unit.service.d/10-sandbox.conf" \
        || fail "$unit: the sandbox drop-in is not installed" ;;
    esac
  done
  [ "$found" = 1 ] || fail "$unit: no install script of this test installed it"
done
grep -qx 'ReadWritePaths=/opt/manager/resources' "$root/etc/systemd/system/rest-standin.service.d/20-resources.conf" \
  || fail "rest-standin: its resources folder is not its one writable path"
for bad in "--quorum most" "--port 80a" "--metrics-port 81x" "--on-timeout maybe" '--folder-id a"b'; do
  if eval "gate_install $bad" >/dev/null 2>&1; then fail "upload-gate: install accepted $bad"; fi
done
grep -q 'port = 8100' "$gconf" || fail "upload-gate: a refused install replaced the config"
echo "upload-gate install script: ok"
