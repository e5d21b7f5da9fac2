#!/usr/bin/env bash
# Benchmark of how the floating IP rides out a crash of Consul's Raft leader's
# node: every survivor loses the quorum until the servers elect another
# leader (1-4 s), and a survivor that took that for being cut off gave the IP
# up, so one crash moved it twice or left it without a holder. Each run
# power-cuts the Raft leader's node, samples which nodes hold the IP every
# 0.1 s for 15 s from the host, reads the survivors' journals, cold-boots the
# node and waits until the cluster is whole (scripts/lab.d/cluster-settled).
#
#   usage: sudo bench/raft_leader_crash_bench.sh [--runs N]
#
# Per run it prints the crashed node, the holders in order from the one before
# the crash (- none), the moves (one when the crashed node held it), when each
# survivor was past the cut-off bound and when its quorum came back (ms after
# the crash, from its journal), and which survivors gave the IP up as cut off.
# At the end: runs, elections that outlasted the cut-off, runs where the IP
# moved more than once, runs where a survivor gave it up. It brings a lab up
# (refuses if one is up in this checkout) and takes it down.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
labd="$top/scripts/lab.d"
vip=198.18.0.100
runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done
. "$top/bench/lab_bench_up.sh"

holders() {  # survivors with the floating IP on their link, "-" for none
  local out="" n
  for n in n1 n2 n3; do [ "$n" = "${victim:-}" ] && continue; ip -n "hal-$n" -4 addr show dev eth0 2>/dev/null | grep " $vip/" >/dev/null && out+="$n+"; done
  echo "${out:--}" | sed 's/+$//'
}
long_elections=0 double_moves=0 gave_up_runs=0 done_runs=0
for i in $(seq "$runs"); do
  "$labd/cluster-settled" --wait 180 || { echo "run $i: the cluster did not settle" >&2; exit 1; }
  # Consul's status endpoint names the leader by its server RPC address.
  victim=""
  for _ in $(seq 20); do
    addr=$("$lab" exec n1 curl -s --max-time 2 --cacert /etc/ssl/ha-consul-ca.pem https://127.0.0.1:8501/v1/status/leader | tr -d '"')
    addr=${addr%:*}
    [[ "$addr" =~ ^[0-9.]+$ ]] && victim=$("$lab" status 2>/dev/null | awk -v a="$addr" '$1 ~ /^n[0-9]+$/ && $2 == a { print $1; exit }')
    [ -n "$victim" ] && break
    sleep 0.5
  done
  [ -n "$victim" ] || { echo "run $i: no Raft leader found (${addr:-no answer})" >&2; continue; }
  before=$(victim=""; holders)
  t0=$(date +%s); t0ms=$(date +%s%3N)
  "$lab" crash "$victim" >/dev/null
  samples="$before "
  for _ in $(seq 150); do samples+="$(holders) "; sleep 0.1; done
  sequence=$(tr ' ' '\n' <<<"$samples" | sed '/^$/d' | uniq | tr '\n' ' ')
  # Moves: holder changes from the one before the crash on, a gap without a
  # holder not counted (the crashed holder's successor is one move).
  moves=$(tr ' ' '\n' <<<"$sequence" | grep -v '^-$' | sed '/^$/d' | uniq | wc -l)
  events="" gave_up="" long=0
  for n in n1 n2 n3; do
    [ "$n" = "$victim" ] && continue
    line=$("$lab" exec "$n" journalctl -u ha-supervisor --no-pager -o short-unix --since=@"$t0" 2>/dev/null |
      T0=$t0ms perl -ne 'my ($t) = /^(\d+\.\d+)/; next unless $t; my $ms = int($t * 1000 - $ENV{T0});
        $cut //= $ms if /no Consul quorum for/; $back //= $ms if /Consul quorum reachable/;
        $gave = 1 if /FAULT: this node is cut-off/;
        END { print defined $cut ? "cut-off +${cut} ms, quorum back +" . ($back // "?") . " ms" : "never cut off";
              print " GAVE-UP" if $gave }')
    events+=" $n: ${line%% GAVE-UP};"
    [[ "$line" == *GAVE-UP* ]] && gave_up+="$n "
    [[ "$line" == cut-off* ]] && long=1
  done
  echo "run $i: crashed $victim (Raft leader); holders: $sequence; moves $((moves - 1));$events gave the IP up as cut off: ${gave_up:-none}"
  done_runs=$((done_runs + 1))
  long_elections=$((long_elections + long))
  [ $((moves - 1)) -gt 1 ] && double_moves=$((double_moves + 1))
  [ -n "$gave_up" ] && gave_up_runs=$((gave_up_runs + 1))
  "$lab" restart "$victim" >/dev/null 2>&1
done
echo
echo "runs $done_runs; elections past the cut-off $long_elections; runs where the IP moved more than once $double_moves; runs where a survivor gave the IP up as cut off $gave_up_runs"
[ "$double_moves" = 0 ] && [ "$gave_up_runs" = 0 ]
