#!/usr/bin/env bash
# The lab, end to end, with real systemd as PID 1 in every node: lifecycle,
# fault injection and supervision. Needs root (namespaces, mounts, cgroups).
#   usage: lab_test.sh   (from ctest; uses the checkout it lives in)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
lab="$top/scripts/lab"

. "$top/tests/lab/own_lab_or_skip.sh"
. "$top/tests/lab/checks.sh"
. "$top/tests/lab/db_checks.sh"
# A failed check prints what the cluster looked like then, so a CI log that
# only keeps the failure says why, not just which.
on_failure_show_state() {
  [ -e "$top/.run/lab/nodes" ] || return 0
  "$lab" status 2>&1 | sed 's/^/    state: /'
  local n
  for n in n1 n2 n3; do
    "$lab" exec "$n" timeout 5 hactl status 2>&1 | head -40 | sed "s/^/    $n: /"
  done
  # The brokers' own words on what they saw (a pause in a minority, a node down).
  for n in n1 n2 n3; do
    # (Waiting/tables/Mnesia/timeout: what a broker silent at boot waits for.)
    timeout 5 "$lab" exec "$n" journalctl --no-pager -o short-precise --since=-300s -u ha-rabbitmq 2>/dev/null |
      grep -E 'minority|partition|pausing|paused|down|Stopping|Starting|leader|refused|error|Waiting|tables|Mnesia|timeout' |
      tail -15 | sed "s/^/    broker $n: /"
  done
  vip_history
}
# The floating IP's last events on every node, oldest first, as "why:" lines
# (scripts/test repeats them after ctest, where a CI log cut to its tail still
# shows them): keepalived's state changes, the supervisors' floating-IP
# decisions and their quorum's loss and return, in the last 90 s; six per node.
vip_history() {
  local n
  for n in n1 n2 n3; do
    timeout 5 "$lab" exec "$n" journalctl --no-pager -o short-precise --since=-90s -u keepalived -u ha-supervisor 2>/dev/null |
      N=$n perl -ne '
        my ($t) = /^\S+ \d+ (\S+) /;
        if (/Keepalived_vrrp\[\d+\]: \(.*?\) (Entering [A-Z]+)/) { print "$t $ENV{N} keepalived: $1\n" }
        elsif (/(floating IP: (?:giving it up|this node may hold it|kept while Consul)[^;]*)/) { print "$t $ENV{N} supervisor: $1\n" }
        elsif (/(no Consul quorum for \d+ ms|Consul quorum reachable)/) { print "$t $ENV{N} supervisor: $1\n" }' |
      tail -6
  done | sort | sed 's/^/    why: /'
}
in_node() { "$lab" exec "$@"; }
# Consul's HTTP API on NODE with ROLE's ACL token (a root-only file on the node,
# components/consul/install.sh), sent from stdin: never on a command line.
consul_call() {  # consul_call NODE ROLE METHOD PATH [BODY]
  CONSUL_BODY=${5:-} CONSUL_TOKEN_FILE=/etc/consul.d/tokens/$2 in_node "$1" sh -c \
    'printf "X-Consul-Token: %s\n" "$(cat "$CONSUL_TOKEN_FILE")" |
     curl -sf -X "$0" --max-time 2 -H @- ${CONSUL_BODY:+--data "$CONSUL_BODY"} --cacert /etc/ssl/ha-consul-ca.pem "https://127.0.0.1:8501$1"' "$3" "$4"
}
# The consul CLI on NODE with ROLE's token (CONSUL_HTTP_TOKEN_FILE: read from the file).
consul_cli() {  # consul_cli NODE ROLE ARGS...
  local n=$1 role=$2; shift 2
  CONSUL_HTTP_TOKEN_FILE=/etc/consul.d/tokens/$role in_node "$n" /usr/local/bin/consul "$@"
}
vip=198.18.0.100
holders() {  # nodes with the floating IP on their link
  local out="" n
  for n in n1 n2 n3; do ip -n "hal-$n" -4 addr show dev eth0 2>/dev/null | grep " $vip/" >/dev/null && out+="$n "; done
  echo "${out% }"
}
one_holder() { local h; h=$(holders); [ -n "$h" ] && [ "${h// /}" = "$h" ]; }
vip_answers() { "$lab" exec c1 ping -c1 -W1 "$vip" >/dev/null 2>&1; }
leader_seen_by() { in_node "$1" hactl status 2>/dev/null | sed -n 's/^leader: \(n[0-9]\).*/\1/p'; }
healthy() { in_node "$1" hactl health; }
is_leader() { in_node "$1" hactl leader; }
another_leader() {  # another_leader OLD VIEWER
  local l; l=$(leader_seen_by "$2"); [ -n "$l" ] && [ "$l" != "$1" ] && in_node "$l" hactl leader >/dev/null 2>&1
}
prop() { in_node "$1" systemctl show "$2" -p "$3" --value; }
# Signals a unit's main process, by the PID systemd reports once it is a real
# one. Never 0 or empty: `kill 0` would signal this script's whole process
# group (ctest included).
signal_main_pid() {  # signal_main_pid NODE UNIT SIGNAL
  local pid=""
  for _ in $(seq 100); do
    pid=$(prop "$1" "$2" MainPID 2>/dev/null)
    [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] && break
    pid=""
    sleep 0.1
  done
  [ -n "$pid" ] || { echo "    $2 on $1 has no main process"; return 1; }
  in_node "$1" kill "-$3" "$pid"
}
nothing_left() {
  ! ip netns list | grep '^hal-' >/dev/null && ! grep -q "$top/.run/lab" /proc/mounts \
    && [ ! -d /sys/fs/cgroup/unified/ha-lab ] && [ ! -d "$top/.run/lab" ] \
    && ! ps -eo args | grep -v grep | grep -E "^/lib/systemd/systemd --system --unit=multi-user.target" >/dev/null
}
cleanup() { "$lab" down >/dev/null 2>&1; }
trap cleanup EXIT

# --- up ---------------------------------------------------------------------
out=$("$lab" up 2>&1); rc=$?
check "lab up succeeds" [ $rc -eq 0 ]
if [ $rc -ne 0 ]; then
  # Nothing after this can pass: say why and stop, rather than wait out every check.
  echo "$out" | tail -20 | sed 's/^/    /'
  for f in "$top"/.run/lab/*/provision.log; do [ -f "$f" ] && { echo "    $f:"; tail -5 "$f" | sed 's/^/      /'; }; done
  echo "$passed passed, $((failed)) failed"
  exit 1
fi
echo "$out" | grep -E "booted|lab up in" | sed 's/^/    /'
check "every node shows its units active" wait_for 20 bash -c "'$lab' status | grep -c 'consul:active ha-supervisor:active keepalived:active ha-nginx:active ha-patroni:active ha-syncthing:active rest-standin:active ha-upload-gate:active' | grep -x 3 >/dev/null"
check "lab up again is idempotent" bash -c "'$lab' up 2>&1 | grep 'already up' >/dev/null"
check "c1 reaches every node" bash -c "for ip in 198.18.0.11 198.18.0.12 198.18.0.13; do '$lab' exec c1 ping -c1 -W1 \$ip >/dev/null || exit 1; done"
check "a node reaches nothing outside the lab (no default route)" bash -c "'$lab' exec n1 ping -c1 -W1 198.51.100.1 2>&1 | grep 'unreachable' >/dev/null"
leader=$(leader_seen_by n1)
check "a leader is elected" [ -n "$leader" ]

# --- nginx ------------------------------------------------------------------------
check "nginx serves on every node (ha-nginx started by the supervisor)" wait_for 20 bash -c \
  "for ip in 198.18.0.11 198.18.0.12 198.18.0.13; do '$lab' exec c1 curl -sf --max-time 2 http://\$ip/nginx-health | grep -x ok >/dev/null || exit 1; done"

# --- the REST stand-in on PostgreSQL HA (Patroni), through the floating IP --------
check "the REST service answers on the floating IP: its database is writable" wait_for 30 bash -c \
  "'$lab' exec c1 curl -sf --max-time 2 http://$vip/api/v3.1/status | grep '\"db\":\"writable\"' >/dev/null"
db_rows() { "$lab" exec n1 hactl status 2>/dev/null | grep -E '^n[1-3] '; }
# Quorum commit (db.synchronous quorum): both standbys are synchronous (ANY 1).
check "hactl status: one primary, two synchronous standbys (quorum commit), all on one timeline" wait_for 30 bash -c \
  "$(declare -f db_rows); lab='$lab'; r=\$(db_rows); [ \"\$(echo \"\$r\" | grep -c ' primary TL1')\" = 1 ] && [ \"\$(echo \"\$r\" | grep -c ' sync TL1 lag')\" = 2 ]"
preference_follows_primary() {  # 1 in the preference track file on the primary's node only
  local p n v
  p=$("$lab" exec n1 hactl status | awk '/ primary TL/ {print $1; exit}')
  [ -n "$p" ] || return 1
  for n in n1 n2 n3; do
    v=$("$lab" exec "$n" cat /run/ha-supervisor/vip-db-primary 2>/dev/null)
    if [ "$n" = "$p" ]; then [ "$v" = 1 ] || return 1; else [ "$v" = 0 ] || return 1; fi
  done
}
check "the database primary's node is the preferred next holder of the floating IP (track file 1 there only)" \
  wait_for 10 preference_follows_primary
# The row is in PostgreSQL, so every node's REST instance reads it; the bytes
# stay on the node that took the upload until file replication (syncthing).
upload_failure_context() {  # what the holder's nginx and gate said about the last 90 s
  local h; h=$(holders)
  [ -n "$h" ] || return 0
  in_node "$h" tail -5 /var/log/ha-nginx/error.log 2>/dev/null | sed "s/^/    $h nginx: /"
  in_node "$h" grep ' PUT ' /var/log/ha-nginx/access.log 2>/dev/null | tail -3 | sed "s/^/    $h nginx: /"
  in_node "$h" journalctl --no-pager -o short-precise --since=-90s -u ha-upload-gate -u rest-standin 2>/dev/null |
    grep -v 'GET /api/v3.1/status' | tail -12 | sed "s/^/    $h: /"
}
upload_reads_back() {  # prints the upload's answer and each node's read when one fails
  local sum row n
  sum=$("$lab" exec c1 sh -c "head -c 100000 /dev/urandom >/tmp/lab-bp && sum=\$(sha256sum /tmp/lab-bp | cut -c1-64) &&
    answer=\$(curl -s -i -X PUT --max-time 60 -w 'curl: %{http_code} after %{time_total} s, %{size_upload} bytes sent\n' \
      --data-binary @/tmp/lab-bp http://$vip/api/v3.1/blueprints/lab-bp) &&
    echo \"\$answer\" | head -1 | grep ' 201 ' >/dev/null || { echo \"\$answer\" | sed 's/^/    /' >&2; exit 1; }
    echo \$sum") || { upload_failure_context; return 1; }
  # Each node's gate answers the cluster's nodes only: read on the node itself.
  for n in n1 n2 n3; do
    row=$("$lab" exec "$n" curl -s "http://198.18.0.1${n:1}:8100/api/v3.1/blueprints/lab-bp")
    echo "$row" | grep "$sum" >/dev/null || { echo "    $n: $row"; return 1; }
  done
}
check "a blueprint uploaded through the floating IP: its row reads back with its checksum from every node" upload_reads_back
# --- a stranger on the managers' LAN (c1): refused everywhere, the cluster unchanged ---
source "$top/tests/lab/stranger_checks.sh"
# --- the resources folder, replicated by syncthing (kept by the supervisors) ------
archive_sums() {  # archive_sums ID NODE...: the archive's checksum on each node ("-" where absent)
  local id=$1 n; shift
  for n in "$@"; do
    in_node "$n" sh -c "sha256sum /opt/manager/resources/blueprints/$id/archive 2>/dev/null | cut -c1-64 || true" | grep . || echo -
  done | tr '\n' ' '
}
same_everywhere() {  # same_everywhere ID NODE...: present and equal on every node
  local sums; sums=$(archive_sums "$@")
  [[ "$sums" != *-* ]] && [ "$(echo "$sums" | tr ' ' '\n' | grep . | sort -u | wc -l)" = 1 ]
}
check "hactl status: every node's files are in sync with its 2 peers (syncthing)" wait_for 20 bash -c \
  "[ \"\$('$lab' exec n1 hactl status | grep -cE '^n[1-3] .*in sync, 2/2 peers')\" = 3 ]"
check "the uploaded blueprint's archive reaches every node with the same bytes" wait_for 15 same_everywhere lab-bp n1 n2 n3

# --- the message broker (components/rabbitmq) -----------------------------------
broker_secrets="$top/.run/lab/db-secrets"
broker_check="$top/tests/lab/broker_check.py"
# Confirmed publishes to a quorum queue through the floating IP, from c1 as
# the manager's clients (tests/lab/broker_check.py): publisher_start QUEUE
# SECONDS runs it in the background; publisher_lost_none QUEUE waits for it,
# reads the queue to the end and fails if any confirmed message is missing.
publisher_start() {
  broker_log=$(mktemp) broker_out=$(mktemp)
  "$lab" exec c1 "$broker_check" publish "$vip" "$broker_secrets" "$1" "$2" "$broker_log" >"$broker_out" 2>&1 &
  publisher=$!
}
publisher_lost_none() {
  local consumed rc
  wait "$publisher"
  sed 's/^/    /' "$broker_out"
  consumed=$("$lab" exec c1 "$broker_check" consume "$vip" "$broker_secrets" "$1" "$broker_log" 2>&1); rc=$?
  printf '%s\n' "$consumed" | sed 's/^/    /'
  rm -f "$broker_log" "$broker_out"
  return $rc
}
# queue_led_by QUEUE NODE [not]: another node's hactl status names NODE's
# broker as QUEUE's Raft leader, all 3 replicas online (with "not": names
# another node's broker).
queue_led_by() {
  local viewer=n1 line
  [ "$2" = n1 ] && viewer=n2
  line=$(in_node "$viewer" hactl status 2>/dev/null | grep "^  quorum queue $1: leader ") || return 1
  if [ "${3:-}" = not ]; then
    ! grep "leader rabbit@198.18.0.1${2:1}," <<<"$line" >/dev/null
  else
    grep "leader rabbit@198.18.0.1${2:1}, 3 of 3 replicas online" <<<"$line" >/dev/null
  fi
}
brokers_clustered() {  # brokers_clustered N NODE...: each NODE's broker runs in a cluster of N, all running
  local count=$1 n; shift
  for n in "$@"; do
    in_node "$n" hactl status 2>/dev/null | grep "^broker: running, $count of $count nodes " >/dev/null || return 1
  done
}
t0=$(date +%s%N)
check "the brokers form one cluster: every manager's broker runs with 3 of 3 nodes" wait_for 90 brokers_clustered 3 n1 n2 n3
echo "    clustered $(( ($(date +%s%N) - t0) / 1000000 )) ms into this check"
founded_once() {
  local key founder n
  key=$(consul_call n1 operator GET /v1/kv/ha-supervisor/broker/seed?raw) || return 1
  founder=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["node"])' "$key") || return 1
  echo "    founder in Consul: $key"
  for n in n1 n2 n3; do
    in_node "$n" hactl status 2>/dev/null | grep "^broker: .*, founded by $founder (rabbit@" >/dev/null || return 1
  done
}
check "... founded once: every node names the founder Consul's create-only key holds" founded_once
qq_everywhere() {  # the manager's durable queue: a quorum queue with a replica on every manager, all online
  in_node n1 hactl status 2>/dev/null | grep "^  quorum queue cloudify.management: leader rabbit@198.18.0.1[1-3], 3 of 3 replicas online" >/dev/null
}
check "... the manager's durable queue is a quorum queue with a replica on every manager, all online" wait_for 20 qq_everywhere
check "... hactl status shows the broker of every node (BROKER column)" bash -c \
  "[ \$('$lab' exec n2 hactl status | grep -cE '^n[1-3] .*running, 3 of 3 nodes') = 3 ]"
broker_refusals() {
  # A stranger (c1) neither reaches the Erlang ports (members-only) nor the
  # management API (loopback), and AMQP wants a password.
  ! "$lab" exec c1 timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.11/25672' 2>/dev/null &&
  ! "$lab" exec c1 timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.11/4369' 2>/dev/null &&
  ! "$lab" exec c1 timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.11/15672' 2>/dev/null &&
  in_node n2 timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.11/25672' &&
  "$lab" exec c1 /usr/bin/python3 -c '
import pika, sys
try:
    pika.BlockingConnection(pika.ConnectionParameters("198.18.0.100", credentials=pika.PlainCredentials("manager", "wrong")))
except pika.exceptions.ProbableAuthenticationError:
    sys.exit(0)
sys.exit(1)'
}
check "... c1 cannot reach the brokers' Erlang ports or management API (n2 can), and a wrong AMQP password is refused" broker_refusals
# The two writers of the resources folder (the REST stand-in and syncthing,
# each its own user) share its group: what one wrote, on any node, the other
# may replace or delete.
shared_by_the_group() {
  local n wrong
  for n in n1 n2 n3; do
    in_node "$n" test -f /opt/manager/resources/blueprints/lab-bp/archive || { echo "    $n: no lab-bp"; return 1; }
    wrong=$(in_node "$n" find /opt/manager/resources/blueprints ! -type l \( ! -group ha-resources -o ! -perm -g+w \) -printf '%p %u:%g %m\n')
    [ -z "$wrong" ] || { echo "$wrong" | sed "s/^/    $n: /"; return 1; }
  done
}
check "... owned by the group ha-resources and group-writable on every node (written by rest-standin on one, syncthing on the others)" shared_by_the_group
# The upload gate: an upload's answer leaves once a majority of the managers
# have the file (this node and one peer of two: the gate's quorum 1, as
# provision-node sets it); syncthing carries it to the other peer right after.
gated=$(mktemp); hung=$(mktemp)
# /metrics (Prometheus text on each node's loopback), read with the Prometheus
# project's parser: NODE PORT NAME [LABEL=VALUE...] -> the samples' sum.
metric() {
  local n=$1 port=$2; shift 2
  "$lab" exec "$n" curl -sf --max-time 3 "http://127.0.0.1:$port/metrics" | "$top/tests/lab/metric_value.py" "$@"
}
released_writes() {
  local n sum=0 v
  for n in n1 n2 n3; do
    v=$(metric "$n" 8101 ha_upload_gate_writes_total outcome=replicated answer=released 2>/dev/null) || v=0
    sum=$((sum + ${v%.*}))
  done
  echo "$sum"
}
every_metrics_parses() {
  local n
  for n in n1 n2 n3; do
    [ "$(metric "$n" 8801 ha_supervisor_healthy)" = 1 ] || { echo "    $n: ha_supervisor_healthy is not 1"; return 1; }
    [ "$(metric "$n" 8801 ha_supervisor_member_up)" = 3 ] || { echo "    $n: not 3 members up"; return 1; }
    metric "$n" 8101 ha_upload_gate_confirmation_seconds_count >/dev/null ||
      { echo "    $n: the gate's /metrics does not parse or lacks its histogram"; return 1; }
  done
}
check "metrics: every supervisor's and gate's /metrics parses (prometheus_client), each supervisor healthy and sees 3 members up" \
  every_metrics_parses
writes_before=$(released_writes)
"$top/scripts/lab.d/gated-uploads" 100 gated >"$gated" 2>&1; rc=$?
tail -3 "$gated" | sed 's/^/    /'
check "100 uploads (1 KB-5 MB) through the floating IP: each acknowledged one is, when its answer arrives, on the peers it names (at least one), and soon on every node" [ $rc -eq 0 ]
writes_after=$(released_writes)
echo "    gates' replicated and released writes: $writes_before before, $writes_after after"
check "metrics: the gates counted the 100 uploads as replicated and released (ha_upload_gate_writes_total)" \
  [ $((writes_after - writes_before)) -ge 100 ]
check "the answer names the peers that hold the file (X-Replicated-To)" \
  grep -qE 'replicated_to "n[1-4](, n[1-4])?"' "$gated"
deleted=$(mktemp)
"$lab" exec c1 curl -s -o /dev/null -D - -X DELETE "http://$vip/api/v3.1/blueprints/gated-1" | tr -d '\r' >"$deleted"
gone_from() {  # gone_from NODE...: the deleted blueprint's archive is 404 on each
  local n
  for n in "$@"; do
    [ "$("$lab" exec "$n" curl -s -o /dev/null -w '%{http_code}' "http://198.18.0.1${n:1}:8100/api/v3.1/blueprints/gated-1/archive")" = 404 ] || return 1
  done
}
named=$(sed -n 's/^[Xx]-[Rr]eplicated-[Tt]o: *//p' "$deleted" | tr ',' '\n' | grep -oE 'n[0-9]+' | tr '\n' ' ')
deleted_on_named() { grep -q '^HTTP/1.1 204' "$deleted" && [ -n "$named" ] && gone_from $named; }
check "a delete is gone from the peers its 204 names when it arrives (${named:-none named})" deleted_on_named
check "... and from every node a moment later" wait_for 10 gone_from n1 n2 n3
rm -f "$deleted"
# Both peers of every node hung: nothing can be replicated. The answer is the
# safe error, never a durability claim.
for n in n1 n2 n3; do in_node "$n" systemctl kill --signal=SIGSTOP ha-syncthing; done
"$lab" exec c1 sh -c "head -c 2048 /dev/urandom >/tmp/hung-bp && curl -s -D - --max-time 20 -X PUT --data-binary @/tmp/hung-bp http://$vip/api/v3.1/blueprints/hung-bp" >"$hung" 2>&1
for n in n1 n2 n3; do in_node "$n" systemctl kill --signal=SIGCONT ha-syncthing; done
grep -E '^HTTP|error' "$hung" | head -2 | sed 's/^/    /'
check "syncthing hung everywhere: an upload gets 503 within 20 s (replication.timeout_ms 10 s) with Retry-After and a JSON error, no X-Replicated-To" bash -c \
  "grep -q '^HTTP/1.1 503' '$hung' && grep -qi '^retry-after:' '$hung' && grep -q '\"error\"' '$hung' && ! grep -qi '^x-replicated-to:' '$hung'"
rm -f "$gated" "$hung"
# Patroni double-forks the postmaster: only ha-patroni.service's ExecStop keeps
# a PostgreSQL from outliving a killed Patroni (a writable primary nobody runs).
die_together() {
  local replica="" pid="" t0
  # A replica with a running postmaster (its Patroni may be mid-restart).
  for _ in $(seq 100); do
    replica=$("$lab" exec n1 hactl status 2>/dev/null | awk '/ (replica|sync) TL/ {print $1; exit}')
    if [ -n "$replica" ]; then
      pid=$("$lab" exec "$replica" sh -c 'p=$(head -1 /var/lib/ha-patroni/data/postmaster.pid) && grep -q postgres /proc/$p/comm && echo $p' 2>/dev/null)
      [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] && break
    fi
    pid=""; sleep 0.1
  done
  [ -n "$pid" ] || { echo "    no replica with a running postmaster within 10 s (replica: '${replica}')"; return 1; }
  signal_main_pid "$replica" ha-patroni.service KILL || return 1
  t0=$(date +%s%N)
  # Gone, or a zombie waiting to be reaped (kill -0 succeeds on zombies).
  for _ in $(seq 50); do
    "$lab" exec "$replica" sh -c "! kill -0 $pid 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' /proc/$pid/stat" 2>/dev/null \
      && { echo "    postgres (pid $pid) on $replica stopped $(( ($(date +%s%N) - t0) / 1000000 )) ms after Patroni was killed"; return 0; }
    sleep 0.1
  done
  echo "    postgres (pid $pid) on $replica still runs 5 s after Patroni was killed:"
  "$lab" exec "$replica" sh -c "cat /proc/$pid/stat; ps -eo pid,ppid,stat,comm | grep -E 'postgres|patroni'" 2>&1 | sed 's/^/      /' | head -12
  "$lab" exec "$replica" journalctl -u ha-patroni -n 20 --no-pager 2>&1 | sed 's/^/      /'
  return 1
}
check "Patroni killed (SIGKILL): its PostgreSQL is stopped too within 5 s" die_together
dbrun=$("$top/scripts/lab.d/db-failover-run" "$(mktemp -d)" 2>&1); rc=$?
echo "    $dbrun" | head -3
check "crash of the primary's node during a stream of commits: writes resume on another node, no acknowledged commit lost" [ $rc -eq 0 ]
crashed=$(echo "$dbrun" | sed -n 's/.*primary_before \(n[0-9]\).*/\1/p')
if [ -n "$crashed" ]; then
  # A peer down: the quorum rule (every connected peer, at least one) decides,
  # and the answer says who holds the file and who does not.
  peer_down=$(mktemp)
  live_ips=(); for n in n1 n2 n3; do [ "$n" = "$crashed" ] || live_ips+=("198.18.0.1${n:1}"); done
  wait_for 30 bash -c "'$top/scripts/lab.d/gated-uploads' 1 down-$crashed-\$RANDOM ${live_ips[*]} >'$peer_down' 2>&1"
  # Until the new primary's synchronous standby follows it, a commit can wait
  # past the REST service's statement timeout (503 from the REST service, not
  # the gate): this check is about the gate, so it retries for that long.
  upload_with_peer_down() {
    "$lab" exec c1 sh -c "head -c 4096 /dev/urandom >/tmp/down-bp && curl -s -D - --max-time 30 -X PUT --data-binary @/tmp/down-bp http://$vip/api/v3.1/blueprints/down-bp" >"$peer_down" 2>&1
    grep -q '^HTTP/1.1 201' "$peer_down"
  }
  wait_for 30 upload_with_peer_down
  grep -iE '^(HTTP|x-replicat)' "$peer_down" | tr -d '\r' | sed 's/^/    /'
  grep -q '^HTTP/1.1 201' "$peer_down" || tail -1 "$peer_down" | sed 's/^/    /'
  check "with $crashed down, an upload is acknowledged with the live peer named and $crashed named missing" bash -c \
    "grep -q '^HTTP/1.1 201' '$peer_down' && grep -qiE '^x-replicated-to: n[1-3]' '$peer_down' && grep -qi '^x-replication-missing: .*$crashed' '$peer_down'"
  rm -f "$peer_down"
  "$lab" restart "$crashed" >/dev/null
  check "the crashed primary's node comes back as a replica on the new timeline" wait_for 60 bash -c \
    "'$lab' exec n1 hactl status 2>/dev/null | awk '\$1 == \"$crashed\"' | grep -E ' (sync|replica) TL2 lag' >/dev/null"
  check "its supervisor is healthy again" wait_for 30 healthy "$crashed"
  check "the preference followed the primary to its new node" wait_for 10 preference_follows_primary
fi
# A node that just booted reloads its Consul agent once its ACLs are set up
# (consul-acl-setup.service, ~10 s after the boot), which registers the
# services of /etc/consul.d again: rest-service's deregistration below would
# be undone (a lab run failed the two checks after it that way). Wait for it.
acl_setup_done() { local n; for n in n1 n2 n3; do in_node "$n" systemctl is-active -q consul-acl-setup || return 1; done; }
wait_for 60 acl_setup_done || echo "    consul-acl-setup has not finished on every node"
# For the nginx checks below, a named test double replaces the REST stand-in:
# python's http.server answers /api/whoami with its node's name.
for n in n1 n2 n3; do
  in_node "$n" systemctl stop rest-standin
  consul_call "$n" rest PUT /v1/agent/service/deregister/rest-service >/dev/null
done
check "/api/ on the floating IP says clearly that no REST service is healthy (503 JSON from nginx)" wait_for 10 bash -c \
  "'$lab' exec c1 curl -s --max-time 2 -w ' %{http_code}' http://$vip/api/v3.1/status | tr '\\n' ' ' | grep 'no healthy REST service registered in Consul.* 503' >/dev/null"
nginx_rows() { "$lab" exec n1 hactl status 2>/dev/null | grep -E '^n[1-3] ' | grep -oE 'gen [0-9]+ [0-9a-f]{8}'; }
check "hactl status: every node serves an nginx config, all with the same upstream set" wait_for 10 bash -c \
  "$(declare -f nginx_rows); lab='$lab'; [ \"\$(nginx_rows | wc -l)\" -eq 3 ] && [ \"\$(nginx_rows | awk '{print \$3}' | sort -u | wc -l)\" -eq 1 ]"

# --- nginx follows the REST instances' health, on every node ---------------------
# The test double registers with each node's Consul agent as rest-service with
# an HTTP check, as components/rest-service/install.sh --consul-address does.
for n in n1 n2 n3; do
  ip=198.18.0.1${n:1}
  in_node "$n" sh -c "mkdir -p /tmp/fake-rest/api/v3.1 && echo $n >/tmp/fake-rest/api/whoami && echo ok >/tmp/fake-rest/api/v3.1/status"
  in_node "$n" systemd-run --quiet --unit=fake-rest python3 -m http.server 8180 --bind "$ip" --directory /tmp/fake-rest
  consul_call "$n" rest PUT /v1/agent/service/register \
    "{\"ID\":\"rest-service\",\"Name\":\"rest-service\",\"Address\":\"$ip\",\"Port\":8180,\"Check\":{\"HTTP\":\"http://$ip:8180/api/v3.1/status\",\"Interval\":\"1s\",\"Timeout\":\"1s\"}}"
done
answers_from() {  # answers_from URL COUNT: the distinct bodies of COUNT GETs from c1
  for _ in $(seq "$2"); do "$lab" exec c1 curl -s --max-time 2 "$1"; done | sort -u | tr '\n' ' '
}
own_instances() {  # every node's nginx answers from its own node's REST instance only
  local n
  for n in n1 n2 n3; do [ "$(answers_from "http://198.18.0.1${n:1}/api/whoami" 4)" = "$n " ] || return 1; done
}
check "nginx on every node routes /api/ to its own node's REST instance (the others are backups)" wait_for 20 own_instances
codes=$(mktemp)
( while :; do "$lab" exec c1 curl -s -o /dev/null -w '%{http_code}\n' --max-time 2 "http://$vip/api/whoami"; done >"$codes" 2>&1 ) &
stream=$!
t0=$(date +%s%N)
"$lab" stop n2 fake-rest >/dev/null
not_routed_anywhere() {  # no node's nginx answers from n2 any more
  local ip
  for ip in 198.18.0.11 198.18.0.12 198.18.0.13; do
    case "$(answers_from "http://$ip/api/whoami" 6)" in *n2*) return 1 ;; esac
  done
}
check "REST on n2 stopped: nginx on every node, n2's own included, stops routing to it within 5 s" wait_for 5 not_routed_anywhere
echo "    no node routes to n2 $(( ($(date +%s%N) - t0) / 1000000 )) ms after it stopped (Consul's check runs every 1 s)"
sleep 0.5
kill "$stream"; wait "$stream" 2>/dev/null
check "no failed request through the floating IP meanwhile ($(wc -l <"$codes") requests)" bash -c "[ -s '$codes' ] && ! grep -qv '^200\$' '$codes'"
grep -v '^200$' "$codes" | sort | uniq -c | sed 's/^/    not 200: /' | head -3
# A request that failed here should have gone to a backup: what nginx said, on each node.
if grep -qv '^200$' "$codes"; then
  for n in n1 n2 n3; do
    in_node "$n" sh -c 'tail -n 8 /var/log/ha-nginx/error.log 2>/dev/null' | sed "s/^/    $n nginx error.log: /"
  done
fi
rm -f "$codes"
check "hactl status: every node serves the same upstream set again" wait_for 10 bash -c \
  "$(declare -f nginx_rows); lab='$lab'; [ \"\$(nginx_rows | awk '{print \$3}' | sort -u | wc -l)\" -eq 1 ] && [ \"\$(nginx_rows | wc -l)\" -eq 3 ]"

# Placement: the holder's REST instance fails its check -> the IP moves to a fit node.
in_node n2 systemd-run --quiet --unit=fake-rest python3 -m http.server 8180 --bind 198.18.0.12 --directory /tmp/fake-rest
wait_for 10 own_instances
unfit=$(holders)
t0=$(date +%s%N)
"$lab" stop "$unfit" fake-rest >/dev/null
check "REST on the holder ($unfit) fails its check: the floating IP moves to a fit node within 6 s" wait_for 6 bash -c \
  "h=\$($(declare -f holders); vip=$vip; holders); [ -n \"\$h\" ] && [ \"\$h\" != $unfit ] && [ \"\${h// /}\" = \"\$h\" ]"
echo "    moved $(( ($(date +%s%N) - t0) / 1000000 )) ms after its REST instance stopped (check interval 1 s)"
check "hactl status says why: its health names the failing check" bash -c \
  "'$lab' exec n1 hactl status | awk '\$1 == \"$unfit\"' | grep 'rest-service failing its checks here' >/dev/null"
for n in n1 n2 n3; do
  in_node "$n" systemctl stop fake-rest >/dev/null 2>&1
  consul_call "$n" rest PUT /v1/agent/service/deregister/rest-service >/dev/null
  # The REST stand-in back, with its registration from /etc/consul.d.
  in_node "$n" systemctl start rest-standin
  consul_cli "$n" master reload >/dev/null
done
check "the REST stand-in is back behind the floating IP" wait_for 20 bash -c \
  "'$lab' exec c1 curl -sf --max-time 2 http://$vip/api/v3.1/status | grep writable >/dev/null"

# Placement: the holder's syncthing hung (SIGSTOP: its unit stays active, its
# API stops answering) for files.unfit_after_ms (10 s) -> the IP moves.
unsynced=$(holders)
in_node "$unsynced" systemctl kill --signal=SIGSTOP ha-syncthing
t0=$(date +%s%N)
check "syncthing hung on the holder ($unsynced): the floating IP moves to a fit node within 20 s" wait_for 20 bash -c \
  "h=\$($(declare -f holders); vip=$vip; holders); [ -n \"\$h\" ] && [ \"\$h\" != $unsynced ] && [ \"\${h// /}\" = \"\$h\" ]"
echo "    moved $(( ($(date +%s%N) - t0) / 1000000 )) ms after syncthing hung (files.unfit_after_ms 10 s + vip.unfit_grace_ms 3 s)"
check "hactl status says why: files, syncthing unreachable" bash -c \
  "'$lab' exec n1 hactl status | awk '\$1 == \"$unsynced\"' | grep 'files: syncthing unreachable' >/dev/null"
in_node "$unsynced" systemctl kill --signal=SIGCONT ha-syncthing
# Its peers dropped the stalled connections; the dialer redials every 5 s
# (options.reconnectionIntervalS, set by the supervisor): 60 s is a generous bound.
check "syncthing resumed: the node's files are in sync again" wait_for 60 bash -c \
  "'$lab' exec n1 hactl status | awk '\$1 == \"$unsynced\"' | grep 'in sync, 2/2 peers' >/dev/null"

# --- the broker: a quorum queue's leader crashes (not the floating IP's holder) ---
# The publisher's connection stays where it is (the holder); the queue's Raft
# majority elects a leader among the two left.
# The primary's node crashed earlier (the database's test): its broker must be
# back in the cluster first. After a power cut RabbitMQ now and then stays
# silent at boot (not diagnosed yet); the supervisor restarts a broker silent
# for broker.stuck_after_ms (60 s) with its unit up; RabbitMQ's own stop then
# takes 30 s and more (the restart's job outlived the supervisor's 30 s wait
# once), then it boots and joins: 180 s bounds that path (121 s seen once in a
# clean-clone CI run, 2026-12-06, one second past the 120 s this waited before).
t0=$SECONDS
check "the brokers are one cluster again after that crash (3 of 3 nodes on every node)" \
  wait_for 180 brokers_clustered 3 n1 n2 n3
echo "    clustered $((SECONDS - t0)) s into this check"
qnode=n1; for n in n1 n2 n3; do [ "$n" = "$(holders)" ] || { qnode=$n; break; }; done
"$lab" exec c1 "$broker_check" declare "198.18.0.1${qnode:1}" "$broker_secrets" lab-leader-crash | sed 's/^/    /'
check "broker: a quorum queue declared through $qnode's address is led by $qnode's broker" \
  wait_for 15 queue_led_by lab-leader-crash "$qnode"
publisher_start lab-leader-crash 20
sleep 3
"$lab" crash "$qnode" >/dev/null
check "... $qnode crashed: another broker leads the queue within 20 s" wait_for 20 queue_led_by lab-leader-crash "$qnode" not
publisher_lost_none lab-leader-crash; rc=$?
check "... every publish confirmed through the floating IP across the queue leader's crash is consumed (0 lost)" [ $rc -eq 0 ]
"$lab" restart "$qnode" >/dev/null
check "... $qnode back: its broker rejoins (3 of 3 nodes on every node)" wait_for 90 brokers_clustered 3 n1 n2 n3
# Its replica catches up from the leader's log: all three online again.
check "... the queue's replica on $qnode is online again (3 of 3)" wait_for 30 bash -c \
  "$(declare -f in_node); lab='$lab'; in_node n1 hactl status | grep '^  quorum queue lab-leader-crash: leader .*, 3 of 3 replicas online'"
wait_for 30 healthy "$qnode" >/dev/null
wait_for 30 one_holder >/dev/null

# --- the floating IP ------------------------------------------------------------
check "exactly one node holds the floating IP and it answers from c1" bash -c "$(declare -f holders one_holder); vip=$vip; one_holder && '$lab' exec c1 ping -c1 -W1 $vip >/dev/null"
doubles=0
for _ in $(seq 20); do h=$(holders); [ "${h// /}" = "$h" ] || doubles=$((doubles + 1)); sleep 0.1; done
check "steady state: never two holders (20 samples)" [ "$doubles" -eq 0 ]
holder=$(holders)
# Confirmed publishes to a quorum queue through the floating IP, from before
# the crash until after it: none may be lost.
publisher_start lab-check 25
sleep 3
t0=$(date +%s%N)
"$lab" crash "$holder" >/dev/null
check "crash of the holder: the floating IP answers on another node within 5 s" wait_for 5 vip_answers
echo "    answered again $(( ($(date +%s%N) - t0) / 1000000 )) ms after the crash"
check "crash of the holder: exactly one holder, not the crashed node" bash -c "h=\$($(declare -f holders); vip=$vip; holders); [ -n \"\$h\" ] && [ \"\$h\" != $holder ] && [ \"\${h// /}\" = \"\$h\" ]"
moved_to=$(holders)
# Settle first: while the crash's effects last (a database failover, files
# not yet in sync) the new holder is unfit, and it rightly hands the IP to
# the first fit node, which can be the one that comes back. That is a move
# for a reason; what must not happen is the returning node taking the IP
# from a healthy holder.
# Fit, not only taking part: `hactl health` answers 200 for a follower whose
# database endpoint is still failing over, and such a holder hands the IP on;
# so the database must have its primary again on a live node (a CI run
# restarted the crashed node 1 s after the crash of the primary's node, mid-failover).
live_nodes_fit() {
  local n viewer="" table
  for n in n1 n2 n3; do [ "$n" = "$holder" ] || { viewer=$n; break; }; done
  table=$(in_node "$viewer" hactl status 2>/dev/null) || return 1
  for n in n1 n2 n3; do
    [ "$n" = "$holder" ] && continue
    healthy "$n" >/dev/null 2>&1 || return 1
    awk -v n="$n" '$1 == n && $4 == "ok" { found = 1 } END { exit !found }' <<<"$table" || return 1
  done
  awk -v h="$holder" '$1 ~ /^n[1-3]$/ && $1 != h && / primary TL/ { found = 1 } END { exit !found }' <<<"$table"
}
wait_for 30 live_nodes_fit
publisher_lost_none lab-check; rc=$?
check "broker: every publish confirmed through the floating IP across the holder's crash is consumed (0 lost)" [ $rc -eq 0 ]
moved_to=$(holders)
"$lab" restart "$holder" >/dev/null
wait_for 30 healthy "$holder" >/dev/null
sleep 2
now_held=$(holders)
# It may have moved on since (to the database's new primary, when the crash
# took the primary too), but never back to the node that crashed.
check "the crashed holder comes back as backup: exactly one holder, not the node that crashed" \
  bash -c "[ -n '$now_held' ] && [ '$now_held' != '$holder' ] && [ '${now_held// /}' = '$now_held' ]"
echo "    crashed $holder, moved to $moved_to, held by $now_held after its restart"
if [ "$now_held" = "$holder" ] && [ -n "$moved_to" ]; then
  in_node n1 hactl status 2>/dev/null | grep -E '^(NODE|n[1-3] )' | sed 's/^/    /'
  in_node "$moved_to" journalctl -u ha-supervisor --no-pager --since=-90s 2>/dev/null | grep -E 'floating IP' | tail -5 | sed 's/^/    /'
fi
holder=$(holders)
vip_column() {  # vip_column VIEWER NODE: that node's FLOATING IP cell in VIEWER's hactl status
  in_node "$1" hactl status 2>/dev/null | awk -v n="$2" '$1 == n' | grep -oE 'holder \([A-Z]+\)|(MASTER|BACKUP|FAULT|STOP)' | head -1
}
# The node that just came back publishes its record once its session is open
# and the crashed session's lock-delay (3.5 s) has passed: allow for a slow boot.
check "hactl status names the holder, MASTER, and the others BACKUP (keepalived's notify FIFO)" wait_for 30 bash -c \
  "$(declare -f in_node vip_column); lab='$lab'; [ \"\$(vip_column n1 $holder)\" = 'holder (MASTER)' ] && for n in n1 n2 n3; do [ \$n = $holder ] || [ \"\$(vip_column n1 \$n)\" = BACKUP ] || exit 1; done"
for n in n1 n2 n3; do [ "$(vip_column n1 "$n")" ] || echo "    n1 sees no floating-IP state for $n"; done
"$lab" exec c1 ping -c1 -W1 "$vip" >/dev/null 2>&1  # c1 knows the holder's MAC
cut_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$lab" stop "$holder" consul >/dev/null
check "holder cut off from Consul (link up): its supervisor gives the IP up within 6 s" wait_for 6 bash -c "! ip -n hal-$holder -4 addr show dev eth0 | grep ' $vip/' >/dev/null"
cut_s=$SECONDS
wait_for 5 bash -c "$(declare -f holders one_holder); vip=$vip; one_holder" >/dev/null
new_holder=$(holders)
# c1 sends nothing meanwhile: only the holder's gratuitous ARP can update its
# entry. The entry must name whoever holds the IP when it is read: once (a CI
# run, 2026-12-03) the IP went on from the first new holder to another node
# within 3 s, and a second move is announced the same way. Said when it happens.
neigh_names_holder() {
  local now mac
  now=$(holders); [ -n "$now" ] || return 1
  mac=$(ip -n "hal-$now" link show eth0 | awk '/link\/ether/ {print $2}')
  ip -n hal-c1 neigh show "$vip" | grep "lladdr $mac" >/dev/null
}
check "gratuitous ARP: c1's neighbour entry for the IP points at its holder now (first $new_holder) without c1 asking" \
  wait_for 3 neigh_names_holder
[ "$(holders)" = "$new_holder" ] || echo "    the IP moved on from $new_holder to $(holders) (holder cut off from Consul)"
check "another node takes the IP and it answers" wait_for 5 vip_answers
# Cut off long enough that its events reach Consul late (loop/event_log.hpp: 5 s).
[ $((SECONDS - cut_s)) -ge 7 ] || sleep $((7 - (SECONDS - cut_s)))
"$lab" start "$holder" consul >/dev/null
wait_for 30 healthy "$holder" >/dev/null
check "hactl events on another node: the cut-off holder's events while cut off arrived, marked late" wait_for 15 bash -c \
  "$(declare -f in_node); lab='$lab'; in_node n1 hactl events --since '$cut_at' --json | /usr/bin/python3 '$top/tests/lab/event_timeline.py' --late '$holder:supervisor/role:-> cut-off'"
# A holder still unfit hands the IP to a fit node (a move of ~0.3 s without a
# holder): what must never be seen is two.
check "back with the quorum: still exactly one holder" wait_for 10 one_holder

# --- a supervisor that dies and cannot start again: keepalived stops trusting it ----
# Its last word in the track file was "may hold"; killed (SIGKILL writes
# nothing) with a config that no longer loads, it never speaks again. The
# heartbeat it touched every second goes stale, and keepalived's own check
# gives the IP up (vip.heartbeat_max_age_s, 10 s).
dead=$(holders)
conf=/etc/ha-supervisor/ha-supervisor.conf
in_node "$dead" cp "$conf" /root/ha-supervisor.conf.good
in_node "$dead" sh -c "echo 'not a config line' >>$conf"
t0=$(date +%s%N)
signal_main_pid "$dead" ha-supervisor KILL
check "the holder's supervisor killed and unable to start (a broken config): the IP leaves it within 20 s (stale heartbeat)" \
  wait_for 20 bash -c "! ip -n hal-$dead -4 addr show dev eth0 | grep ' $vip/' >/dev/null"
echo "    gone $(( ($(date +%s%N) - t0) / 1000000 )) ms after the kill"
check "... another node holds it and it answers" wait_for 5 bash -c \
  "$(declare -f holders one_holder); vip=$vip; one_holder && [ \"\$(holders)\" != $dead ]"
check "... the dead supervisor's node says why: keepalived's heartbeat check failed" bash -c \
  "'$lab' exec $dead journalctl -u keepalived --no-pager --since=-1min | grep -i 'ha_supervisor_alive.*fail' >/dev/null"
in_node "$dead" cp /root/ha-supervisor.conf.good "$conf"
in_node "$dead" systemctl restart ha-supervisor >/dev/null 2>&1 || true
check "config repaired: the supervisor is healthy again" wait_for 30 healthy "$dead"

# --- supervision by systemd ---------------------------------------------------
signal_main_pid n2 consul KILL
check "a killed service is restarted by systemd" wait_for 15 bash -c "[ \"\$('$lab' exec n2 systemctl show consul -p NRestarts --value)\" -ge 1 ] && '$lab' exec n2 systemctl is-active consul"
check "the supervisor is healthy again after its agent's restart" wait_for 20 healthy n2
check "the supervisor saw the restart in its snapshot (units over D-Bus)" wait_for 10 bash -c \
  "'$lab' exec n2 hactl status --json | tr -d ' \n' | grep -E '\"consul.service\":\\{\"active\":\"active\",\"main_pid\":[0-9]+,\"n_restarts\":[1-9]' >/dev/null"

signal_main_pid n3 ha-supervisor STOP
check "a hung supervisor is restarted by the systemd watchdog" wait_for 20 bash -c "[ \"\$('$lab' exec n3 systemctl show ha-supervisor -p NRestarts --value)\" -ge 1 ]"
check "the restarted supervisor is healthy" wait_for 20 healthy n3

# --- crash and cold boot ----------------------------------------------------------
# The hung supervisor above may have been the leader: its lock is free again
# only after Consul's lock-delay (3.5 s) once its session ended.
leader_known() { [ -n "$(leader_seen_by n1)" ]; }
check "a leader is known (after the lock-delay, when the hung supervisor led)" wait_for 20 leader_known
leader=$(leader_seen_by n1)
viewer=n1; [ "$leader" = n1 ] && viewer=n2
# The status page (GET /ui on the supervisor's loopback API), rendered by
# Debian's headless Chromium inside a node: its DOM once the script ran.
page_dom() {
  in_node "$1" timeout 60 chromium --headless=new --no-sandbox --disable-gpu --user-data-dir=/tmp/ha-status-page \
    --virtual-time-budget=5000 --dump-dom http://127.0.0.1:8801/ui 2>/dev/null
}
page_lists_the_cluster() {
  local dom; dom=$(page_dom "$viewer")
  [ "$(grep -oE '<tr data-node="n[1-3]" data-role="(leader|follower)"' <<<"$dom" | wc -l)" = 3 ] &&
    grep -E "<tr data-node=\"$leader\" data-role=\"leader\"" <<<"$dom" >/dev/null &&
    grep -E '<body data-loaded="yes"' <<<"$dom" >/dev/null
}
check "status page: headless Chromium renders it on $viewer: every node with its role, $leader the leader" page_lists_the_cluster
crashed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
crash_t0=$(date +%s%N)
"$lab" crash "$leader" >/dev/null
check "crash: the node is down" bash -c "'$lab' status | grep -E '^$leader ' | grep ' down ' >/dev/null"
check "crash of the leader: another node leads within 15 s" wait_for 15 another_leader "$leader" "$viewer"
crash_in_metrics() {
  [ "$(metric "$viewer" 8801 ha_supervisor_member_up node="$leader")" = 0 ] &&
    [ "$(metric "$viewer" 8801 ha_supervisor_leader_changes_total)" -ge 1 ]
}
check "metrics: a survivor's /metrics shows the crashed leader down and counts the new leader" wait_for 20 crash_in_metrics
# The event timeline, read on a survivor: the new leader's own change and its
# word that the crashed node's session ended, tied as one incident.
crash_in_events() {
  local new; new=$(leader_seen_by "$viewer"); [ -n "$new" ] || return 1
  in_node "$viewer" hactl events --since "$crashed_at" --json |
    /usr/bin/python3 "$top/tests/lab/event_timeline.py" --same-incident \
      "$new:supervisor/role:-> leader" "$new:cluster/member:$leader is no longer a member"
}
check "hactl events: the new leader's takeover and the crashed node's end, as one incident" wait_for 10 crash_in_events
# The flight recorder: that incident as one record, its phases timed from the
# first sign; `hactl incident ID` prints it as a timeline.
crash_recorded() {
  local id
  # The newest incident (one still open from the step before may hold it too).
  id=$(in_node "$viewer" hactl incidents --json | /usr/bin/python3 -c '
import json, sys
incidents = json.load(sys.stdin)["incidents"]
names = [p["name"] for p in incidents[-1]["phases"]] if incidents else []
if names[:1] == ["detection"] and "decision" in names:
    print(incidents[-1]["id"])')
  [ -n "$id" ] && in_node "$viewer" hactl incident "$id" | grep -E '^  decision +\+[0-9.]+ s ' >/dev/null
}
check "hactl incidents: the crash is one record, its first sign and the decision timed (hactl incident ID)" wait_for 10 crash_recorded
page_shows_down() { page_dom "$viewer" | grep -E "<tr data-node=\"$leader\" data-role=\"down\"" >/dev/null; }
check "status page: it shows the crashed $leader down" wait_for 15 page_shows_down
echo "    shown down $(( ($(date +%s%N) - crash_t0) / 1000000 )) ms after the crash (checks above included)"
# Kept as the test's artefact: the page after the crash, its incident drawn.
shot="$top/build/Testing/lab-status-page.png"
mkdir -p "$(dirname "$shot")"
in_node "$viewer" timeout 60 chromium --headless=new --no-sandbox --disable-gpu --user-data-dir=/tmp/ha-status-page \
  --virtual-time-budget=5000 --window-size=1280,1000 --screenshot=/tmp/ha-status-page.png http://127.0.0.1:8801/ui >/dev/null 2>&1
in_node "$viewer" cat /tmp/ha-status-page.png >"$shot" 2>/dev/null
check "status page: a screenshot after the crash is kept ($shot)" bash -c "[ \$(head -c 8 '$shot' | od -An -c | tr -d ' ') = '211PNG\\r\\n032\\n' ] && [ \$(stat -c %s '$shot') -gt 20000 ]"
check "half-up lab is refused with a clear error" bash -c "'$lab' up 2>&1 | grep 'half up' >/dev/null"
# Consul loses the crashed node's registration (its data lost or reset, or an
# ACL that hides it): no node lets it go without `hactl forget`.
crashed_ip="198.18.0.1${leader:1}"
consul_cli "$viewer" supervisor kv delete "ha-supervisor/nodes/$leader" >/dev/null
check "a down node whose registration vanished from Consul stays every node's VRRP peer (only forget removes it)" \
  bash -c "sleep 2; for n in n1 n2 n3; do [ \$n = $leader ] || '$lab' exec \$n grep -q '^ *$crashed_ip\$' /etc/keepalived/keepalived.conf || exit 1; done"
check "hactl status shows it down and kept" bash -c \
  "'$lab' exec $viewer hactl status | awk '\$1 == \"$leader\"' | grep 'kept: missing from Consul' >/dev/null"
# Dead peers: once gossip calls it failed, a survivor's own TCP to it gets a
# reset (curl exit 7: could not connect) instead of waiting for its timeout (28).
refused_at_once() {
  local n
  for n in n1 n2 n3; do
    [ "$n" = "$leader" ] && continue
    "$lab" exec "$n" curl -s -o /dev/null --connect-timeout 3 "http://$crashed_ip:8008/patroni"
    [ $? -eq 7 ] || return 1
  done
}
check "crash: every survivor's own TCP to the crashed node is refused at once, not timed out (dead peers)" \
  wait_for 10 refused_at_once
check "hactl status on a survivor names the crashed node as a dead peer" bash -c \
  "'$lab' exec $viewer hactl status | grep \"^dead peers: this node's TCP to $leader ($crashed_ip) is refused at once\" >/dev/null"
"$lab" restart "$leader" >/dev/null
check "restart: the node boots and its supervisor is healthy" wait_for 30 healthy "$leader"
check "restart: no survivor refuses its connections any more (gossip has it alive)" wait_for 15 bash -c \
  "for n in n1 n2 n3; do [ \$n = $leader ] && continue; '$lab' exec \$n nft list set ip ha_supervisor_dead_peers failed | grep '$crashed_ip' >/dev/null && exit 1; done; exit 0"
check "restart: it rejoins as follower" bash -c "! '$lab' exec $leader hactl leader >/dev/null"
check "restart: its disk was kept (not provisioned again)" in_node "$leader" test -e /var/lib/ha-lab-provisioned
# Its ring in Consul was read back at start: the events before the crash are
# still there beside the new start.
two_starts() {
  in_node "$viewer" hactl events --node "$leader" --json | /usr/bin/python3 -c \
    'import json, sys; sys.exit(0 if sum(e["kind"] == "start" for e in json.load(sys.stdin)["events"]) >= 2 else 1)'
}
check "hactl events: the restarted node's history survived its crash (both of its starts listed)" wait_for 10 two_starts
# Once the crash's incident has ended (20 s after its last failure sign), the
# leader counts it and its phases in /metrics (every 10 s).
incident_counted() {
  local who n; who=$(leader_seen_by n1); [ -n "$who" ] || return 1
  n=$(metric "$who" 8801 ha_supervisor_incidents_total 2>/dev/null) && [ "${n%.*}" -ge 1 ] &&
    metric "$who" 8801 ha_supervisor_incident_phase_seconds_count phase=decision >/dev/null 2>&1
}
check "metrics: the leader counts the ended incident and its decision phase (ha_supervisor_incident_phase_seconds)" \
  wait_for 45 incident_counted

# --- maintenance on the holder: the IP stays ---------------------------------------
# First the IP settles where it belongs: on the database primary's node (the
# crash above may have taken the primary, and the IP follows the new one).
ip_settled() {
  local p; p=$("$lab" exec n1 hactl status | awk '/ primary TL/ {print $1; exit}')
  [ -n "$p" ] && [ "$(holders)" = "$p" ]
}
wait_for 30 ip_settled
held=$(holders)
in_node "$held" hactl maintenance on >/dev/null
check "maintenance on the holder ($held): shown in hactl status" wait_for 10 bash -c \
  "'$lab' exec n1 hactl status | awk '\$1 == \"$held\"' | grep maintenance >/dev/null"
maintenance_event() {
  in_node n1 hactl events --since 2m --json | /usr/bin/python3 -c \
    "import json, sys; sys.exit(0 if any(e['node'] == '$held' and e['text'] == '$held in maintenance' and
       e.get('requested_by') == 'api@$held' for e in json.load(sys.stdin)['events']) else 1)"
}
check "hactl events: the node records its maintenance intent, with who asked (api@$held)" wait_for 10 maintenance_event
sleep 2
check "maintenance on the holder: the floating IP stays on it (not drained)" [ "$(holders)" = "$held" ]
in_node "$held" hactl maintenance off >/dev/null
check "maintenance off: back to follower or leader" wait_for 10 bash -c \
  "! '$lab' exec n1 hactl status | awk '\$1 == \"$held\"' | grep maintenance >/dev/null"

# --- the cluster's settings, set once for every node through Consul ---------------
settings_json() { in_node "$1" timeout 5 hactl settings --json; }
runs_with() {  # runs_with NODE KEY VALUE: NODE runs with KEY = VALUE, from the store's settings
  settings_json "$1" | KEY=$2 VALUE=$3 python3 -c '
import json, os, sys
d = json.load(sys.stdin)
ok = d["stored"] is not None and d["applied_index"] == d["stored"]["index"] and \
     d["effective"][os.environ["KEY"]] == int(os.environ["VALUE"])
sys.exit(0 if ok else 1)'
}
pending_on() {  # pending_on NODE KEY|-: the keys NODE waits to restart for are exactly KEY (or none)
  [ "$(settings_json "$1" | python3 -c 'import json, sys; print(",".join(json.load(sys.stdin)["pending"]) or "-")')" = "$2" ]
}
every_node() {  # every_node COMMAND ARGS...: COMMAND NODE ARGS... holds on n1-n3
  local n cmd=$1; shift
  for n in n1 n2 n3; do "$cmd" "$n" "$@" || return 1; done
}
in_node n2 hactl settings set loop.log_repeat_s=45 files.conflict_scan_interval_ms=15000 >/dev/null
t0=$(date +%s%N)
check "settings: set on n2, applied live on every node within 10 s" \
  wait_for 10 every_node runs_with files.conflict_scan_interval_ms 15000
echo "    seen applied on n1-n3 $(( ($(date +%s%N) - t0) / 1000000 )) ms after 'hactl settings set' returned (polled: an upper bound)"
keeps_copy() { in_node "$1" grep -q '"loop.log_repeat_s":45' /var/lib/ha-supervisor/cluster-settings.json; }
check "settings: every node keeps a copy on disk (it starts with it)" every_node keeps_copy
refused=$(in_node n1 hactl settings set node.name=n9 2>&1); rc=$?
refused+=$(in_node n1 hactl settings set db.probe_interval_ms=5 2>&1); rc2=$?
both_named() {
  [ "$rc" -ne 0 ] && [ "$rc2" -ne 0 ] && grep -q 'node.name: not a cluster-wide key' <<<"$refused" &&
    grep -q 'db.probe_interval_ms: out of range' <<<"$refused"
}
check "settings: a node's own key and a value out of range are refused, each named (exits $rc, $rc2)" both_named
check "settings: ... and nothing was written (every node still at the same index)" \
  every_node runs_with files.conflict_scan_interval_ms 15000
# A key that applies at a start changes while one node's supervisor is down:
# the others name it as waiting for a restart; the stopped one, started again,
# reads the store before it takes a role and starts once more with it.
quiet_node() {  # a node that holds neither the floating IP nor the leadership (its supervisor may stop)
  local n
  for n in n1 n2 n3; do
    [ "$n" != "$(holders)" ] && ! is_leader "$n" >/dev/null 2>&1 && { echo "$n"; return 0; }
  done
  return 1
}
quiet=$(quiet_node)
in_node "$quiet" systemctl stop ha-supervisor
in_node n1 hactl settings set vip.heartbeat_max_age_s=12 >/dev/null 2>&1 || in_node n2 hactl settings set vip.heartbeat_max_age_s=12 >/dev/null
others=$(for n in n1 n2 n3; do [ "$n" = "$quiet" ] || echo "$n"; done | tr '\n' ' ')
pending_on_others() { for n in $others; do pending_on "$n" vip.heartbeat_max_age_s || return 1; done; }
check "settings: a key that applies at a start is named as waiting for a restart on the running nodes ($others)" \
  wait_for 10 pending_on_others
first=${others%% *}
status_names_pending() {
  in_node "$first" hactl status | grep "^settings: $first needs a restart to apply vip.heartbeat_max_age_s" >/dev/null
}
check "... and hactl status says so under the table" status_names_pending
in_node "$quiet" systemctl start ha-supervisor
restarted_with_it() { runs_with "$quiet" vip.heartbeat_max_age_s 12 && pending_on "$quiet" -; }
check "settings: $quiet, down during the change, starts again with it (vip.heartbeat_max_age_s = 12, nothing pending)" \
  wait_for 30 restarted_with_it
said_why() {
  in_node "$quiet" journalctl -u ha-supervisor --since=-2min --no-pager |
    grep 'which apply at a start: starting again with them' >/dev/null
}
check "... after saying why in its journal (one extra start, before it took a role)" said_why
check "... and it is healthy again" wait_for 20 healthy "$quiet"

# --- the manager's database login rotated under the upload workload ----------------
# Two logins in turn (components/db-login/record.hpp): the one not in use gets a
# new password, every node's REST service switches to it, then the previous one
# is refused. Uploads run through the floating IP the whole time.
# rotate_under_load NODE SECRET: `hactl rotate SECRET` on NODE while uploads run
# through the floating IP for 30 s (10 a second); sets rotation_said,
# rotation_rc, rotation_ms and rotation_uploads (the workload's log).
rotate_under_load() {
  local load t0
  rotation_uploads=$(mktemp)
  "$lab" exec c1 "$top/scripts/lab.d/upload-workload" run "$rotation_uploads" --seconds 30 --rate 10 \
    --prefix "rotation-$2-$RANDOM" --timeout 10 >/dev/null 2>&1 &
  load=$!
  sleep 3
  t0=$(date +%s%N)
  rotation_said=$(in_node "$1" timeout 100 hactl rotate "$2" --timeout 90 2>&1); rotation_rc=$?
  rotation_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait "$load"
  printf '%s\n' "$rotation_said" | sed 's/^/    /'
}
rotate_under_load n2 db-password
said_done() { [ "$rotation_rc" = 0 ] && grep "^done: $1" >/dev/null <<<"$rotation_said"; }
check "rotate db-password: hactl exits 0 once the previous login is refused (exit $rotation_rc, $rotation_ms ms)" \
  said_done "login manager_alt in use on every node; login manager refused"
uploads_all_acknowledged() {  # every upload of the log got its 201 (and there were some)
  python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in rows if r["status"] != 201]
print(f"    {len(rows)} uploads, {len(bad)} not acknowledged" + "".join(f"\n    {r['id']}: {r['status']} {r.get('error', '')}" for r in bad[:5]))
sys.exit(0 if rows and not bad else 1)
PY
}
check "... and not one upload failed during it" uploads_all_acknowledged "$rotation_uploads"
holds_login() { in_node "$1" grep "user='$2'" /etc/rest-standin/db >/dev/null; }
check "... every node's REST service was given login manager_alt (its conninfo file)" every_node holds_login manager_alt
install_password_login() {  # NODE: the install's manager= password, by PGPASSWORD (never a command line)
  in_node "$1" sh -c 'PGPASSWORD=$(sed -n "s/^manager=//p" /etc/ha-supervisor/db-secrets) PGCONNECT_TIMEOUT=3 \
    psql "host=198.18.0.11,198.18.0.12,198.18.0.13 dbname=manager user=manager target_session_attrs=read-write" -tAc "select 1"' 2>&1
}
old_refused() {  # [NODE]: psql fails (pipefail): its answer is read whole first
  local said; said=$(install_password_login "${1:-n1}")
  grep -E 'password authentication failed|not permitted to log in' >/dev/null <<<"$said" || { echo "    psql: $said"; return 1; }
}
check "... and the previous login (the install's password) is refused at the end" old_refused
rm -f "$rotation_uploads"
# The second rotation goes back to the manager's own role, with a new password,
# while one node is down (power cut): it takes the new login when it boots.
down=""
for n in n1 n2 n3; do
  [ "$n" != "$(holders)" ] && ! is_leader "$n" >/dev/null 2>&1 && { down=$n; break; }
done
up_nodes=$(for n in n1 n2 n3; do [ "$n" = "$down" ] || echo "$n"; done | tr '\n' ' ')
up_nodes=${up_nodes% }
"$lab" crash "$down" >/dev/null
asker=${up_nodes%% *}
# Asked at once: until Consul ends the crashed node's session the leader waits for it too.
# Asked again, as an operator would, when hactl's first read timed out: the
# crashed node may have been Consul's Raft leader, and reads wait for the next
# one (a lab run: "cannot read the login's record: consul timeout"; nothing
# was asked then).
for _ in 1 2 3; do
  rotation_said=$(in_node "$asker" timeout 100 hactl rotate db-password --timeout 90 2>&1); rotation_rc=$?
  grep -F "cannot read the login's record: consul timeout" >/dev/null <<<"$rotation_said" || break
  printf '    (asked again: %s)\n' "$rotation_said"
  sleep 2
done
printf '%s\n' "$rotation_said" | sed 's/^/    /'
check "a second rotation, $down down: every live node back on login manager, with a new password (exit $rotation_rc)" \
  said_done "login manager in use on every node; login manager_alt refused"
on_up_nodes() { for n in $up_nodes; do holds_login "$n" manager || return 1; done; }
check "... the live nodes' REST services were given login manager ($up_nodes)" on_up_nodes
check "... and the install's password still does not open it" old_refused "$asker"
"$lab" restart "$down" >/dev/null
check "... $down, booted again, is given the login in force and is healthy" \
  wait_for 90 bash -c "$(declare -f in_node holds_login healthy); lab='$lab'; holds_login $down manager && healthy $down"
own_rest_writes() { in_node "$1" curl -sf --max-time 2 "http://198.18.0.1${1:1}:8100/api/v3.1/status" | grep '"db":"writable"' >/dev/null; }
check "... and its REST service writes to the database again (through its gate)" wait_for 30 own_rest_writes "$down"
# Its broker rejoins too. After a power cut RabbitMQ's boot has been seen to
# hang until the supervisor restarts it (broker.stuck_after_ms, 60 s), and its
# stop to take up to TimeoutStopSec (CI, 2026-12-05): the sections below need
# the whole cluster, and the time it took is printed.
t0=$(date +%s%N)
check "... and its broker rejoins (3 of 3 nodes on every node)" wait_for 240 brokers_clustered 3 n1 n2 n3
echo "    $down's broker back in the cluster $(( ($(date +%s%N) - t0) / 1000000 )) ms after its REST service wrote again"
check "... every node's REST service still answers through the floating IP" wait_for 20 bash -c \
  "'$lab' exec c1 curl -sf --max-time 2 http://$vip/api/v3.1/status | grep '\"db\":\"writable\"' >/dev/null"

# --- the replication password rotated under the upload workload --------------------
# The same two logins in turn, for the role every standby streams with:
# replicator_alt gets a new password, every node's Patroni runs a patroni.yml
# naming it (each standby's WAL receiver reconnects with it), and once no
# session of replicator is left the leader refuses it.
check "before: both standbys stream with login replicator" wait_for 30 streams_with replicator 2
rotate_under_load n3 replication-password
check "rotate replication-password: hactl exits 0 once the previous login is refused (exit $rotation_rc, $rotation_ms ms)" \
  said_done "login replicator_alt in use on every node; login replicator refused"
check "... and not one upload failed during it" uploads_all_acknowledged "$rotation_uploads"
rm -f "$rotation_uploads"
check "... both standbys stream with login replicator_alt" wait_for 10 streams_with replicator_alt 2
names_login() { in_node "$1" grep -A1 '^    replication:' /etc/ha-supervisor/patroni/patroni.yml | grep "username: $2\$" >/dev/null; }
check "... every node's patroni.yml names it" every_node names_login replicator_alt
install_replication_login() {  # NODE: the install's replication= password (PGPASSWORD, never a command line)
  local p; p=$(primary_node) || return 1
  in_node "$1" sh -c 'PGPASSWORD=$(sed -n "s/^replication=//p" /etc/ha-supervisor/db-secrets) PGCONNECT_TIMEOUT=3 \
    psql "host=198.18.0.1'"${p:1}"' dbname=postgres user=replicator replication=true" -tAc "IDENTIFY_SYSTEM"' 2>&1
}
old_replication_refused() {  # psql fails (pipefail): its answer is read whole first
  local said; said=$(install_replication_login n1)
  grep -E 'password authentication failed|not permitted to log in' >/dev/null <<<"$said" || { echo "    psql: $said"; return 1; }
}
check "... and the install's replication password is refused at the end" old_replication_refused

# --- syncthing's API keys rotated under the upload workload ------------------------
# Each node's key is its own and never leaves it (Consul holds only the
# generation asked for): every node makes a new key, writes it to its upload
# gate's copy and its own key file, then gives it to syncthing, which refuses
# the previous one from then on; a client refused reads its key file again.
for n in n1 n2 n3; do in_node "$n" cp /etc/ha-syncthing/api-key /root/old-syncthing-key; done
rotate_under_load n1 syncthing-key
check "rotate syncthing-key: hactl exits 0 once every node's syncthing has a new key (exit $rotation_rc, $rotation_ms ms)" \
  said_done "every live node's syncthing has a new API key (generation"
check "... and not one upload failed during it" uploads_all_acknowledged "$rotation_uploads"
rm -f "$rotation_uploads"
syncthing_answers() {  # NODE KEYFILE: the HTTP status syncthing's API gives that key (a header file: never argv)
  in_node "$1" sh -c 'umask 077; printf "X-API-Key: %s\n" "$(head -n1 "$0")" >/root/syncthing-key-header
    curl -s -o /dev/null -w "%{http_code}" --max-time 3 -H @/root/syncthing-key-header http://127.0.0.1:8384/rest/system/ping
    rm -f /root/syncthing-key-header' "$2"
}
key_rotated_on() {  # NODE: the old key refused, the new one (in the gate's copy too) accepted
  local old new
  old=$(syncthing_answers "$1" /root/old-syncthing-key); new=$(syncthing_answers "$1" /etc/ha-syncthing/api-key)
  in_node "$1" cmp -s /etc/ha-syncthing/api-key /etc/ha-upload-gate/syncthing-api-key || { echo "    $1: the gate's copy differs"; return 1; }
  ! in_node "$1" cmp -s /etc/ha-syncthing/api-key /root/old-syncthing-key || { echo "    $1: the key did not change"; return 1; }
  [ "$old" = 403 ] && [ "$new" = 200 ] || { echo "    $1: old key -> $old, new key -> $new"; return 1; }
}
check "... on every node the previous key is refused, the new one (also the gate's copy) accepted" every_node key_rotated_on
# A node whose supervisor is down during a rotation makes its key when it
# starts again: the record names a generation its own file is behind.
quiet=$(quiet_node)
asker=n1; [ "$quiet" = n1 ] && asker=n2
for n in n1 n2 n3; do in_node "$n" cp /etc/ha-syncthing/api-key /root/old-syncthing-key; done
in_node "$quiet" systemctl stop ha-supervisor
rotation_said=$(in_node "$asker" timeout 100 hactl rotate syncthing-key --timeout 90 2>&1); rotation_rc=$?
printf '%s\n' "$rotation_said" | sed 's/^/    /'
check "rotate syncthing-key again with $quiet's supervisor stopped: done on the live nodes (exit $rotation_rc)" \
  said_done "every live node's syncthing has a new API key (generation 2)"
keeps_its_key() { [ "$(syncthing_answers "$quiet" /root/old-syncthing-key)" = 200 ]; }
check "... $quiet, its supervisor stopped, still answers to its previous key" keeps_its_key
t0=$(date +%s%N)
in_node "$quiet" systemctl start ha-supervisor
at_generation_2() {
  key_rotated_on "$quiet" && [ "$(in_node "$quiet" cat /var/lib/ha-supervisor/syncthing-key-generation)" = 2 ]
}
check "... started again, $quiet makes its new key (generation 2) within 30 s" wait_for 30 at_generation_2
echo "    $(( ($(date +%s%N) - t0) / 1000000 )) ms after its supervisor was started"
check "... and its supervisor is healthy" wait_for 20 healthy "$quiet"

# --- a 4th node joins and leaves ------------------------------------------------
keepalived_pids() { for n in n1 n2 n3; do prop "$n" keepalived MainPID; done | tr '\n' ' '; }
peers_have() {  # peers_have ADDR yes|no: every n1-n3 keepalived.conf lists ADDR (or none does)
  local n
  for n in n1 n2 n3; do
    if in_node "$n" grep -q "^ *$1\$" /etc/keepalived/keepalived.conf; then [ "$2" = yes ] || return 1; else [ "$2" = no ] || return 1; fi
  done
}
before_pids=$(keepalived_pids)
before_holder=$(holders)
samples=$(mktemp)
( while :; do holders >>"$samples"; sleep 0.05; done ) &
sampler=$!
"$lab" join n4 >/dev/null 2>&1
check "join: a 4th node's supervisor is healthy" wait_for 10 healthy n4
# Its install wrote the secrets file's password, which the rotations above retired.
check "join: n4's REST service was given the login in force (rotated above), not the install's" \
  wait_for 10 holds_login n4 manager
check "join: every node's keepalived.conf lists the new peer" wait_for 10 peers_have 198.18.0.14 yes
check "join: keepalived was reloaded, not restarted, on n1-n3 (same main PIDs)" [ "$(keepalived_pids)" = "$before_pids" ]
syncthing_peer_everywhere() {  # syncthing_peer_everywhere NODE yes|no: n1-n3 share the folder with NODE (or none does)
  local n
  for n in n1 n2 n3; do
    if in_node "$n" hactl status 2>/dev/null | grep "^  peer $1: connected" >/dev/null; then [ "$2" = yes ] || return 1
    else [ "$2" = no ] || return 1; fi
  done
}
# A dial that reaches a node before it has added n4 is refused; syncthing dials
# again after reconnectionIntervalS (5 s), so allow a few rounds.
t0=$(date +%s%N)
check "join: every node's syncthing shares the folder with n4 and is connected to it" wait_for 45 syncthing_peer_everywhere n4 yes
echo "    all connected to n4 $(( ($(date +%s%N) - t0) / 1000000 )) ms after its supervisor was healthy"
syncthing_peer_everywhere n4 yes || for n in n1 n2 n3; do
  in_node "$n" hactl status 2>/dev/null | grep -E '^  peer ' | sed "s/^/    $n: /"
done
check "join: n4 receives the whole folder (the blueprint uploaded before it joined)" wait_for 20 same_everywhere lab-bp n1 n4
n4_settings_from_store() {
  ! in_node n4 grep -q -e conflict_scan -e heartbeat_max_age /etc/ha-supervisor/ha-supervisor.conf &&
    runs_with n4 files.conflict_scan_interval_ms 15000 && runs_with n4 vip.heartbeat_max_age_s 12 && pending_on n4 -
}
check "join: n4 runs with the cluster's settings from the store, not from its file" wait_for 20 n4_settings_from_store
# pg_hba names each node (the supervisors rewrite patroni.yml on a join):
# n4's PostgreSQL may copy the primary only once every node admits it.
n4_streams() {
  in_node n1 curl -s -m 2 http://198.18.0.11:8008/cluster | python3 -c '
import json, sys
members = json.load(sys.stdin)["members"]
sys.exit(0 if any(m["name"] == "n4" and m.get("state") == "streaming" for m in members) else 1)'
}
check "join: n4's PostgreSQL streams from the primary (every pg_hba admits its address)" wait_for 60 n4_streams
check "... with the replication login in force (rotated above), not the install's: 3 standbys on replicator_alt" \
  wait_for 10 streams_with replicator_alt 3
check "... and n1's pg_hba.conf names it by its own address" \
  in_node n1 grep -q '^host all all 198.18.0.14/32 scram-sha-256' /var/lib/ha-patroni/data/pg_hba.conf
joined=$(mktemp)
"$top/scripts/lab.d/gated-uploads" 1 joined-$RANDOM 198.18.0.11 198.18.0.12 198.18.0.13 198.18.0.14 >"$joined" 2>&1; rc=$?
sed 's/^/    /' "$joined"
check "join: an upload through the floating IP is acknowledged and reaches n4, as every node" [ $rc -eq 0 ]
rm -f "$joined"
check "join: n4's broker joins the cluster (4 of 4 on every node)" wait_for 60 brokers_clustered 4 n1 n2 n3 n4
"$lab" leave n4 >/dev/null 2>&1
left_at=$(date +%s%N)
check "leave: n4 is forgotten and no keepalived.conf lists it any more" wait_for 10 peers_have 198.18.0.14 no
check "leave: no node's syncthing lists n4 any more" wait_for 10 bash -c \
  "for n in n1 n2 n3; do ! '$lab' exec \$n hactl status | grep '^  peer n4:' >/dev/null || exit 1; done"
raft_voters() { in_node n1 env CONSUL_HTTP_TOKEN_FILE=/etc/consul.d/tokens/operator \
  /usr/local/bin/consul operator raft list-peers 2>/dev/null | awk 'NR > 1 {print $1}' | sort | tr '\n' ' '; }
check "leave: n4's Consul server is out of Raft (the three left keep their quorum of two)" \
  [ "$(raft_voters)" = "consul-n1 consul-n2 consul-n3 " ]
# Patroni applies a changed patroni.yml at the start of its next cycle after
# the SIGHUP (loop_wait, or longer while a cycle waits on Consul): ~1.5 s here
# (4 rounds of join and leave, 2026-12-07); one CI run on a loaded machine
# went past 10 s, so the bound is 30 s and the time is printed.
hba_admitting_n4() {  # the nodes whose pg_hba.conf (or patroni.yml) still names n4's address
  local n
  for n in n1 n2 n3; do
    in_node "$n" grep -q 198.18.0.14 /var/lib/ha-patroni/data/pg_hba.conf && echo "$n pg_hba.conf"
    in_node "$n" grep -q 198.18.0.14 /etc/ha-supervisor/patroni/patroni.yml && echo "$n patroni.yml"
  done
  return 0
}
no_hba_admits_n4() { [ -z "$(hba_admitting_n4)" ]; }
hba_forgets_n4() {  # waits; when it does not happen, says where and what Patroni and the supervisor said
  local n
  wait_for 30 no_hba_admits_n4 && return 0
  hba_admitting_n4 | sed 's/^/    still naming n4: /'
  for n in n1 n2 n3; do
    in_node "$n" timeout 5 hactl status 2>&1 | grep -i -e patroni -e database | head -5 | sed "s/^/    $n: /"
    in_node "$n" journalctl --no-pager -o short-precise --since=-60s -u ha-patroni 2>/dev/null | tail -5 | sed "s/^/    $n patroni: /"
  done
  return 1
}
check "leave: no node's pg_hba.conf admits n4's address any more" hba_forgets_n4
echo "    $(( ($(date +%s%N) - left_at) / 1000000 )) ms after the leave returned"
check "leave: the leader has the broker cluster forget n4's broker (3 of 3 again on every node)" \
  wait_for 60 brokers_clustered 3 n1 n2 n3
kill "$sampler"; wait "$sampler" 2>/dev/null
check "join and leave: no flap, the IP stayed on $before_holder ($(wc -l <"$samples") samples)" \
  bash -c "[ -s '$samples' ] && ! grep -vx '$before_holder' '$samples' >/dev/null"
rm -f "$samples"

# --- partition and heal -------------------------------------------------------------
victim=$(leader_seen_by n1)
other=n1; [ "$victim" = n1 ] && other=n2
# The broker across it: the cut-off node leads a quorum queue, and a publisher
# on the floating IP runs from before the cut until after the heal.
"$lab" exec c1 "$broker_check" declare "198.18.0.1${victim:1}" "$broker_secrets" lab-partition | sed 's/^/    /'
wait_for 15 queue_led_by lab-partition "$victim" || echo "    lab-partition is not led by $victim's broker"
publisher_start lab-partition 30
sleep 3
"$lab" partition "$victim" >/dev/null
check "partition: the cut-off leader steps down within 6 s" wait_for 6 bash -c "! '$lab' exec $victim hactl leader"
check "partition: the majority elects a leader" wait_for 20 another_leader "$victim" "$other"
heal_epoch=$(date +%s)
"$lab" heal "$victim" >/dev/null
check "heal: the node is healthy again" wait_for 30 healthy "$victim"
# The survivors' gossip called it failed; without a rejoin it came back only at
# serf's 30 s reconnect (Consul refused it a session meanwhile).
check "heal: its supervisor rejoined gossip through its peers at once" \
  bash -c "'$lab' exec $victim journalctl -u ha-supervisor --no-pager | grep 'gossip: rejoined through' >/dev/null"
check "heal: exactly one leader" bash -c "n=0; for x in n1 n2 n3; do '$lab' exec \$x hactl leader >/dev/null 2>&1 && n=\$((n+1)); done; [ \$n -eq 1 ]"
publisher_lost_none lab-partition; rc=$?
check "broker: every publish confirmed through the floating IP while $victim (the queue's leader) was cut off is consumed (0 lost)" \
  [ $rc -eq 0 ]
# pause_minority paused its broker while it was cut off; it resumes by itself.
check "heal: $victim's broker is back in the cluster (3 of 3 nodes on every node)" wait_for 90 brokers_clustered 3 n1 n2 n3
# The minority side is restarted once at most: a view read before that
# restart, landing after it, once had it restarted again and again.
broker_restarts() { "$lab" exec "$victim" journalctl -u ha-supervisor --no-pager --since "@$heal_epoch" | grep -c 'broker: restarting'; }
check "heal: $victim's supervisor restarted its broker at most once ($(broker_restarts) times)" [ "$(broker_restarts)" -le 1 ]

# --- the broker: a node whose Erlang cookie differs from the cluster's ---------------
# install.sh run again with another secrets file gives the broker another
# cookie: it cannot reach its peers. Every node says so; nothing is wiped,
# and the node is not restarted in a loop.
odd=n3; [ "$(holders)" = n3 ] && odd=n2
odd_address=198.18.0.1${odd:1}
other_cookie=$top/.run/lab/other-cookie-secrets
(umask 077; sed "s/^rabbitmq_cookie=.*/rabbitmq_cookie=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
  "$broker_secrets" >"$other_cookie")
data_before=$(in_node "$odd" stat -c %i "/var/lib/rabbitmq/mnesia/rabbit@$odd_address")
in_node "$odd" "$top/components/rabbitmq/install.sh" --address "$odd_address" --secrets "$other_cookie" >/dev/null
in_node "$odd" systemctl restart ha-rabbitmq
odd_reported() {  # every node's hactl status: the odd node's broker and health name the cookie
  local n row
  for n in n1 n2 n3; do
    row=$(in_node "$n" hactl status 2>/dev/null | awk -v n="$odd" '$1 == n') || return 1
    grep "broker's Erlang cookie differs from the cluster's" <<<"$row" >/dev/null || return 1
    grep "silent: its Erlang cookie differs from n[1-3]'s and n[1-3]'s" <<<"$row" >/dev/null || return 1
  done
}
check "cookie: $odd's broker with another Erlang cookie: every node's hactl status says its cookie differs (unfit)" \
  wait_for 60 odd_reported
in_node n1 hactl status 2>/dev/null | awk -v n="$odd" '$1 == n' | sed 's/^/    /'
check "... its data is kept (the same mnesia folder)" \
  [ "$(in_node "$odd" stat -c %i "/var/lib/rabbitmq/mnesia/rabbit@$odd_address")" = "$data_before" ]
in_node "$odd" "$top/components/rabbitmq/install.sh" --address "$odd_address" --secrets "$broker_secrets" >/dev/null
in_node "$odd" systemctl restart ha-rabbitmq
rm -f "$other_cookie"
check "... the cluster's cookie back: $odd's broker rejoins (3 of 3 nodes on every node)" \
  wait_for 90 brokers_clustered 3 n1 n2 n3

# --- stop/start a unit, clear errors -----------------------------------------------
# Meanwhile n1 is set to publish the status page through nginx for one operator
# (nginx.status_page_users_file, read at the supervisor's start). The password
# goes by stdin, never on a command line.
in_node n1 sh -c "printf 'operator:%s\n' \"\$(printf lab-operator | openssl passwd -6 -stdin)\" >/etc/ha-supervisor/status-page.htpasswd &&
  chgrp www-data /etc/ha-supervisor/status-page.htpasswd && chmod 0640 /etc/ha-supervisor/status-page.htpasswd"
in_node n1 sed -i 's|^nginx: { enabled = true;|nginx: { enabled = true; status_page_users_file = "/etc/ha-supervisor/status-page.htpasswd";|' \
  /etc/ha-supervisor/ha-supervisor.conf
"$lab" stop n1 ha-supervisor >/dev/null
check "lab stop NODE UNIT stops it" bash -c "! '$lab' exec n1 systemctl is-active ha-supervisor >/dev/null"
"$lab" start n1 ha-supervisor >/dev/null
check "lab start NODE UNIT starts it" wait_for 20 healthy n1
as_operator() {  # as_operator PATH [METHOD]: the HTTP code c1 gets from n1's nginx with the operator's password
  printf 'user = "operator:lab-operator"\n' |
    in_node c1 curl -s -o /dev/null -w '%{http_code}' -m 3 -K - -X "${2:-GET}" "http://198.18.0.11$1"
}
published_page() {
  local code ok=0 p
  code=$(in_node c1 curl -s -o /dev/null -w '%{http_code}' -m 3 http://198.18.0.11/ha-status/ui)
  [ "$code" = 401 ] || { echo "    no password: HTTP $code"; ok=1; }
  for p in ui cluster events incidents; do
    code=$(as_operator "/ha-status/$p"); [ "$code" = 200 ] || { echo "    operator, GET $p: HTTP $code"; ok=1; }
  done
  code=$(as_operator /ha-status/events POST); [ "$code" = 403 ] || { echo "    operator, POST: HTTP $code"; ok=1; }
  code=$(as_operator /ha-status/metrics); [ "$code" = 404 ] || { echo "    operator, /metrics: HTTP $code"; ok=1; }
  return $ok
}
check "status page through nginx: 401 without the password; the operator GETs the page and its 3 documents; a POST is refused, other API routes are not there" \
  wait_for 15 published_page
check "a non-root user gets a clear error" bash -c "setpriv --reuid=65534 --regid=65534 --clear-groups '$lab' status 2>&1 | grep 'needs root' >/dev/null"
check "an unknown node gets a clear error" bash -c "'$lab' crash n9 2>&1 | grep 'which node' >/dev/null"

# --- down ------------------------------------------------------------------------------
"$lab" down >/dev/null
check "down leaves no namespace, mount, cgroup, process or state" nothing_left
check "down again is idempotent" bash -c "'$lab' down | grep 'down' >/dev/null"
lab_down_says_so() {
  local out
  if out=$("$lab" exec c1 true 2>&1); then return 1; fi
  grep -q "the lab is down: start it with 'sudo .*lab up'" <<<"$out"
}
check "a command that needs the lab says it is down, and how to start it" lab_down_says_so
check "an unknown lab command is named" bash -c "'$lab' frobnicate 2>&1 | grep \"unknown command 'frobnicate'\" >/dev/null"

echo "$passed passed, $failed failed"
for name in "${failed_names[@]}"; do echo "FAILED: $name"; done
[ "$failed" -eq 0 ]
