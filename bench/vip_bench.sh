#!/usr/bin/env bash
# Benchmark of the floating IP (198.18.0.100) in the lab: how long clients go
# without an answer when its holder crashes or is cut off, and whether two nodes
# ever hold it at once.
#
#   usage: sudo bench/vip_bench.sh [--runs N] [--cases crash,partition,cutoff]
#          (default: 20 runs of crash, then of partition; cutoff on request)
#
# It brings a 3-node lab up (scripts/lab up; refuses if a lab is already up in
# this checkout) and takes it down again on exit, whatever happens.
#
# Per run:
#   crash      t0: `scripts/lab crash HOLDER` (link down, then every process
#              SIGKILLed). Figure: t0 -> first 200 on the floating IP from c1.
#              Then `scripts/lab restart HOLDER` and wait until settled.
#   partition  t0: `scripts/lab partition HOLDER` (link down, processes alive).
#              Figures: t0 -> first 200 from c1; t0 -> the cut-off node no longer
#              has the address on its eth0; t0 -> its supervisor sets keepalived's
#              track file to FAULT (its quorum-loss bound, read from its journal).
#              Then `scripts/lab heal HOLDER` and wait until settled.
#   cutoff     t0: `scripts/lab stop HOLDER consul` (its Consul agent stops; its
#              link stays up, keepalived and nginx keep running, so it answers
#              for the address until its supervisor, after its quorum-loss bound,
#              puts keepalived in FAULT through the track file). Figures: t0 ->
#              the address is gone from its eth0 (polled every ~20 ms); t0 -> the
#              lab command returns (Consul stopped); t0 -> its supervisor sets
#              FAULT (journal); the client's outage: the longest time between two
#              consecutive 200s arriving at c1, from the last 200 before t0 until
#              `lab start` (and, apart, from then until settled); failed requests.
#              Then `scripts/lab start HOLDER consul` and wait until settled.
#   settled    every supervisor healthy (hactl health), exactly one node with the
#              address on eth0, the holder's `hactl status` showing it MASTER and
#              the other two BACKUP, and a 200 from c1. Then 2 s of steady state.
#
# The client: a prober in c1's namespace starts GET /nginx-health on the floating
# IP every 20 ms, each bounded by 0.2 s (connect + answer), and logs start, end
# and result of every request. The outage starts with the first request started
# after t0 that gets no 200 (before that the old holder may still answer: the
# lab command takes a few ms to cut the link); the figure is the arrival of the
# first 200 to a request started after that one, minus t0.
#
# Each run also notes when the old holder's eth0 is seen down (the lab command's
# effect: t0 -> link down is the command's own start-up) and when the address
# is gone from it. With the link down, keepalived in that node sees "eth0 down",
# enters FAULT and removes the address within a millisecond or so, in a crash
# too: `scripts/lab crash` downs the link first and SIGKILLs the node's
# processes after, so the address is normally gone before keepalived dies. If
# the kill won that race, the dead namespace would keep the address (link down)
# until `scripts/lab restart` deletes it: counted as a configured double below,
# not a live one.
#
# Double holders: a sampler on the host reads `ip -n hal-nX -4 addr show dev eth0`
# of n1..n3 every 50 ms for the whole benchmark. A sample counts as "configured"
# double when two or more namespaces have 198.18.0.100 on eth0, and as "live"
# double when two or more of them have it on an eth0 that is up (a node whose
# link is down, crashed or partitioned, cannot answer for the address, however
# its namespace is configured). Samples are attributed to windows: crash window
# partition and cutoff window = t0 .. settled; steady state = the 2 s after each settle
# (and 2 s after the lab comes up).
set -uo pipefail
export LC_ALL=C   # EPOCHREALTIME with a '.' decimal point

top=$(cd "$(dirname "$0")/.." && pwd)
lab="$top/scripts/lab"
vip=198.18.0.100
nodes=(n1 n2 n3)
runs=20
cases=crash,partition
probe_interval_s=0.02 probe_timeout_s=0.2 sample_ms=50 steady_s=2
settle_limit_s=60 answer_limit_s=20 cutoff_wait_s=10

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
die() { printf 'vip_bench: %s\n' "$*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--runs takes a positive number"; runs=$2; shift 2 ;;
    --cases) cases=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
IFS=, read -r -a case_list <<<"$cases"
[ ${#case_list[@]} -gt 0 ] || die "--cases takes crash, partition and/or cutoff"
for c in "${case_list[@]}"; do
  case "$c" in crash|partition|cutoff) ;; *) die "unknown case '$c' (crash, partition, cutoff)" ;; esac
done

[ "$(id -u)" -eq 0 ] || die "needs root (the lab): sudo $0 $*"
[ -x /usr/bin/python3 ] || die "needs /usr/bin/python3 (scripts/setup installs it)"
[ -e "$top/.run/lab/nodes" ] && die "a lab is already up in this checkout; not touching it (scripts/lab down first)"

tmp=$(mktemp -d /tmp/vip_bench.XXXXXX)
poller_pid="" sampler_pid="" lab_started=0
exec {out_fd}>&1 {err_fd}>&2   # the real ones, for the cleanup (a trap may run inside a redirection)
cleanup() {
  local rc=$?
  exec 1>&"$out_fd" 2>&"$err_fd"
  [ -n "$poller_pid" ] && { kill "$poller_pid" 2>/dev/null; wait "$poller_pid" 2>/dev/null; }
  [ -n "$sampler_pid" ] && { kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; }
  if [ "$lab_started" = 1 ] || [ -e "$top/.run/lab/nodes" ]; then
    "$lab" down >/dev/null 2>&1 || echo "vip_bench: 'scripts/lab down' failed; run it by hand" >&2
    [ "$rc" -ne 0 ] && echo "vip_bench: the lab is down (cleanup)" >&2
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers -----------------------------------------------------------------------

# Sleeping without a fork: a read with a timeout on a FIFO nobody writes to.
mkfifo "$tmp/nap"
exec {nap_fd}<>"$tmp/nap"
nap() { read -rt "$1" -u "$nap_fd" _; return 0; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

holders() {  # nodes with the floating IP on their link (as tests/lab/lab_test.sh)
  local out="" n
  for n in "${nodes[@]}"; do ip -n "hal-$n" -4 addr show dev eth0 2>/dev/null | grep " $vip/" >/dev/null && out+="$n "; done
  echo "${out% }"
}
raft_leader_is() {  # raft_leader_is NODE: NODE's Consul says it is the Raft leader
  local want="198.18.0.1${1#n}:"
  [[ $(ip netns exec "hal-$1" curl -s --max-time 1 --cacert /etc/ssl/ha-consul-ca.pem https://127.0.0.1:8501/v1/status/leader 2>/dev/null) == \"$want* ]]
}
has_vip() { ip -n "hal-$1" -4 addr show dev eth0 2>/dev/null | grep " $vip/" >/dev/null; }
healthy() { "$lab" exec "$1" hactl health >/dev/null 2>&1; }

# The holder's view: it MASTER, every other node BACKUP.
vrrp_settled() {  # vrrp_settled HOLDER
  local out n cell
  out=$("$lab" exec "$1" hactl status 2>/dev/null) || return 1
  for n in "${nodes[@]}"; do
    cell=$(awk -v n="$n" '$1 == n' <<<"$out" | grep -oE 'holder \([A-Z]+\)|(MASTER|BACKUP|FAULT|STOP)' | head -1)
    if [ "$n" = "$1" ]; then [ "$cell" = "holder (MASTER)" ] || return 1
    else [ "$cell" = BACKUP ] || return 1; fi
  done
}

settled_now() {
  local h n
  h=$(holders)
  [ -n "$h" ] && [ "${h// /}" = "$h" ] || return 1
  for n in "${nodes[@]}"; do healthy "$n" || return 1; done
  vrrp_settled "$h" || return 1
  ip netns exec hal-c1 curl -sf --max-time 1 "http://$vip/nginx-health" >/dev/null 2>&1
}

wait_settled() {  # -> 0 when settled within the limit
  local end=$((SECONDS + settle_limit_s))
  while [ $SECONDS -lt $end ]; do settled_now && return 0; nap 0.2; done
  return 1
}

# ---- the client prober (in c1's namespace) -----------------------------------------------

cat >"$tmp/prober.py" <<'EOF'
# GET PATH on HOST:PORT every INTERVAL s, each request bounded by TIMEOUT s;
# one line per request: start_us end_us result (HTTP status, "timeout", "errNN").
import asyncio, signal, sys, time

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
interval, timeout = float(sys.argv[4]), float(sys.argv[5])
out = open(sys.argv[6], "a", buffering=1)
request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()

def us():
    return time.time_ns() // 1000

async def get():
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if not head.startswith(b"HTTP/") or len(parts) < 2:
        return "bad-response"
    status = parts[1].decode(errors="replace")
    if status == "200" and body.strip() != b"ok":
        return "200-wrong-body"
    return status

async def attempt():
    start = us()
    try:
        result = await asyncio.wait_for(get(), timeout)
    except asyncio.TimeoutError:
        result = "timeout"
    except OSError as e:
        result = f"err{e.errno}"
    except Exception as e:  # noqa: BLE001 - any failure is a failed request
        result = type(e).__name__
    out.write(f"{start} {us()} {result}\n")

async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    tasks = set()
    due = loop.time()
    while not stop.is_set():
        task = asyncio.create_task(attempt())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        due += interval
        try:
            await asyncio.wait_for(stop.wait(), max(0.0, due - loop.time()))
        except asyncio.TimeoutError:
            pass

asyncio.run(main())
EOF

start_prober() {  # start_prober LOG
  : >"$1"
  ip netns exec hal-c1 /usr/bin/python3 "$tmp/prober.py" "$vip" 80 /nginx-health \
    "$probe_interval_s" "$probe_timeout_s" "$1" 2>>"$tmp/prober.err" &
  poller_pid=$!
}
stop_prober() {
  [ -n "$poller_pid" ] || return 0
  kill "$poller_pid" 2>/dev/null; wait "$poller_pid" 2>/dev/null
  poller_pid=""
}
# The outage: first request started at or after T0 without a 200; the recovery:
# the first 200 to arrive for a request started at or after that one.
# Prints "RECOVERY_US OUTAGE_START_US", "none" (no failed request), or nothing yet.
recovery_in() {  # recovery_in LOG T0_US
  awk -v t0="$2" '
    { s[NR] = $1; e[NR] = $2; r[NR] = $3 }
    END {
      f = ""
      for (i = 1; i <= NR; i++) if (s[i] >= t0 && r[i] != "200" && (f == "" || s[i] < f)) f = s[i]
      if (f == "") { for (i = 1; i <= NR; i++) if (s[i] >= t0 + 1000000) { print "none"; exit } exit }
      best = ""
      for (i = 1; i <= NR; i++) if (s[i] >= f && r[i] == "200" && (best == "" || e[i] < best)) best = e[i]
      if (best != "") print best, f
    }' "$1"
}
failed_between() {  # failed_between LOG FROM_US TO_US: requests started in [FROM, TO) without a 200
  awk -v a="$2" -v b="$3" '$1 >= a && $1 < b && $3 != "200" { n++ } END { print n + 0 }' "$1"
}
requests_between() {
  awk -v a="$2" -v b="$3" '$1 >= a && $1 < b { n++ } END { print n + 0 }' "$1"
}
# The client's longest time without an answer: 200s sorted by arrival, from the
# last one before FROM (else FROM) to TO (the stretch still open at TO counts).
# Prints "MS AT_MS" (AT: the last 200 before the gap, relative to T0).
longest_gap() {  # longest_gap LOG FROM_US TO_US T0_US
  awk '$3 == "200" { print $2 }' "$1" | sort -n | awk -v a="$2" -v b="$3" -v t0="$4" '
    BEGIN { last = a; best = -1 }
    $1 < a { last = $1; next }
    $1 >= b { exit }
    { if ($1 - last > best) { best = $1 - last; at = last } last = $1 }
    END { if (b - last > best) { best = b - last; at = last }
          printf "%d %d\n", best / 1000, (at - t0) / 1000 }'
}

# ---- the double-holder sampler (host) ----------------------------------------------------

sampler() {
  local next now t out n raw live names
  next=$(now_us)
  while :; do
    t=${EPOCHREALTIME/./} raw=0 live=0 names=""
    for n in "${nodes[@]}"; do
      out=$(ip -n "hal-$n" -4 addr show dev eth0 2>/dev/null)
      if [[ $out == *" $vip/"* ]]; then
        raw=$((raw + 1))
        if [[ $out == *"state DOWN"* ]]; then names+="$n(link-down),"; else live=$((live + 1)); names+="$n,"; fi
      fi
    done
    names=${names%,}
    printf '%s %d %d %s\n' "$t" "$raw" "$live" "${names:--}"
    next=$((next + sample_ms * 1000))
    now=${EPOCHREALTIME/./}
    if [ "$next" -gt "$now" ]; then printf -v t '0.%06d' $((next - now)); nap "$t"; else next=$now; fi
  done
}

# ---- statistics ------------------------------------------------------------------------------

# stats FILE (one integer per line) -> "n median p95 min max" (median: mean of
# the middle two for an even count; p95: nearest rank, ceil(0.95 n)).
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "0 - - - -"; exit }
    med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    r = int(0.95 * NR); if (r < 0.95 * NR) r++
    printf "%d %g %d %d %d\n", NR, med, v[r], v[1], v[NR] }'
}
# doubles FROM_US TO_US -> "samples configured_doubles live_doubles longest_stretch_samples
# longest_stretch_ms" (a stretch: consecutive samples with two or more configured
# holders; its ms: first to last of them).
doubles() {
  awk -v a="$1" -v b="$2" '
    $1 >= a && $1 < b {
      n++
      if ($3 >= 2) live++
      if ($2 >= 2) {
        raw++; if (start == "") { start = $1; k = 0 }
        k++; cur = ($1 - start) / 1000
        if (k > longk) { longk = k; longest = cur }
      } else start = ""
    }
    END { printf "%d %d %d %d %d\n", n, raw, live, longk, longest }' "$tmp/samples"
}

# ---- up ----------------------------------------------------------------------------------------

echo "vip_bench: bringing the lab up (3 nodes)..."
lab_started=1
if ! "$lab" up --nodes 3 >"$tmp/up.log" 2>&1; then
  tail -20 "$tmp/up.log" | sed 's/^/    /' >&2
  die "scripts/lab up failed"
fi
grep -E 'ninja|build|lab up in' "$tmp/up.log" | sed 's/^/    /'
wait_settled || die "the lab did not settle after up (one holder, every supervisor healthy)"

# ---- settings -------------------------------------------------------------------------------------

conf=$("$lab" exec n1 cat /etc/ha-supervisor/ha-supervisor.conf)
help=$("$lab" exec n1 ha-supervisor --help-config 2>/dev/null)
setting() {  # setting SECTION KEY: the value in the node's config, else the default
  local v
  v=$(tr '\n' ' ' <<<"$conf" | grep -oE "$1: *\{[^}]*\}" | grep -oE "(^|[ {;])$2 *= *[0-9]+" | grep -oE '[0-9]+$' | head -1)
  if [ -n "$v" ]; then echo "$v (config)"; return; fi
  v=$(awk -v k="$1.$2" '$1 == k { print $3; exit }' <<<"$help")
  echo "${v:-?} (default)"
}
quorum_loss=$(setting consul quorum_loss_timeout_ms)
probe_interval=$(setting consul probe_interval_ms)
advert_ms=$(setting vip advert_interval_ms)
advert_int=$(for n in "${nodes[@]}"; do "$lab" exec "$n" awk '$1 == "advert_int" { print $2 }' /etc/keepalived/keepalived.conf; done | sort -u | tr '\n' ' ')
quorum_bound_ms=${quorum_loss%% *}
[[ "$quorum_bound_ms" =~ ^[0-9]+$ ]] || quorum_bound_ms=4000

echo
echo "== settings"
echo "supervisor config (n1: /etc/ha-supervisor/ha-supervisor.conf):"
sed 's/^/    /' <<<"$conf"
echo "effective: consul.quorum_loss_timeout_ms = $quorum_loss, consul.probe_interval_ms = $probe_interval,"
echo "           vip.advert_interval_ms = $advert_ms"
echo "keepalived (/etc/keepalived/keepalived.conf, n1..n3): advert_int ${advert_int% }"
echo "client: GET http://$vip/nginx-health from c1, a request every ${probe_interval_s} s, each bounded by ${probe_timeout_s} s"
echo "double-holder sampler: ip -n hal-nX addr on the host every ${sample_ms} ms; steady state ${steady_s} s after each settle"
echo "runs: $runs per case; cases: ${case_list[*]}"
echo "targets (issue 4): crash median <= 500 ms; partition <= quorum-loss bound ($quorum_bound_ms ms) + 500 ms;"
echo "                   cutoff: address gone <= quorum-loss bound ($quorum_bound_ms ms) + 500 ms;"
echo "                   zero double holders in steady state"

# ---- runs ----------------------------------------------------------------------------------------

: >"$tmp/windows"   # case run t0_us settled_us steady_end_us
: >"$tmp/steady"    # steady_from_us steady_to_us failed requests
sampler >"$tmp/samples" 2>/dev/null &
sampler_pid=$!

steady_state() {  # steady_state LOG: 2 s of steady state, its client requests counted
  local a b
  a=$(now_us); nap "$steady_s"; b=$(now_us)
  if [ -n "${1:-}" ]; then
    echo "$a $b $(failed_between "$1" "$a" "$b") $(requests_between "$1" "$a" "$b")" >>"$tmp/steady"
  else
    echo "$a $b - -" >>"$tmp/steady"
  fi
}
steady_state ""

one_run() {  # one_run CASE I
  local c=$1 i=$2 h log t0 rec="" r_ms="-" fail_start link_ms="-" drop_ms="-" sup_ms="-" cmd_pid settled st_end note=""
  local raft="" drop_t="" cmd_ms="-" start_us=""
  h=$(holders)
  [ -n "$h" ] && [ "${h// /}" = "$h" ] || { echo "  $c $i: no single holder ('$h'); stopping"; return 1; }
  log="$tmp/$c-$i.log"
  if [ "$c" = cutoff ]; then
    raft_leader_is "$h" && raft="  (was Consul's Raft leader)"
    rm -f "$tmp/cmd-end"
  fi
  start_prober "$log"
  local end=$((SECONDS + 5))
  while [ $SECONDS -lt $end ] && ! grep -q ' 200$' "$log"; do nap 0.05; done
  grep -q ' 200$' "$log" || note+=" [no 200 before t0]"

  t0=${EPOCHREALTIME/./}
  if [ "$c" = cutoff ]; then
    # (its end noted: when Consul is stopped)
    ( "$lab" stop "$h" consul >>"$tmp/lab-commands.log" 2>&1; rc=$?; echo "${EPOCHREALTIME/./} $rc" >"$tmp/cmd-end" ) &
  else
    "$lab" "$c" "$h" >>"$tmp/lab-commands.log" 2>&1 &
  fi
  cmd_pid=$!
  # The old holder's eth0, polled without pause for 1 s, then every 20 ms: when
  # its link is down (the lab command's effect) and when the address is gone.
  local limit_s=$cutoff_wait_s out t
  [ "$c" = crash ] && limit_s=2
  local until_fast=$((t0 + 1000000)) give_up=$((t0 + limit_s * 1000000))
  while :; do
    out=$(ip -n "hal-$h" -4 addr show dev eth0 2>/dev/null)
    t=${EPOCHREALTIME/./}
    [ "$link_ms" = - ] && [[ $out == *"state DOWN"* ]] && link_ms=$(( (t - t0) / 1000 ))
    [ "$drop_ms" = - ] && [ -n "$out" ] && [[ $out != *" $vip/"* ]] && drop_ms=$(( (t - t0) / 1000 )) drop_t=$t
    if [ "$c" = cutoff ]; then [ "$drop_ms" != - ] && break  # its link stays up
    else [ "$link_ms" != - ] && [ "$drop_ms" != - ] && break; fi
    [ "$t" -gt "$give_up" ] && break
    [ "$t" -gt "$until_fast" ] && nap 0.02
  done
  if [ "$c" = cutoff ]; then
    wait "$cmd_pid"
    local cmd_end cmd_rc
    read -r cmd_end cmd_rc <"$tmp/cmd-end" 2>/dev/null
    [ "${cmd_rc:-1}" = 0 ] || note+=" [lab stop $h consul failed]"
    [ -n "$cmd_end" ] && cmd_ms=$(( (cmd_end - t0) / 1000 ))
    [ "$link_ms" = - ] || note+=" [its link went down]"
    if [ -n "$drop_t" ]; then
      # A 200 to a request started after the address left: the new holder answers.
      end=$((SECONDS + answer_limit_s))
      while [ $SECONDS -lt $end ]; do
        awk -v a="$drop_t" '$1 >= a && $3 == "200" { f = 1; exit } END { exit !f }' "$log" && break
        nap 0.1
      done
      awk -v a="$drop_t" '$1 >= a && $3 == "200" { f = 1; exit } END { exit !f }' "$log" ||
        note+=" [no 200 within ${answer_limit_s} s of the address leaving]"
    else
      note+=" [the address still on its eth0 ${cutoff_wait_s} s after t0]"
    fi
  else
    wait "$cmd_pid" || note+=" [lab $c failed]"

    end=$((SECONDS + answer_limit_s))
    while [ $SECONDS -lt $end ]; do
      rec=$(recovery_in "$log" "$t0")
      [ -n "$rec" ] && break
      nap 0.1
    done
    case "$rec" in
      "") note+=" [no 200 within ${answer_limit_s} s]" ;;
      none) r_ms=0; note+=" [no failed request after t0]" ;;
      *) r_ms=$(( (${rec%% *} - t0) / 1000 )); fail_start=${rec#* } ;;
    esac
  fi

  if [ "$c" = partition ] || [ "$c" = cutoff ]; then
    # Its supervisor's own give-up (quorum loss): wait for it, then read the time from its journal.
    local line=""
    end=$((SECONDS + cutoff_wait_s))
    while [ $SECONDS -lt $end ]; do
      line=$("$lab" exec "$h" journalctl -u ha-supervisor -o short-unix --no-pager --since "@$((t0 / 1000000 - 1))" 2>/dev/null \
             | grep -m1 'track file set to 1')
      [ -n "$line" ] && break
      nap 0.25
    done
    if [ -n "$line" ]; then
      local ts=${line%% *}; ts=${ts/./}
      sup_ms=$(( (ts - t0) / 1000 ))
    else
      note+=" [its supervisor did not set FAULT within ${cutoff_wait_s} s]"
    fi
    if [ "$c" = cutoff ]; then
      start_us=$(now_us)
      "$lab" start "$h" consul >>"$tmp/lab-commands.log" 2>&1 || note+=" [lab start $h consul failed]"
    else
      has_vip "$h" && note+=" [still has the address at heal]"
      "$lab" heal "$h" >>"$tmp/lab-commands.log" 2>&1 || note+=" [heal failed]"
    fi
  else
    "$lab" restart "$h" >>"$tmp/lab-commands.log" 2>&1 || note+=" [restart failed]"
  fi

  if wait_settled; then settled=$(now_us); else settled=$(now_us); note+=" [not settled in ${settle_limit_s} s]"; fi
  steady_state "$log"
  st_end=$(now_us)
  stop_prober
  echo "$c $i $t0 $settled $st_end" >>"$tmp/windows"
  [ "$r_ms" != "-" ] && echo "$r_ms" >>"$tmp/$c.ms"
  [ "$drop_ms" != "-" ] && echo "$drop_ms" >>"$tmp/$c.drop.ms"
  [ "$link_ms" != "-" ] && echo "$link_ms" >>"$tmp/$c.link.ms"
  [ "$link_ms" != "-" ] && [ "$r_ms" != "-" ] && echo "$((r_ms - link_ms))" >>"$tmp/$c.after-link.ms"
  [ "$sup_ms" != "-" ] && echo "$sup_ms" >>"$tmp/$c.sup.ms"

  local failed d_raw d_live d_long
  read -r _ d_raw d_live d_long <<<"$(doubles "$t0" "$settled")"
  failed=$(failed_between "$log" "$t0" "$settled")
  if [ "$c" = cutoff ]; then
    local gap gap_at gap2 gap2_at n line others=""
    read -r gap gap_at <<<"$(longest_gap "$log" "$t0" "$start_us" "$t0")"
    read -r gap2 gap2_at <<<"$(longest_gap "$log" "$start_us" "$settled" "$t0")"
    [ "$cmd_ms" != "-" ] && echo "$cmd_ms" >>"$tmp/$c.cmd.ms"
    echo "$gap" >>"$tmp/$c.gap.ms"
    echo "$gap2" >>"$tmp/$c.gap-after.ms"
    echo "$failed" >>"$tmp/$c.failed"
    # Did another supervisor give the address up too (its own quorum loss)?
    for n in "${nodes[@]}"; do
      [ "$n" = "$h" ] && continue
      line=$("$lab" exec "$n" journalctl -u ha-supervisor -o short-unix --no-pager --since "@$((t0 / 1000000 - 1))" 2>/dev/null \
             | grep -m1 'track file set to 1')
      [ -n "$line" ] || continue
      line=${line%% *}; line=${line/./}
      others+=" $n at +$(( (line - t0) / 1000 )) ms"
    done
    [ -n "$others" ] && note+=" [FAULT also set on:$others]"
    printf '  %-9s %2d/%d  %s -> %-3s  address gone after %5s ms  (Consul stopped %4s ms, supervisor FAULT %4s ms)' \
      "$c" "$i" "$runs" "$h" "$(holders)" "$drop_ms" "$cmd_ms" "$sup_ms"
    printf '  client outage %4s ms at +%s ms (after start %s ms)  failed requests %3d  doubles %d/%d  settled +%.1f s%s%s\n' \
      "$gap" "$gap_at" "$gap2" "$failed" "$d_raw" "$d_live" \
      "$(awk -v a="$t0" -v b="$settled" 'BEGIN { print (b - a) / 1e6 }')" "$raft" "$note"
    [ -z "$note" ] || echo "$c $i$note" >>"$tmp/notes"
    return 0
  fi
  printf '  %-9s %2d/%d  %s -> %-3s  answered after %5s ms' "$c" "$i" "$runs" "$h" "$(holders)" "$r_ms"
  printf '  (link down %3s ms, address gone %4s ms)' "$link_ms" "$drop_ms"
  [ "$c" = partition ] && printf '  supervisor FAULT %4s ms' "$sup_ms"
  printf '  failed requests %3d  doubles %d/%d  settled +%.1f s%s\n' "$failed" "$d_raw" "$d_live" \
    "$(awk -v a="$t0" -v b="$settled" 'BEGIN { print (b - a) / 1e6 }')" "$note"
  [ -z "$note" ] || echo "$c $i$note" >>"$tmp/notes"
  return 0
}

echo
echo "== runs (doubles: samples with >=2 configured / >=2 on a link that is up, t0..settled)"
aborted=""
declare -A case_s=()
for c in "${case_list[@]}"; do
  case_t=$SECONDS
  for i in $(seq "$runs"); do
    one_run "$c" "$i" || { aborted="$c run $i"; break 2; }
  done
  case_s[$c]=$((SECONDS - case_t))
done
kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; sampler_pid=""

# ---- report ---------------------------------------------------------------------------------------

verdicts=()
print_stats() {  # print_stats LABEL FILE
  local n med p95 mn mx
  read -r n med p95 mn mx <<<"$(stats "$2")"
  printf '  %-44s runs %2d  median %6s  p95 %5s  min %5s  max %5s  (ms)\n' "$1" "$n" "$med" "$p95" "$mn" "$mx"
}
window_period() {  # window_period CASE|steady: mean ms between samples in those windows
  local f=$tmp/windows
  [ "$1" = steady ] && f=$tmp/steady
  while read -r a b c d e; do
    if [ "$1" = steady ]; then echo "$a $b"; elif [ "$a" = "$1" ]; then echo "$c $d"; fi
  done <"$f" | while read -r from to; do
    read -r n _ <<<"$(doubles "$from" "$to")"; echo "$n $((to - from))"
  done | awk '{ n += $1; us += $2 } END { if (n) printf "%d", us / n / 1000; else printf "-" }'
}
window_doubles() {  # window_doubles CASE -> "samples raw live longest"
  local tot=0 raw=0 live=0 longk=0 longest=0 n r l k g
  while read -r c _ a b _; do
    [ "$c" = "$1" ] || continue
    read -r n r l k g <<<"$(doubles "$a" "$b")"
    tot=$((tot + n)) raw=$((raw + r)) live=$((live + l))
    [ "$k" -gt "$longk" ] && longk=$k longest=$g
  done <"$tmp/windows"
  echo "$tot $raw $live $longk $longest"
}

echo
echo "== results"
for c in "${case_list[@]}"; do
  touch "$tmp/$c.ms" "$tmp/$c.drop.ms" "$tmp/$c.sup.ms" "$tmp/$c.link.ms" "$tmp/$c.after-link.ms" \
    "$tmp/$c.cmd.ms" "$tmp/$c.gap.ms" "$tmp/$c.gap-after.ms" "$tmp/$c.failed"
  echo "$c:${case_s[$c]:+ ($runs runs in ${case_s[$c]} s)}"
  if [ "$c" = cutoff ]; then
    print_stats "t0 -> address gone from the holder's eth0" "$tmp/$c.drop.ms"
    print_stats "  t0 -> lab stop returned (Consul stopped)" "$tmp/$c.cmd.ms"
    print_stats "  t0 -> its supervisor sets FAULT (journal)" "$tmp/$c.sup.ms"
    print_stats "client outage: longest gap between 200s" "$tmp/$c.gap.ms"
    print_stats "  the same after lab start, until settled" "$tmp/$c.gap-after.ms"
    read -r n med p95 mn mx <<<"$(stats "$tmp/$c.failed")"
    printf '  %-44s runs %2d  median %6s  p95 %5s  min %5s  max %5s  (requests, t0..settled)\n' \
      "failed requests" "$n" "$med" "$p95" "$mn" "$mx"
    read -r tot raw live longk longest <<<"$(window_doubles "$c")"
    echo "  double holders in the $c window (t0..settled), $tot samples (one per $(window_period "$c") ms on average):"
    echo "    $raw with >=2 nodes having the address configured on eth0 (longest stretch: $longk consecutive"
    echo "    samples, ${longest} ms first to last); $live with >=2 having it on an eth0 that is up"
    continue
  fi
  print_stats "t0 -> first 200 on $vip from c1" "$tmp/$c.ms"
  print_stats "  of which t0 -> old holder's link down" "$tmp/$c.link.ms"
  print_stats "  and link down -> first 200" "$tmp/$c.after-link.ms"
  if [ "$c" = partition ]; then
    print_stats "t0 -> address gone from the cut-off node" "$tmp/$c.drop.ms"
    print_stats "t0 -> its supervisor sets FAULT (journal)" "$tmp/$c.sup.ms"
  else
    print_stats "t0 -> address gone from the crashed node" "$tmp/$c.drop.ms"
  fi
  read -r tot raw live longk longest <<<"$(window_doubles "$c")"
  echo "  double holders in the $c window (t0..settled), $tot samples (one per $(window_period "$c") ms on average):"
  echo "    $raw with >=2 nodes having the address configured on eth0 (longest stretch: $longk consecutive"
  echo "    samples, ${longest} ms first to last); $live with >=2 having it on an eth0 that is up"
done
steady_tot=0 steady_raw=0 steady_live=0 steady_windows=0 steady_failed=0 steady_requests=0
while read -r a b f q; do
  read -r n r l _ _ <<<"$(doubles "$a" "$b")"
  steady_tot=$((steady_tot + n)) steady_raw=$((steady_raw + r)) steady_live=$((steady_live + l))
  steady_windows=$((steady_windows + 1))
  [ "$f" != - ] && steady_failed=$((steady_failed + f)) steady_requests=$((steady_requests + q))
done <"$tmp/steady"
echo "steady state ($steady_windows windows of ${steady_s} s, one sample per $(window_period steady) ms on average):"
echo "  $steady_raw of $steady_tot samples with >=2 holders" \
     "($steady_live on links that are up); client: $steady_failed of $steady_requests requests without a 200"

echo
echo "== targets"
verdict() {  # verdict OK TEXT
  if [ "$1" = 1 ]; then echo "  PASS  $2"; else echo "  FAIL  $2"; fi
}
for c in "${case_list[@]}"; do
  read -r n med p95 _ mx <<<"$(stats "$tmp/$c.ms")"
  if [ "$c" = cutoff ]; then
    read -r n med p95 _ mx <<<"$(stats "$tmp/$c.drop.ms")"
    lim=$((quorum_bound_ms + 500))
    ok=0; [ "$n" -eq "$runs" ] && [ "$mx" -le "$lim" ] 2>/dev/null && ok=1
    verdict $ok "cutoff: address gone from the holder in every run <= $lim ms (max ${mx} ms, median ${med} ms; $n of $runs runs measured)"
  elif [ "$c" = crash ]; then
    ok=0; [ "$n" -eq "$runs" ] && awk -v m="$med" 'BEGIN { exit !(m <= 500) }' && ok=1
    verdict $ok "crash: median ${med} ms <= 500 ms ($n of $runs runs measured)"
  else
    lim=$((quorum_bound_ms + 500))
    ok=0; [ "$n" -eq "$runs" ] && [ "$mx" -le "$lim" ] 2>/dev/null && ok=1
    verdict $ok "partition: every run <= $lim ms (max ${mx} ms, median ${med} ms; $n of $runs runs measured)"
  fi
done
ok=0; [ "$steady_raw" -eq 0 ] && [ "$steady_tot" -gt 0 ] && ok=1
verdict $ok "steady state: zero double holders ($steady_raw of $steady_tot samples)"
[ -n "$aborted" ] && echo "ABORTED at $aborted"
if [ -s "$tmp/notes" ]; then
  echo
  echo "== notes"
  sed 's/^/  /' "$tmp/notes"
fi
[ -s "$tmp/prober.err" ] && { echo "prober stderr:"; sed 's/^/  /' "$tmp/prober.err" | head -5; }

echo
echo "elapsed: $SECONDS s in all (lab up included)"
"$lab" down >/dev/null 2>&1 && lab_started=0 && echo "the lab is down"
[ -z "$aborted" ]
