# Sourced by the lab's tests ($lab set): PostgreSQL as each node's own server
# sees it, over its socket as the postgres role (peer authentication: no
# password anywhere).
#   as_postgres NODE SQL     one answer, -tA; empty when the server is down
#   primary_node             the node (n1-n3) out of recovery; fails when none is
#   streams_with LOGIN COUNT the primary has COUNT standbys, all streaming with LOGIN
#   is_primary NODE          NODE's server is out of recovery
# And the appliance through the floating IP ($vip and $top set too):
#   rest_writable            the REST service answers through it, its database writable
#   holder                   the node(s) with the address on their link
#   holder_is NODE           NODE alone holds it
#   nothing_lost LOG         every upload acknowledged in LOG read back through it (row and file)
as_postgres() {
  "$lab" exec "$1" runuser -u postgres -- psql -h /run/ha-patroni -p 5432 -d postgres -tAc "$2" 2>/dev/null
}
primary_node() {
  local n
  for n in n1 n2 n3; do [ "$(as_postgres "$n" 'select pg_is_in_recovery()')" = f ] && { echo "$n"; return 0; }; done
  return 1
}
streams_with() {
  local p rows; p=$(primary_node) || return 1
  rows=$(as_postgres "$p" "select count(*) filter (where usename = '$1' and state = 'streaming') || '/' || count(*) from pg_stat_replication")
  [ "$rows" = "$2/$2" ]
}
is_primary() { [ "$(as_postgres "$1" 'select pg_is_in_recovery()')" = f ]; }
rest_writable() { "$lab" exec c1 curl -sf --max-time 2 "http://$vip/api/v3.1/status" | grep '"db":"writable"' >/dev/null; }
holder() {
  local n
  for n in n1 n2 n3; do ip -n "hal-$n" -4 addr show dev eth0 2>/dev/null | grep " $vip/" >/dev/null && echo "$n"; done
}
holder_is() { [ "$(holder)" = "$1" ]; }
nothing_lost() {
  local said; said=$("$lab" exec c1 "$top/scripts/lab.d/upload-workload" check "$1" "http://$vip" 2>&1)
  printf '%s\n' "$said" | head -4 | sed 's/^/    /'
  grep '^checked [0-9]* lost 0$' >/dev/null <<<"$said"
}
