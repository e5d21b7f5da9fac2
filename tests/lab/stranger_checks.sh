# Sourced by lab_test.sh (its check, in_node, holders, prop and $lab, $vip, $top):
# the lab's client c1 plays a stranger on the managers' LAN and tries what one
# would. Each attack must be refused and leave the cluster as it was. Every
# check fails when its protection is off (tried by hand with it removed: the
# forged adverts took the IP from its holder, Patroni obeyed c1's POST).

# What every node says it has on.
protections_shown() {
  local n line
  for n in n1 n2 n3; do
    line=$(in_node "$n" hactl status | grep '^protections:')
    [ "$line" = "protections: Consul gossip encryption on, RPC TLS on, ACLs (default deny) on, API HTTPS only on, VRRP filter loaded, members-only ports loaded, Patroni REST password on, API writes token (root only)" ] ||
      { echo "    $n: ${line:-no protections line}"; return 1; }
  done
}
check "hactl status on every node: gossip encryption, RPC TLS, ACLs, the VRRP filter, Patroni's password, the API token on" \
  wait_for 10 protections_shown

# --- Consul: only agents with the cluster's gossip key join -----------------------
stranger_joins_consul() {  # prints the stranger agent's last words
  local d out
  d=$(mktemp -d)
  # -join (not retry-join): the agent exits when its join fails. Its own ports
  # are in c1's namespace, so nothing on this machine is in its way.
  out=$("$lab" exec c1 timeout 10 "$top/.deps/consul/usr/bin/consul" agent -node stranger-c1 -data-dir "$d" \
    -bind 198.18.0.50 -join 198.18.0.11 -dns-port -1 -grpc-port -1 -log-level warn 2>&1)
  rm -rf "$d"
  echo "$out" | grep -E 'Failed to join|encrypt' | head -2 | sed 's/^ */    /'
}
stranger_refused() { local said; said=$(stranger_joins_consul); echo "$said"; grep -q 'Remote state is encrypted' <<<"$said"; }
consul_members() { consul_cli n1 operator members | awk 'NR > 1 {print $1}' | sort | tr '\n' ' '; }
check "c1 starts a Consul agent and joins a node: refused (gossip is encrypted with the cluster's key)" stranger_refused
check "... and Consul's members are still the three servers" [ "$(consul_members)" = 'consul-n1 consul-n2 consul-n3 ' ]
# Without an agent: Consul's server RPC (8300) spoken directly, as a KV write.
rpc_refused() { local out; out=$("$lab" exec c1 python3 "$top/tests/lab/attacks/consul-rpc" --to 198.18.0.11); local rc=$?
  echo "$out" | sed 's/^/    /'; [ $rc -eq 0 ]; }
check "c1 speaks Consul's server RPC (8300) to n1, asking the leader and writing a key: both refused (TLS, the cluster's certificate)" rpc_refused
check "... Consul says why (a connection without TLS from 198.18.0.50), and the key was not written" bash -c \
  "'$lab' exec n1 journalctl -u consul --no-pager --since=-1min | grep 'Non-TLS connection attempted.*198.18.0.50' >/dev/null &&
   ! CONSUL_HTTP_TOKEN_FILE=/etc/consul.d/tokens/operator '$lab' exec n1 /usr/local/bin/consul kv get ha-stranger/was-here >/dev/null 2>&1"
check "c1 cannot reach Consul's HTTP API or syncthing's on a node (loopback only)" bash -c \
  "! '$lab' exec c1 curl -s -m 2 -k https://198.18.0.11:8501/v1/kv/ && ! '$lab' exec c1 curl -s -m 2 http://198.18.0.11:8500/v1/kv/ &&
   ! '$lab' exec c1 curl -s -m 2 http://198.18.0.11:8384/"

# --- Consul's ACLs: default deny, one token per role --------------------------------
# Any local user reaches Consul's HTTP API on 127.0.0.1; without a token it
# reads and writes nothing. Each service's token does its own work only.
as_nobody() { local n=$1; shift; "$lab" exec "$n" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
anonymous_refused() {
  local code ok=0 call
  for call in "PUT /v1/kv/ha-supervisor/nodes/intruder" "PUT /v1/agent/service/register" \
              "PUT /v1/agent/maintenance?enable=true" "PUT /v1/session/create"; do
    set -- $call
    code=$(as_nobody n1 curl -s -o /dev/null -m 2 -w '%{http_code}' -X "$1" -d '{"Name":"rest-service","Port":1}' \
      --cacert /etc/ssl/ha-consul-ca.pem "https://127.0.0.1:8501$2")
    [ "$code" = 403 ] || { echo "    nobody: $1 $2: $code"; ok=1; }
  done
  if as_nobody n1 curl -s -m 2 --cacert /etc/ssl/ha-consul-ca.pem \
      'https://127.0.0.1:8501/v1/kv/ha-supervisor/?recurse=true' | grep 'members/' >/dev/null; then
    echo "    nobody lists the cluster's keys"; ok=1
  fi
  return $ok
}
# The upload gate listens on each node's address for every node's nginx; a
# stranger must go through nginx (its limits, its one entry on the floating IP).
gate_members_only() {
  local n code ok=0
  for n in n1 n2 n3; do
    code=$("$lab" exec c1 curl -s -o /dev/null -m 2 -w '%{http_code}' "http://198.18.0.1${n:1}:8100/api/v3.1/status")
    [ "$code" = 000 ] || { echo "    c1 -> $n's gate: HTTP $code"; ok=1; }
  done
  code=$("$lab" exec n2 curl -s -o /dev/null -m 2 -w '%{http_code}' http://198.18.0.11:8100/api/v3.1/status)
  [ "$code" = 200 ] || { echo "    n2 -> n1's gate: HTTP $code (a member must get through)"; ok=1; }
  code=$("$lab" exec c1 curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$vip/api/v3.1/status")
  [ "$code" = 200 ] || { echo "    c1 -> the floating IP: HTTP $code"; ok=1; }
  "$lab" exec n1 nft list table ip ha_supervisor_members_only | grep -E 'tcp dport (8100|\{ ([0-9]+, )*8100(, [0-9]+)* \}) ip saddr != \{ 198\.18\.0\.11, 198\.18\.0\.12, 198\.18\.0\.13 \} counter packets [1-9]' >/dev/null ||
    { echo "    n1's members-only table did not count c1's packets:"; "$lab" exec n1 nft list table ip ha_supervisor_members_only | sed 's/^/      /'; ok=1; }
  return $ok
}
check "c1 cannot talk to any node's upload gate directly (members only: the kernel drops it); a member can, and c1 through nginx on the floating IP" \
  gate_members_only

https_only() {
  local ok=0 leader
  as_nobody n1 curl -s -m 2 -o /dev/null http://127.0.0.1:8500/v1/status/leader &&
    { echo "    plain HTTP answered on 127.0.0.1:8500"; ok=1; }
  [ "$(as_nobody n1 curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:8501/v1/status/leader)" = 200 ] &&
    { echo "    plain HTTP answered on the HTTPS port"; ok=1; }
  leader=$(as_nobody n1 curl -s -m 2 --cacert /etc/ssl/ha-consul-ca.pem https://127.0.0.1:8501/v1/status/leader)
  [ -n "$leader" ] || { echo "    HTTPS with the cluster's CA got no leader"; ok=1; }
  as_nobody n1 curl -s -m 2 -o /dev/null https://127.0.0.1:8501/v1/status/leader &&
    { echo "    the system's trust store accepted Consul's certificate"; ok=1; }
  return $ok
}
check "Consul's API on n1 is HTTPS only: plain HTTP gets no answer on 8500 or 8501; HTTPS verifies against the cluster's CA alone" \
  https_only
check "nobody on n1 (no token): Consul refuses a KV write, a service registration, agent maintenance, a session (403), and lists no key" \
  anonymous_refused
tokens_least_privilege() {
  local ok=0
  consul_call n1 supervisor PUT /v1/kv/service/manager-db/supervisor-was-here x >/dev/null &&
    { echo "    the supervisor's token wrote into Patroni's namespace"; ok=1; }
  consul_call n1 patroni PUT /v1/kv/ha-supervisor/patroni-was-here x >/dev/null &&
    { echo "    Patroni's token wrote under the supervisor's prefix"; ok=1; }
  consul_call n1 operator PUT /v1/kv/ha-supervisor/operator-was-here x >/dev/null &&
    { echo "    the operator's read-only token wrote a key"; ok=1; }
  consul_call n1 rest PUT /v1/kv/ha-supervisor/rest-was-here x >/dev/null &&
    { echo "    the REST service's token wrote a key"; ok=1; }
  consul_call n1 operator GET '/v1/kv/ha-supervisor/?keys=true' | grep 'ha-supervisor/leader' >/dev/null ||
    { echo "    the operator's token cannot read the cluster's keys"; ok=1; }
  # stolon's token (its units take it once stolon runs here: issue 13): its
  # prefix and sessions, nothing of the supervisor's or Patroni's.
  consul_call n1 stolon PUT /v1/kv/stolon/cluster/lab-token-check x >/dev/null ||
    { echo "    stolon's token cannot write under stolon/"; ok=1; }
  consul_call n1 stolon DELETE /v1/kv/stolon/cluster/lab-token-check >/dev/null
  consul_call n1 stolon PUT /v1/session/create '{"Name":"stolon-check","TTL":"10s"}' >/dev/null ||
    { echo "    stolon's token cannot open a session"; ok=1; }
  consul_call n1 stolon PUT /v1/kv/ha-supervisor/stolon-was-here x >/dev/null &&
    { echo "    stolon's token wrote under the supervisor's prefix"; ok=1; }
  consul_call n1 stolon PUT /v1/kv/service/manager-db/stolon-was-here x >/dev/null &&
    { echo "    stolon's token wrote into Patroni's namespace"; ok=1; }
  return $ok
}
check "each token does only its own work: supervisor, Patroni, stolon, REST and the read-only operator's refused elsewhere" \
  tokens_least_privilege

# --- Patroni's REST API: writes only from the cluster, with its password ------------
patroni_config() { "$lab" exec n1 curl -s -m 2 http://198.18.0.11:8008/config; }
config_before=$(patroni_config)
patroni_refuses_c1() {  # each unsafe call from c1 answers 403
  local call code ok=0
  for call in "PATCH /config {\"ttl\":120}" "POST /restart {}" "POST /reinitialize {}" "POST /switchover {\"leader\":\"n1\"}"; do
    set -- $call
    code=$("$lab" exec c1 curl -s -o /dev/null -m 3 -w '%{http_code}' -X "$1" -d "$3" "http://198.18.0.11:8008$2")
    [ "$code" = 403 ] || { echo "    $1 $2 from c1: $code"; ok=1; }
  done
  return $ok
}
check "c1 PATCHes Patroni's config and POSTs restart, reinitialize, switchover: each refused (403)" patroni_refuses_c1
check "a member without the REST API's password is refused too (401): n2 POSTs restart to n1" \
  [ "$("$lab" exec n2 curl -s -o /dev/null -m 3 -w '%{http_code}' -X POST -d '{}' http://198.18.0.11:8008/restart)" = 401 ]
config_unchanged() { [ -n "$config_before" ] && [ "$(patroni_config)" = "$config_before" ]; }
check "... and Patroni's dynamic config is unchanged" config_unchanged

# --- PostgreSQL: only the cluster's nodes may even try a password -------------------
# pg_hba names each node by its own address (not the peer network): c1 is
# turned away before any password is asked; a member gets as far as the check.
pg_login_from() {  # pg_login_from NODE: psql as postgres to n1 with a wrong password; its error
  "$lab" exec "$1" env PGPASSWORD=not-the-password PGCONNECT_TIMEOUT=3 \
    psql "host=198.18.0.11 port=5432 user=postgres dbname=postgres sslmode=disable" -c 'select 1' 2>&1
}
pg_refuses_c1() {
  local out
  out=$(pg_login_from c1)
  echo "$out" | grep 'no pg_hba.conf entry for host "198.18.0.50"' >/dev/null || { echo "    c1: $out"; return 1; }
}
check "c1 connects to PostgreSQL on n1 as its superuser: refused before a password is asked (no pg_hba entry)" pg_refuses_c1
pg_asks_n2() {
  local out
  out=$(pg_login_from n2)
  echo "$out" | grep 'password authentication failed for user "postgres"' >/dev/null || { echo "    n2: $out"; return 1; }
}
check "... while a member (n2) gets as far as the password check (scram)" pg_asks_n2

# --- keepalived: only the registered peers' adverts count ----------------------------
# Two layers: the kernel drops VRRP from non-members (the supervisor's nft
# table), and keepalived's check_unicast_src refuses them too. The first one
# matters: each stranger's advert keepalived reads delays the holder's own
# (33 a second made its adverts 0.35 s apart, and a backup took the IP).
vrrp_holder=$(holders)
vrrp_dropped() {  # packets the holder's kernel dropped by the VRRP filter
  ip netns exec "hal-$vrrp_holder" nft list table ip ha_supervisor_vrrp 2>/dev/null |
    sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}
dropped_before=$(vrrp_dropped)
"$lab" exec c1 python3 "$top/tests/lab/attacks/forge-vrrp" --to "198.18.0.1${vrrp_holder:1}" --vrid 51 \
  --vip "$vip" --priority 254 --count 100 --interval 0.03 | sed 's/^/    /'
sleep 1
check "c1 sends forged VRRP adverts (priority 254, 33 a second) to the holder ($vrrp_holder): it keeps the floating IP" \
  [ "$(holders)" = "$vrrp_holder" ]
check "... because its kernel dropped them (the supervisor's VRRP filter: members only)" \
  [ "$(( $(vrrp_dropped) - ${dropped_before:-0} ))" -ge 100 ]
# A firewall service that starts with `flush ruleset` empties the kernel's
# tables: the supervisor notices (it looks every 10 s) and loads its own again.
ip netns exec "hal-$vrrp_holder" nft flush ruleset
check "the VRRP filter flushed away on $vrrp_holder (a firewall reload): the supervisor loads it again within 15 s" \
  wait_for 15 bash -c "ip netns exec hal-$vrrp_holder nft list table ip ha_supervisor_vrrp | grep 'ip protocol vrrp' >/dev/null"
check "... and its dead-peers table too (loaded again within 15 s, with its reset rule)" \
  wait_for 15 bash -c "ip netns exec hal-$vrrp_holder nft list table ip ha_supervisor_dead_peers | grep 'reject with tcp reset' >/dev/null"

# --- a local user who is not root, on a node ---------------------------------------
check "nobody on n1: hactl maintenance on is refused (the API's token is root's), and says so" bash -c \
  "$(declare -f as_nobody); lab='$lab'; out=\$(as_nobody n1 hactl maintenance on 2>&1); [ \$? -eq 1 ] && grep -q 'run hactl as root' <<<\"\$out\""
check "nobody on n1: POST /maintenance without the token answers 401" \
  [ "$(as_nobody n1 curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST -d '{"enabled":true}' http://127.0.0.1:8801/maintenance)" = 401 ]
check "... and no node is in maintenance" bash -c "! '$lab' exec n1 hactl status | grep maintenance >/dev/null"
unreadable_by_nobody() {
  local f
  for f in /etc/ha-supervisor/db-secrets /etc/consul.d/gossip.json /run/ha-supervisor/api-token \
           /etc/ha-supervisor/patroni/patroni.yml /etc/consul.d/acl.json /etc/consul.d/tokens/supervisor \
           /etc/consul.d/rest-service.json /etc/rest-standin/db; do
    in_node n1 test -e "$f" || { echo "    $f is missing on n1"; return 1; }
    if as_nobody n1 cat "$f" >/dev/null 2>&1; then echo "    nobody reads $f"; return 1; fi
  done
}
check "nobody on n1 cannot read a secret: the secrets file, Consul's gossip key and ACL tokens, the API token, patroni.yml" unreadable_by_nobody
no_secret_in_ps() {  # no secret of the cluster's file in any process's command line, on any node
  local n key value
  for n in n1 n2 n3; do
    local args; args=$(in_node "$n" ps -eo args)
    while IFS='=' read -r key value; do
      [ -n "$value" ] && [ "${key:0:1}" != '#' ] || continue
      if grep -qF -- "$value" <<<"$args"; then echo "    $key's value is on a command line on $n"; return 1; fi
    done <"$top/.run/lab/db-secrets"
  done
}
check "no secret (passwords, gossip key, ACL tokens) on any process's command line (ps -eo args, every node)" no_secret_in_ps

# --- a symbolic link in the resources folder, replicated by syncthing --------------
# Planted on n2 (by a local user there, or a peer's syncthing), it reaches the
# other nodes as a link. No REST call or nginx read through the floating IP
# may follow it out of the folder, on any node.
for n in n1 n2 n3; do in_node "$n" sh -c 'mkdir -p /root/outside && echo precious >/root/outside/marker'; done
in_node n2 ln -s /root/outside /opt/manager/resources/blueprints/evil-link
check "a symbolic link planted on n2 reaches n1 and n3 through syncthing (as a link)" wait_for 20 bash -c \
  "for n in n1 n3; do '$lab' exec \$n test -L /opt/manager/resources/blueprints/evil-link || exit 1; done"
link_refused() {
  local code
  code=$("$lab" exec c1 curl -s -o /dev/null -m 3 -w '%{http_code}' "http://$vip/resources/blueprints/evil-link/marker")
  [ "$code" = 403 ] || [ "$code" = 404 ] || { echo "    GET /resources/blueprints/evil-link/marker: $code"; return 1; }
  code=$("$lab" exec c1 curl -s -o /dev/null -m 5 -w '%{http_code}' -X PUT --data-binary x "http://$vip/api/v3.1/blueprints/evil-link")
  [ "$code" != 201 ] || { echo "    PUT through the link: 201"; return 1; }
  "$lab" exec c1 curl -s -o /dev/null -m 5 -X DELETE "http://$vip/api/v3.1/blueprints/evil-link"
  for n in n1 n2 n3; do
    [ "$(in_node "$n" cat /root/outside/marker 2>/dev/null)" = precious ] || { echo "    $n: /root/outside/marker was touched"; return 1; }
    [ "$(in_node "$n" ls /root/outside)" = marker ] || { echo "    $n: something was written into /root/outside"; return 1; }
  done
}
check "through the floating IP, nginx's /resources/ and the REST service's GET, PUT and DELETE never follow it out" link_refused
in_node n2 rm -f /opt/manager/resources/blueprints/evil-link

# --- least privilege: what a compromised service could do ---------------------
# Every daemon runs in components/systemd/hardening.conf (read-only system,
# private /dev, kernel and namespaces out of reach, its own writable paths);
# the gate, the REST stand-in and syncthing, which face the network and need
# no privilege, add sandbox.conf (no capability at all). Without them
# systemd-analyze rated each 9.6 "UNSAFE" (Patroni, as postgres: 9.2).
sandboxed() {
  local unit score
  for unit in ha-upload-gate rest-standin ha-syncthing ha-supervisor keepalived ha-nginx ha-patroni consul; do
    score=$(in_node n1 systemd-analyze security --no-pager "$unit.service" 2>/dev/null |
      sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "    $unit: exposure $score"
    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 3.0) }' || return 1
  done
}
check "systemd-analyze security rates every daemon of the node 3.0 or less (sandboxed)" sandboxed
# What the privileged ones keep, from each running process (CapEff, decoded by
# capsh): exactly the capabilities their units name, nothing more.
only_named_capabilities() {
  local unit want pid got
  while read -r unit want; do
    pid=$(prop n1 "$unit" MainPID)
    got=$(in_node n1 sh -c "capsh --decode=\$(sed -n 's/^CapEff:\t//p' /proc/$pid/status)" | sed 's/^0x[0-9a-f]*=//')
    echo "    $unit (pid $pid): ${got:-none}"
    [ "$got" = "$want" ] || { echo "    expected: $want"; return 1; }
  done <<'UNITS'
ha-supervisor cap_chown,cap_net_bind_service,cap_net_admin
keepalived cap_kill,cap_setgid,cap_setuid,cap_net_admin,cap_net_raw
ha-nginx cap_chown,cap_setgid,cap_setuid,cap_net_bind_service
consul
UNITS
}
check "the supervisor, keepalived, nginx's master and Consul hold only the capabilities their units name" only_named_capabilities
own_users() {  # each network-facing service runs as its own user, not root
  local unit want pid user
  while read -r unit want; do
    pid=$(prop n1 "$unit" MainPID)
    user=$(in_node n1 ps -o user:32= -p "$pid")
    echo "    $unit (pid $pid): $user"
    [ "$user" = "$want" ] || return 1
  done <<'UNITS'
ha-upload-gate ha-gate
rest-standin rest-standin
ha-syncthing ha-syncthing
UNITS
}
check "the gate, the REST stand-in and syncthing each run as their own user, not root" own_users
check "the REST stand-in's connection string (its password) is readable by root and its own user only (owner rest-standin, 0400)" \
  [ "$(in_node n1 stat -c '%U %a' /etc/rest-standin/db)" = "rest-standin 400" ]
no_capabilities() {
  local unit pid caps
  for unit in rest-standin ha-syncthing ha-upload-gate; do
    pid=$(prop n1 "$unit" MainPID)
    caps=$(in_node n1 sed -n 's/^CapEff:\t//p' "/proc/$pid/status")
    [ "$caps" = 0000000000000000 ] || { echo "    $unit (pid $pid): effective capabilities $caps"; return 1; }
  done
}
check "none of the three holds a single capability (CapEff 0)" no_capabilities
