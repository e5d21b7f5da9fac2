# Sourced by the lab's tests ($lab set): PostgreSQL as each node's own server
# sees it, over its socket as the postgres role (peer authentication: no
# password anywhere).
#   as_postgres NODE SQL     one answer, -tA; empty when the server is down
#   primary_node             the node (n1-n3) out of recovery; fails when none is
#   streams_with LOGIN COUNT the primary has COUNT standbys, all streaming with LOGIN
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
