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
#   nothing_lost_within S LOG  the same, tried again for up to S seconds
#   every_upload_acknowledged LOG   every upload in LOG got 201 (counts said; the first failures shown)
# And the lab itself:
#   lab_up_serving           lab up (its summary said), every supervisor healthy, REST writable
#                            through the floating IP, both standbys streaming; the test ends if lab up fails
#   healthy_everywhere       every node's hactl health exits 0
#   show_nodes_state LINES [PATTERN [UNIT...]]   each node's hactl status head and its units'
#                            journal lines of the last 60 s matching PATTERN (on_failure_show_state)
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
# The same, read again for up to SECONDS before anything counts as lost: one
# read that timed out right after a node rejoined is no loss (CI, 2026-12-06:
# a 10 s timeout at a whole cluster, not traced), while a 404 or other bytes
# stays one. The last try's answer is printed.
nothing_lost_within() { wait_for "$1" nothing_lost "$2" || nothing_lost "$2"; }
every_upload_acknowledged() {
  python3 - "$1" <<'PY'
import json, sys, time
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in rows if r["status"] != 201]
print(f"    {len(rows)} uploads, {len(rows) - len(bad)} acknowledged, {len(bad)} failed")
for r in bad[:5]:  # when it started (UTC), to read beside the journals
    at = time.strftime("%H:%M:%S", time.gmtime(r["start"] / 1000)) + f".{r['start'] % 1000:03d}"
    print(f"    failed: {r['id']} at {at} status {r['status']} {r.get('error', '')[:400]}")
sys.exit(0 if rows and not bad else 1)
PY
}
healthy_everywhere() { local n; for n in n1 n2 n3; do "$lab" exec "$n" hactl health || return 1; done; }
lab_up_serving() {
  local up_out up_rc
  up_out=$("$lab" up 2>&1); up_rc=$?
  printf '%s\n' "$up_out" | grep '^lab: ' | sed 's/^/    /'
  check "lab up" [ "$up_rc" = 0 ]
  [ "$up_rc" = 0 ] || exit 1
  check "every supervisor healthy" wait_for 90 healthy_everywhere
  check "REST writable through the floating IP" wait_for 60 rest_writable
  check "both standbys streaming" wait_for 60 streams_with replicator 2
}
show_nodes_state() {
  local lines=$1 pattern=${2:-} n u units=()
  shift; [ $# -gt 0 ] && shift
  for u in "${@:-ha-supervisor}"; do units+=(-u "$u"); done
  for n in n1 n2 n3; do
    timeout 5 "$lab" exec "$n" hactl status 2>&1 | head -"$lines" | sed "s/^/    $n: /"
    [ -n "$pattern" ] || continue
    timeout 5 "$lab" exec "$n" journalctl "${units[@]}" --since '-60s' --no-pager 2>&1 |
      grep -i "$pattern" | tail -8 | sed "s/^/    $n journal: /"
  done
}
