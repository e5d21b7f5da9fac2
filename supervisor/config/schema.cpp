#include "supervisor/config/schema.hpp"

#include "components/members-only/rule.hpp"

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/node_name.hpp"
#include "supervisor/util/printable.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <type_traits>

namespace hasup::config {

namespace {

// ---- string formats -------------------------------------------------------

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [A-Za-z0-9][A-Za-z0-9_/-]*, no trailing '/', no empty segment: the prefix
// starts every KV path the cluster uses (PREFIX/leader, PREFIX/members/...).
std::string key_prefix_problem(std::string_view prefix) {
  if (prefix.empty()) return "must not be empty";
  // '.' is outside the allowed characters anyway; naming ".." says why.
  if (prefix.find("..") != std::string_view::npos) return "must not contain \"..\"";
  if (!is_alnum(prefix.front())) return "must start with a letter or digit (no leading '/')";
  for (char c : prefix) {
    if (!is_alnum(c) && c != '_' && c != '/' && c != '-') return "may contain only A-Z, a-z, 0-9, '_', '/' and '-'";
  }
  if (prefix.back() == '/') return "must not end with '/'";
  if (prefix.find("//") != std::string_view::npos) return "must not contain an empty segment (\"//\")";
  return {};
}

// The token goes into an HTTP header; anything but visible ASCII could split
// or corrupt the request. The message must not describe the content further.
std::string token_problem(std::string_view token) {
  const bool visible_ascii = std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
  return visible_ascii ? std::string{} : std::string("must be visible ASCII without spaces or control characters");
}

// "A.B.C.D/N": the floating IP with its prefix length, as keepalived takes it.
std::string ipv4_cidr_problem(std::string_view text) {
  if (text.empty()) return {};  // not set: the floating IP is off
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return "must be an IPv4 address with its prefix length, e.g. 198.18.0.100/24";
  std::string ip(text.substr(0, slash));
  std::string prefix(text.substr(slash + 1));
  if (!is_ipv4_literal(ip)) return "is not an IPv4 address with a prefix length";
  if (prefix.empty() || prefix.size() > 2 || !std::all_of(prefix.begin(), prefix.end(), is_digit) ||
      std::stoi(prefix) < 1 || std::stoi(prefix) > 32)
    return "prefix length must be 1..32";
  return {};
}

// Linux interface names: at most 15 characters, no '/', no spaces.
std::string interface_problem(std::string_view name) {
  if (name.empty() || name.size() > 15) return "must be 1..15 characters";
  for (char c : name)
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return "may contain only A-Z, a-z, 0-9, '_', '-' and '.'";
  return {};
}

// Paths end up inside keepalived.conf: absolute, and nothing that could end a
// token there (spaces, quotes, braces, newlines).
std::string path_problem(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must be an absolute path";
  for (char c : path)
    if (!(is_alnum(c) || c == '/' || c == '_' || c == '-' || c == '.' || c == '@' || c == '+'))
      return "may contain only A-Z, a-z, 0-9 and / _ - . @ +";
  return {};
}

std::string unit_list_problem(std::string_view list) {
  for (char c : list)
    if (!(is_alnum(c) || c == '@' || c == '.' || c == '_' || c == '-' || c == ':' || c == ','))
      return "must be unit names separated by ',' (A-Z a-z 0-9 @ . _ - :)";
  return {};
}

std::string bus_address_problem(std::string_view address) {
  if (address.empty()) return {};
  if (address.rfind("unix:", 0) != 0) return "must be a D-Bus address such as unix:path=/run/dbus/system_bus_socket";
  for (char c : address)
    if (!(is_alnum(c) || c == '/' || c == '_' || c == '-' || c == '.' || c == ':' || c == '=' || c == ','))
      return "may contain only A-Z a-z 0-9 / _ - . : = ,";
  return {};
}

// Consul service names: they go into URLs of the health API and, turned into
// template keys, into nginx's config.
std::string service_list_problem(std::string_view list) {
  if (list.empty()) return "must name at least one service";
  std::string_view rest = list;
  while (true) {
    const auto comma = rest.find(',');
    const auto name = rest.substr(0, comma);
    if (name.empty() || name.size() > 64) return "each service name must be 1..64 characters";
    for (char c : name)
      if (!is_alnum(c) && c != '-' && c != '_') return "service names may contain only A-Z, a-z, 0-9, '-' and '_'";
    if (comma == std::string_view::npos) return {};
    rest.remove_prefix(comma + 1);
  }
}

// A POSIX user name for nginx's `user` directive; empty: no directive.
std::string user_name_problem(std::string_view name) {
  if (name.empty()) return {};
  if (name.size() > 32 || !((name.front() >= 'a' && name.front() <= 'z') || name.front() == '_'))
    return "must start with a-z or '_' and be at most 32 characters";
  for (char c : name)
    if (!is_lower_alnum(c) && c != '_' && c != '-') return "may contain only a-z, 0-9, '_' and '-'";
  return {};
}

const StringFormat kNodeName{kNodeNameFormat, node_name_problem};
const StringFormat kUnitList{"unit names separated by ','", unit_list_problem};
const StringFormat kBusAddress{"unix:path=...", bus_address_problem};
const StringFormat kIpv4Cidr{"IPv4/prefix, e.g. 198.18.0.100/24", ipv4_cidr_problem};
const StringFormat kInterface{"interface name, 1..15 of [A-Za-z0-9_.-]", interface_problem};
const StringFormat kPath{"absolute path of [A-Za-z0-9/_.@+-]", path_problem};
const StringFormat kOptionalPath{"empty, or an absolute path of [A-Za-z0-9/_.@+-]", [](std::string_view v) {
  return v.empty() ? std::string{} : path_problem(v);
}};
const StringFormat kPortList{"TCP ports separated by ','", [](std::string_view v) {
  return members_only::ports_problem(v);
}};
const StringFormat kHost{"IPv4/IPv6 literal or host name", host_problem};
// The status API has no TLS: it answers this machine only.
const StringFormat kLoopbackHost{"a loopback address: 127.0.0.0/8, ::1 or localhost (the API has no TLS)",
                                 [](std::string_view v) -> std::string {
                                   if (v == "localhost" || v == "::1" || (v.rfind("127.", 0) == 0 && is_ip_literal(v)))
                                     return {};
                                   return "must be a loopback address (127.0.0.0/8, ::1 or localhost): the API "
                                          "has no TLS, and other hosts must not reach it";
                                 }};
const StringFormat kKeyPrefix{"[A-Za-z0-9][A-Za-z0-9_/-]*, no trailing '/'", key_prefix_problem};
const StringFormat kToken{"visible ASCII", token_problem};
const StringFormat kOptionalHost{"empty, or an IPv4/IPv6 literal or host name",
                                 [](std::string_view v) { return v.empty() ? std::string{} : host_problem(v); }};
// Absolute paths separated by ',' (each as kPath), none repeated.
std::string path_list_problem(std::string_view list) {
  if (list.empty()) return "must name at least one folder";
  std::vector<std::string> seen;
  std::string_view rest = list;
  while (true) {
    const auto comma = rest.find(',');
    const auto path = rest.substr(0, comma);
    if (auto problem = path_problem(path); !problem.empty()) return "'" + std::string(path) + "' " + problem;
    if (path.size() < 2) return "'/' cannot be replicated";
    if (std::find(seen.begin(), seen.end(), path) != seen.end()) return "'" + std::string(path) + "' is named twice";
    seen.emplace_back(path);
    if (comma == std::string_view::npos) return {};
    rest.remove_prefix(comma + 1);
  }
}
const StringFormat kPathList{"absolute paths separated by ','", path_list_problem};
// The REST API's key travels in clear text: only over loopback.
const StringFormat kLoopback{"127.x.y.z", [](std::string_view v) -> std::string {
                               if (v.rfind("127.", 0) != 0 || !is_ip_literal(v)) return "must be a 127.0.0.0/8 address";
                               return {};
                             }};
const StringFormat kServiceList{"Consul service names separated by ','", service_list_problem};
// A name that becomes a Consul key segment and a Patroni scope.
std::string db_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 63) return "must be 1..63 characters";
  for (char c : name)
    if (!is_alnum(c) && c != '-' && c != '_') return "may contain only A-Z, a-z, 0-9, '-' and '_'";
  return {};
}

// A lowercase SQL identifier that needs no quoting.
std::string sql_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 63) return "must be 1..63 characters";
  if (is_digit(name.front())) return "must not start with a digit";
  for (char c : name)
    if (!is_lower_alnum(c) && c != '_') return "may contain only a-z, 0-9 and '_'";
  return {};
}

// keyword=value conninfo only: the supervisor adds its own keywords
// (passfile, application_name), which a postgres:// URI would not take.
std::string conninfo_problem(std::string_view text) {
  if (text.empty()) return {};
  if (text.rfind("postgres://", 0) == 0 || text.rfind("postgresql://", 0) == 0)
    return "must be keyword=value pairs, not a URI";
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "must not contain control characters";
  if (text.find('=') == std::string_view::npos) return "must be keyword=value pairs";
  return {};
}

std::string optional_cidr_problem(std::string_view text) {
  if (text.empty()) return {};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return "must be an address with a prefix length, e.g. 198.18.0.0/24";
  std::string ip(text.substr(0, slash));
  std::string bits(text.substr(slash + 1));
  const int max_bits = ip.find(':') != std::string::npos ? 128 : 32;
  if (!is_ip_literal(ip)) return "is not an IP address with a prefix length";
  if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), is_digit) ||
      std::stoi(bits) > max_bits)
    return "prefix length must be 0.." + std::to_string(max_bits);
  return {};
}

const StringFormat kUserName{"user name, [a-z_][a-z0-9_-]*, or empty", user_name_problem};
const StringFormat kDbName{"[A-Za-z0-9_-]{1,63}", db_name_problem};
const StringFormat kSqlName{"[a-z_][a-z0-9_]{0,62}", sql_name_problem};
const StringFormat kConninfo{"libpq keyword=value conninfo, or empty", conninfo_problem};
// The REST service's conninfo without its login: the supervisor appends the
// login in force (components/db-login), which a user= or password= here would contradict.
std::string client_conninfo_problem(std::string_view text) {
  if (auto why = conninfo_problem(text); !why.empty()) return why;
  const std::string padded = " " + std::string(text);
  for (const char* keyword : {" user=", " password=", " passfile=", " user =", " password =", " passfile ="})
    if (padded.find(keyword) != std::string::npos)
      return std::string("must not name ") + (keyword + 1) + ": the supervisor adds the login in force";
  return {};
}
const StringFormat kClientConninfo{"libpq keyword=value conninfo without user or password, or empty",
                                   client_conninfo_problem};
const StringFormat kOptionalCidr{"empty, or address/prefix, e.g. 198.18.0.0/24", optional_cidr_problem};

// ---- cross-key rules ------------------------------------------------------

// Minimum time Consul's serf needs to declare a silent node failed, which is
// what invalidates that node's session and frees the leader lock. With the
// gossip settings components/consul/consul-config gives every agent (probe
// every 300 ms, suspicion 3 probe intervals when another node confirms it):
// one probe interval to miss an ack, then 900 ms of suspicion. Consul's own
// defaults (1 s probes, 4 s suspicion) are slower, which this rule tolerates.
constexpr long long kSerfFailureDetectionMs = 1200;

std::string named(std::string_view key, long long value) {
  return std::string(key) + " (" + std::to_string(value) + ")";
}

std::string split_brain_violation(const Config& config) {
  const auto& consul = config.consul;
  const long long cut_off_ms = static_cast<long long>(consul.quorum_loss_timeout_ms) + consul.probe_interval_ms;
  const long long takeover_ms = static_cast<long long>(consul.lock_delay_ms) + kSerfFailureDetectionMs;
  if (cut_off_ms <= takeover_ms) return {};
  return "split-brain risk: " + named("consul.quorum_loss_timeout_ms", consul.quorum_loss_timeout_ms) + " + " +
         named("consul.probe_interval_ms", consul.probe_interval_ms) + " = " + std::to_string(cut_off_ms) +
         " must be <= " + named("consul.lock_delay_ms", consul.lock_delay_ms) + " + " +
         std::to_string(kSerfFailureDetectionMs) + " = " + std::to_string(takeover_ms) +
         "; a node cut off from Consul would still act as leader after another node can take the lock";
}

std::string hung_call_violation(const Config& config) {
  const auto& consul = config.consul;
  if (consul.request_timeout_ms < consul.quorum_loss_timeout_ms) return {};
  return named("consul.request_timeout_ms", consul.request_timeout_ms) + " must be < " +
         named("consul.quorum_loss_timeout_ms", consul.quorum_loss_timeout_ms) +
         "; a single hung call must not outlast the cut-off bound";
}

std::string probe_count_violation(const Config& config) {
  const auto& consul = config.consul;
  const long long two_probes_ms = 2LL * consul.probe_interval_ms;
  if (two_probes_ms <= consul.quorum_loss_timeout_ms) return {};
  return named("consul.probe_interval_ms", consul.probe_interval_ms) + " * 2 = " + std::to_string(two_probes_ms) +
         " must be <= " + named("consul.quorum_loss_timeout_ms", consul.quorum_loss_timeout_ms) +
         "; at least two probes must fit inside the cut-off bound";
}

std::string check_ttl_violation(const Config& config) {
  const long long two_cycles_ms = 2LL * config.loop.interval_ms;
  if (config.consul.check_ttl_ms >= two_cycles_ms) return {};
  return named("consul.check_ttl_ms", config.consul.check_ttl_ms) + " must be >= 2 * " +
         named("loop.interval_ms", config.loop.interval_ms) + " = " + std::to_string(two_cycles_ms) +
         "; one late cycle must not fail the liveness check";
}

// ---- reading a field of a const Config ------------------------------------

// The accessors take a mutable Config so one table serves both the loader
// (writes) and diff/describe (reads). Reading through const_cast is well
// defined; these helpers never write.
template <typename T>
const T& read(T& (*field)(Config&), const Config& config) {
  return field(const_cast<Config&>(config));
}

std::string int_ranges_text(const std::vector<IntRange>& ranges) {
  std::string text;
  for (const auto& range : ranges) {
    if (!text.empty()) text += " or ";
    text += range.min == range.max ? std::to_string(range.min)
                                   : std::to_string(range.min) + ".." + std::to_string(range.max);
  }
  return text;
}

std::vector<KeySpec> build_keys() {
  // The dotted path and the Config member are the same text, so one macro
  // writes both: a key can never be loaded into the wrong member.
#define HASUP_KEY(member) .path = #member, .field = [](Config& c) -> auto& { return c.member; }
  return {
      // node.*: a restart, because the name ties this node's Consul session
      // and member record (PREFIX/members/NAME) and the address is published
      // in that record when it is created.
      {HASUP_KEY(node.name),
       .help = "This machine's member name, unique in the cluster.",
       .required = true,
       .format = &kNodeName},
      {HASUP_KEY(node.address),
       .help = "Address peers and clients use to reach this node.",
       .required = true,
       .format = &kHost},
      {HASUP_KEY(node.known_nodes_file),
       .help = "This node's memory of the cluster's nodes (names, addresses, syncthing device ids), kept "
               "across restarts: a node whose registration vanishes from Consul without 'hactl forget' "
               "(Consul's data lost, an ACL that hides it) stays a peer.",
       .format = &kPath},
      {HASUP_KEY(node.settings_file),
       .help = "This node's copy of the cluster's settings (hactl settings), as last applied: the supervisor "
               "starts with it, so a node never starts with settings older than the last it knew; the store's "
               "are applied once read.",
       .format = &kPath},

      // cluster.*: the appliance's rules, the same in every node's file
      // (provision-node writes them); a restart, because the upload gate and
      // Patroni's configuration take them at their own start.
      {HASUP_KEY(cluster.durability),
       .help = "One durability rule for the database and the uploads. available: a node alone (two managers, "
               "one down) acknowledges writes and uploads with one copy and says so (hactl status; the gate's "
               "X-Replication and Warning headers), and the other copy catches up when a peer is back, before "
               "that peer counts as in sync. strict: a write needs a second copy, so a node alone refuses "
               "writes (commits wait, uploads get 503) until a peer is back. The upload gate gets the same "
               "value (its replication.durability); with db.backend = stolon, only strict (stolon's "
               "synchronous replication always waits for a standby).",
       .allowed_values = {"available", "strict"}},
      {HASUP_KEY(cluster.gate_durability_file),
       .help = "Where this node's upload gate writes, at its start, the rule it runs by (the gate's "
               "replication.durability_file). hactl status shows it under durability, and says so when it "
               "differs from cluster.durability (the gate's own config then needs the same value). Read only "
               "on a node that replicates files (files.enabled).",
       .reload = Reload::live,
       .format = &kPath},

      // The HTTP client to the local agent is built once at start-up.
      {HASUP_KEY(consul.host), .help = "Address of the local Consul agent.", .format = &kHost},
      {HASUP_KEY(consul.port), .help = "HTTP port of the local Consul agent.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(consul.token),
       .help = "Consul ACL token (secret: never printed). Empty: anonymous. Exclusive with consul.token_file.",
       .reload = Reload::live,
       .secret = true,
       .format = &kToken},
      {HASUP_KEY(consul.token_file),
       .help = "File holding the Consul ACL token, read at load and on SIGHUP; trailing whitespace is "
               "stripped. A relative path is relative to the config file's directory. Exclusive with "
               "consul.token.",
       .reload = Reload::live},
      // The HTTPS client is built once at start-up, with its CA.
      {HASUP_KEY(consul.ca_file),
       .help = "PEM file of the CA that signed the local agent's HTTPS certificate (Consul's ca_file). Set: "
               "every call is HTTPS, the agent's certificate must chain to this CA alone and name "
               "consul.host, so the token never crosses even loopback in clear. Empty: plain HTTP.",
       .format = &kOptionalPath},
      // Moving the prefix live would leave the held lock and the member
      // record behind under the old prefix.
      {HASUP_KEY(consul.key_prefix),
       .help = "Consul KV prefix under which the cluster's lock, members and state live.",
       .format = &kKeyPrefix},
      {HASUP_KEY(consul.request_timeout_ms),
       .help = "Timeout of every non-blocking Consul call, in ms.",
       .reload = Reload::live,
       .int_ranges = {{100, 60000}}},
      // session_ttl_s and lock_delay_ms are properties of the Consul session,
      // fixed when it is created; changing them means a new session, which
      // gives up the leader lock. Consul accepts session TTLs of 10 s..24 h;
      // 0 means no TTL.
      {HASUP_KEY(consul.session_ttl_s),
       .help = "TTL of this node's Consul session, in s; 0: no TTL.",
       .int_ranges = {{0, 0}, {10, 86400}}},
      {HASUP_KEY(consul.lock_delay_ms),
       .help = "Consul lock-delay: after this node's session is invalidated, no one can take the lock "
               "for this long, in ms.",
       .int_ranges = {{0, 60000}}},
      // The check is registered in Consul with its TTL at start-up.
      {HASUP_KEY(consul.check_ttl_ms),
       .help = "TTL of the supervisor's liveness check in Consul, passed once per loop cycle, in ms.",
       .int_ranges = {{1000, 600000}}},
      {HASUP_KEY(consul.quorum_loss_timeout_ms),
       .help = "Without a Consul quorum for this long, the node considers itself cut off and steps "
               "down, in ms.",
       .reload = Reload::live,
       .int_ranges = {{500, 60000}}},
      {HASUP_KEY(consul.probe_interval_ms),
       .help = "Interval of the consistent-read probe that detects quorum loss, in ms.",
       .reload = Reload::live,
       .int_ranges = {{100, 10000}}},
      {HASUP_KEY(consul.gossip_poll_interval_ms),
       .help = "How often the local agent's gossip members are read, in ms (the dead peers' table, and whether a "
               "node without quorum is cut off or the servers are electing a leader).",
       .reload = Reload::live,
       .int_ranges = {{50, 10000}}},
      {HASUP_KEY(consul.blocking_wait_s),
       .help = "Longest wait (?wait=) of Consul blocking queries, in s.",
       .reload = Reload::live,
       .int_ranges = {{1, 300}}},

      {HASUP_KEY(loop.interval_ms),
       .help = "Cycle timer when nothing wakes the loop, in ms.",
       .reload = Reload::live,
       .int_ranges = {{100, 60000}}},
      {HASUP_KEY(loop.log_repeat_s),
       .help = "Repeat an unchanged decision in the log this often, in s.",
       .reload = Reload::live,
       .int_ranges = {{1, 86400}}},

      // The API socket is bound once at start-up.
      {HASUP_KEY(api.listen), .help = "Address the HTTP API listens on: loopback only.", .format = &kLoopbackHost},
      {HASUP_KEY(api.port), .help = "Port the HTTP API listens on.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(api.token_file),
       .help = "Root-only file the supervisor writes a new random token into at every start; the API's "
               "writes (POST /maintenance, /forget) need it as 'Authorization: Bearer TOKEN' (hactl, run as "
               "root, reads it): no other local user can change the cluster through the API.",
       .format = &kPath},

      {HASUP_KEY(log.level),
       .help = "Least severe level written to the log.",
       .reload = Reload::live,
       .allowed_values = {"trace", "debug", "info", "warn", "error"}},

      // vip.*: the floating IP, held by keepalived (VRRPv3); the supervisor
      // renders keepalived.conf and puts the instance in FAULT through a track
      // file when this node must not hold the IP. A restart for all: they
      // shape the rendered config and the files keepalived watches.
      {HASUP_KEY(vip.address),
       .help = "Floating IP with prefix length (e.g. 198.18.0.100/24); empty: no floating IP on this node.",
       .format = &kIpv4Cidr},
      {HASUP_KEY(vip.interface), .help = "Interface that carries the floating IP and VRRP.", .format = &kInterface},
      {HASUP_KEY(vip.virtual_router_id),
       .help = "VRRP virtual router id: the same on every node of this cluster, unique on the network.",
       .int_ranges = {{1, 255}}},
      {HASUP_KEY(vip.priority),
       .help = "VRRP base priority of this node; the highest healthy node holds the IP.",
       .int_ranges = {{1, 254}}},
      {HASUP_KEY(vip.advert_interval_ms),
       .help = "VRRP advertisement interval, in ms (VRRPv3: 100 or more, in steps of 10 ms). 100 moves the IP "
               "in ~0.3 s after a crash.",
       .int_ranges = {{100, 40950}}},
      {HASUP_KEY(vip.keepalived_conf), .help = "keepalived.conf the supervisor renders.", .format = &kPath},
      {.path = "vip.template", .field = [](Config& c) -> auto& { return c.vip.template_path; }, .help = "Mustache template of keepalived.conf.", .format = &kPath},
      {HASUP_KEY(vip.track_file),
       .help = "Track file keepalived watches: non-zero puts this node's instance in FAULT (the IP leaves).",
       .format = &kPath},
      {HASUP_KEY(vip.notify_fifo),
       .help = "FIFO keepalived writes its VRRP state changes to; the supervisor creates and reads it.",
       .format = &kPath},
      {HASUP_KEY(vip.keepalived_unit), .help = "systemd unit of keepalived, reloaded after a render."},
      {HASUP_KEY(vip.db_primary_weight),
       .help = "Added to the VRRP priority of the node that runs the database primary (a keepalived track "
               "file): among healthy nodes it is the next holder. 0: no preference.",
       .int_ranges = {{0, 100}}},
      {HASUP_KEY(vip.preference_file),
       .help = "Track file the supervisor writes 1 into on the database primary's node.",
       .format = &kPath},
      {HASUP_KEY(vip.vrrp_filter),
       .help = "The kernel drops VRRP packets from every host that is not a member of the cluster (an nftables "
               "table, ip ha_supervisor_vrrp, loaded with vip.nft): a stranger's adverts, even ones keepalived "
               "refuses, would otherwise delay the holder's and move the floating IP."},
      {HASUP_KEY(vip.nft), .help = "nft binary that loads the VRRP filter.", .format = &kPath},
      {HASUP_KEY(vip.heartbeat_file),
       .help = "File the supervisor touches every second from its control loop; keepalived (a vrrp_script "
               "running vip.heartbeat_check) puts the instance in FAULT once it is older than "
               "vip.heartbeat_max_age_s: a supervisor that is dead or cannot start never leaves the IP where "
               "its last word put it.",
       .format = &kPath},
      {HASUP_KEY(vip.heartbeat_max_age_s),
       .help = "Age of vip.heartbeat_file, in seconds, past which keepalived gives the IP up: above a "
               "restart's gap (~2 s) and systemd's watchdog (5 s), so neither moves the IP.",
       .int_ranges = {{6, 600}}},
      {HASUP_KEY(vip.heartbeat_check),
       .help = "Script keepalived runs every second, as nobody: exit 0 while vip.heartbeat_file is fresh.",
       .format = &kPath},
      {HASUP_KEY(vip.unfit_grace_ms),
       .help = "A local problem (nginx down, the REST service failing its check, the database not writable) "
               "must last this long before the holder gives the IP to a fit node, in ms: a failure every node "
               "sees at once (a database failover) then moves nothing.",
       .reload = Reload::live,
       .int_ranges = {{0, 600000}}},
      {HASUP_KEY(vip.election_grace_ms),
       .help = "A node without a Consul quorum whose gossip still reaches a majority is not cut off: the Consul "
               "servers are electing a leader (after the old one's crash, 1-4 s). The floating IP stays with it "
               "this much past consul.quorum_loss_timeout_ms, in ms, so a Consul leader's crash moves the IP at "
               "most once. 0: a node gives the IP up at the cut-off, election or not.",
       .reload = Reload::live,
       .int_ranges = {{0, 60000}}},

      // systemd.*: the unit manager connects once, at start.
      {HASUP_KEY(systemd.watch_units),
       .help = "Units whose state the supervisor follows and reports (comma-separated, e.g. "
               "consul.service); keepalived's unit is added when vip.address is set. Empty and no floating "
               "IP: the supervisor does not talk to systemd.",
       .format = &kUnitList},
      {HASUP_KEY(systemd.bus_address),
       .help = "D-Bus address of systemd's bus; empty: the system bus.",
       .format = &kBusAddress},

      // nginx.*: what shapes the rendered file and the unit are fixed at
      // start; the template (re-read on SIGHUP) and the timing can change live.
      {HASUP_KEY(nginx.enabled),
       .help = "Render nginx's config from Consul's healthy services and reload nginx through systemd."},
      {HASUP_KEY(nginx.services),
       .help = "Consul services whose passing instances become nginx upstreams (comma-separated); each is "
               "available to the template under its name with '-' and '.' as '_' (rest-service: rest_service).",
       .format = &kServiceList},
      {.path = "nginx.template", .field = [](Config& c) -> auto& { return c.nginx.template_path; },
       .help = "Mustache template of nginx's config; re-read on SIGHUP.", .reload = Reload::live, .format = &kPath},
      {HASUP_KEY(nginx.conf_path), .help = "nginx config file the supervisor renders (nginx runs with -c on it).",
       .format = &kPath},
      {HASUP_KEY(nginx.unit), .help = "systemd unit of nginx, started and reloaded by the supervisor."},
      {HASUP_KEY(nginx.binary), .help = "nginx binary, run with -t to validate a rendered config before it is used.",
       .format = &kPath},
      {HASUP_KEY(nginx.listen_address),
       .help = "Address nginx listens on; empty: every address of the node (the floating IP included).",
       .format = &kOptionalHost},
      {HASUP_KEY(nginx.listen_port), .help = "Port nginx listens on.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(nginx.user), .help = "User of nginx's worker processes; empty: no user directive.",
       .format = &kUserName},
      {HASUP_KEY(nginx.runtime_dir), .help = "nginx's pid file and temp files.", .format = &kPath},
      {HASUP_KEY(nginx.log_dir), .help = "nginx's error and access logs.", .format = &kPath},
      {HASUP_KEY(nginx.resources_dir), .help = "Folder nginx serves read-only under /resources/.", .format = &kPath},
      {HASUP_KEY(nginx.status_page_users_file),
       .help = "htpasswd file (read by nginx's workers) of the operators who may read the status page through nginx "
               "at /ha-status/ui, with HTTP basic auth; empty: not published, the page stays on the loopback API.",
       .format = &kOptionalPath},
      {HASUP_KEY(nginx.wait_min_ms),
       .help = "Debounce: render once the healthy set has been quiet this long, in ms.",
       .reload = Reload::live,
       .int_ranges = {{0, 60000}}},
      {HASUP_KEY(nginx.wait_max_ms),
       .help = "Debounce: render at the latest this long after the first unapplied change, even if changes "
               "keep coming, in ms.",
       .reload = Reload::live,
       .int_ranges = {{0, 600000}}},
      {HASUP_KEY(nginx.reload_interval_ms),
       .help = "Least time between two nginx reloads, in ms: a storm of health flaps costs at most one reload "
               "per interval.",
       .reload = Reload::live,
       .int_ranges = {{0, 600000}}},
      {HASUP_KEY(nginx.check_timeout_ms),
       .help = "Longest run of `nginx -t` on a rendered config, in ms; past it the config is refused.",
       .reload = Reload::live,
       .int_ranges = {{100, 60000}}},
      {HASUP_KEY(nginx.max_requests_per_client),
       .help = "Requests one client address may have in progress on /api/; beyond: 503 with Retry-After.",
       .reload = Reload::live,
       .int_ranges = {{1, 100000}}},
      {HASUP_KEY(nginx.max_requests),
       .help = "Requests all clients may have in progress on /api/ of this node; beyond: 503 with Retry-After. "
               "Keep it below the upload gate's limits.max_connections_per_client.",
       .reload = Reload::live,
       .int_ranges = {{1, 100000}}},
      {HASUP_KEY(nginx.upstream_read_timeout_s),
       .help = "Longest wait for the upload gate's answer, in s: at least the gate's upstream_timeout_ms plus its "
               "replication.max_timeout_ms, or nginx answers 504 to an upload the gate later confirms.",
       .reload = Reload::live,
       .int_ranges = {{1, 86400}}},

      // db.*: PostgreSQL HA. What shapes patroni.yml and the unit is fixed at
      // start; the probes' timing can change live.
      {HASUP_KEY(db.backend),
       .help = "PostgreSQL HA backend: patroni (rendered and run by the supervisor), stolon, or none.",
       .allowed_values = {"none", "patroni", "stolon"}},
      {HASUP_KEY(db.scope), .help = "Patroni scope / stolon cluster name: the same on every node.",
       .format = &kDbName},
      {HASUP_KEY(db.patroni_namespace), .help = "Patroni's namespace: its keys live under NAMESPACE/SCOPE/ in Consul.",
       .format = &kDbName},
      {HASUP_KEY(db.stolon_prefix), .help = "stolon's store prefix: clusterdata is at PREFIX/SCOPE/clusterdata.",
       .format = &kKeyPrefix},
      {HASUP_KEY(db.endpoint),
       .help = "libpq conninfo (keyword=value) local clients use to reach the primary; the supervisor probes "
               "it. Empty: every registered node's address on db.port with target_session_attrs=read-write "
               "(secret: it may hold a password).",
       .secret = true,
       .format = &kConninfo},
      {HASUP_KEY(db.local),
       .help = "libpq conninfo of this node's own PostgreSQL (role, timeline, replay position). Empty: "
               "127.0.0.1 on db.port (secret: it may hold a password).",
       .secret = true,
       .format = &kConninfo},
      {HASUP_KEY(db.secrets_file),
       .help = "The cluster's PostgreSQL passwords (superuser=, replication=, rewind=, manager=), the same file "
               "on every node, readable by root only.",
       .format = &kPath},
      {HASUP_KEY(db.peer_network),
       .help = "Network (CIDR) the nodes' addresses lie in: pg_hba admits each node of the cluster by its own "
               "address inside it, and no other host. Required with db.backend = patroni.",
       .format = &kOptionalCidr},
      {HASUP_KEY(db.port), .help = "PostgreSQL's port on every node.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(db.api_port), .help = "Patroni's REST API port on every node.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(db.data_dir), .help = "PostgreSQL data directory (Patroni runs initdb or a base backup there).",
       .format = &kPath},
      {HASUP_KEY(db.bin_dir), .help = "PostgreSQL's binaries.", .format = &kPath},
      {HASUP_KEY(db.runtime_dir), .help = "PostgreSQL's sockets and Patroni's pgpass.", .format = &kPath},
      {HASUP_KEY(db.log_dir), .help = "Patroni's log files.", .format = &kPath},
      {.path = "db.patroni_template", .field = [](Config& c) -> auto& { return c.db.patroni_template; },
       .help = "Mustache template of patroni.yml.", .format = &kPath},
      {.path = "db.bootstrap_template", .field = [](Config& c) -> auto& { return c.db.bootstrap_template; },
       .help = "Mustache template of the SQL run once on the first primary (the manager's role and database).",
       .format = &kPath},
      {HASUP_KEY(db.patroni_conf), .help = "patroni.yml the supervisor renders.", .format = &kPath},
      {HASUP_KEY(db.bootstrap_sql), .help = "Bootstrap SQL the supervisor renders.", .format = &kPath},
      {HASUP_KEY(db.post_bootstrap), .help = "Script Patroni runs once after initdb (runs the bootstrap SQL).",
       .format = &kPath},
      {HASUP_KEY(db.unit), .help = "systemd unit of Patroni, started and reloaded by the supervisor."},
      {HASUP_KEY(db.stolonctl), .help = "stolonctl, run once per cluster to initialise it.", .format = &kPath},
      {HASUP_KEY(db.stolon_spec_template), .help = "Mustache template of stolon's initial cluster spec.",
       .format = &kPath},
      {HASUP_KEY(db.stolon_spec_file), .help = "Where the rendered cluster spec is written for stolonctl init.",
       .format = &kPath},
      {HASUP_KEY(db.stolon_units),
       .help = "stolon's units the supervisor starts (comma-separated): sentinel, keeper, proxy.",
       .format = &kUnitList},
      {HASUP_KEY(db.stolon_keeper_port),
       .help = "Port of the keeper's PostgreSQL (the local probe's); with stolon, db.port is the proxy's.",
       .int_ranges = {{1, 65535}}},
      {HASUP_KEY(db.ttl_s),
       .help = "Patroni's leader TTL, in s: it bounds a failover only when Consul's gossip cannot tell (Patroni "
               "hung on a live node); a crashed node's session ends with its serfHealth check in ~1-2 s. Consul's "
               "session_ttl_min must be at most ttl/2. Patroni 4 raises anything below 20 to 20.",
       .int_ranges = {{2, 3600}}},
      {HASUP_KEY(db.loop_wait_s), .help = "Patroni's loop_wait, in s.", .int_ranges = {{1, 3600}}},
      {HASUP_KEY(db.retry_timeout_s),
       .help = "Patroni's retry_timeout for Consul and PostgreSQL calls, in s: a primary that cannot reach "
               "Consul for this long demotes itself, so it must outlast a Consul leader election (~1-3 s after "
               "the Raft leader's node crashes; at 2 s the lab's primary demoted itself then, 12 s without "
               "writes); below 2 Patroni 3.0.2 cannot take the leader lock.",
       .int_ranges = {{2, 3600}}},
      {HASUP_KEY(db.synchronous),
       .help = "Synchronous replication: quorum (Patroni 4's quorum commit: a commit waits for any one "
               "standby, so losing one costs no write; the new primary is one a quorum confirms has every "
               "acknowledged commit), on (one named synchronous standby: only it may be promoted; losing it "
               "stalls commits until another is named), off (asynchronous: a failover may lose acknowledged "
               "commits; not with cluster.durability = strict). Whether commits go on with one copy when no "
               "standby is left is cluster.durability's; strict and quorum-strict are on and quorum spelt "
               "for cluster.durability = strict, and need it.",
       .allowed_values = {"off", "on", "strict", "quorum", "quorum-strict"}},
      {HASUP_KEY(db.manager_user), .help = "The manager's database role, created once at bootstrap.",
       .format = &kSqlName},
      {HASUP_KEY(db.manager_database), .help = "The manager's database, created once at bootstrap.",
       .format = &kSqlName},
      {HASUP_KEY(db.rest_conninfo_file),
       .help = "The REST service's connection string file, which the supervisor rewrites with the manager's "
               "login in force (hactl rotate db-password): owned by the REST service's user, mode 0400. Empty: "
               "no REST service on this node.",
       .format = &kOptionalPath},
      {HASUP_KEY(db.rest_conninfo),
       .help = "What the supervisor writes there before the login: hosts, database, timeouts; no user= or "
               "password=. Required with db.rest_conninfo_file.",
       .format = &kClientConninfo},
      {HASUP_KEY(db.rest_unit),
       .help = "The REST service's unit, reloaded (it re-reads the file) once the file holds a new login."},
      {HASUP_KEY(db.probe_interval_ms),
       .help = "Interval of the libpq probes of the local endpoint and of this node's PostgreSQL, in ms.",
       .reload = Reload::live,
       .int_ranges = {{100, 60000}}},
      {HASUP_KEY(db.probe_timeout_ms),
       .help = "Bound of each probe (connect, queries, the write), in ms.",
       .reload = Reload::live,
       .int_ranges = {{100, 60000}}},
      {HASUP_KEY(db.unfit_after_ms),
       .help = "The local endpoint failing its write probe this long makes the node unfit to hold the "
               "floating IP (when another node is fit), in ms.",
       .reload = Reload::live,
       .int_ranges = {{0, 600000}}},

      // files.*: syncthing, kept by the supervisor. What it replicates is
      // fixed at start; the polling and the fitness bound can change live.
      {HASUP_KEY(files.enabled),
       .help = "Keep syncthing's devices and folders following the cluster's membership (components/syncthing)."},
      {HASUP_KEY(files.folders),
       .help = "Folders replicated to every node (absolute paths, comma-separated); the same on every node.",
       .format = &kPathList},
      {HASUP_KEY(files.api_address), .help = "syncthing's REST API address: a loopback address.",
       .format = &kLoopback},
      {HASUP_KEY(files.api_port), .help = "syncthing's REST API port.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(files.api_key_file),
       .help = "File holding syncthing's API key (root only; written by components/syncthing/install.sh).",
       .format = &kPath},
      {HASUP_KEY(files.gate_api_key_file),
       .help = "The upload gate's copy of syncthing's API key, which hactl rotate syncthing-key rewrites with "
               "the key (keeping its owner); empty, or a file that is not there: no gate on this node.",
       .format = &kOptionalPath},
      {HASUP_KEY(files.sync_port), .help = "syncthing's port for the peers, the same on every node.",
       .int_ranges = {{1, 65535}}},
      {HASUP_KEY(files.unit), .help = "systemd unit of syncthing, started (and restarted when its config "
                                      "needs it) by the supervisor."},
      {HASUP_KEY(files.poll_interval_ms), .help = "How often syncthing's state is read, in ms.",
       .reload = Reload::live, .int_ranges = {{100, 60000}}},
      {HASUP_KEY(files.unfit_after_ms),
       .help = "syncthing unreachable, or this node missing files its peers have, this long makes the node "
               "unfit to hold the floating IP (when another node is fit), in ms.",
       .reload = Reload::live, .int_ranges = {{0, 3600000}}},
      {HASUP_KEY(files.conflict_scan_interval_ms),
       .help = "How often the folders are searched for syncthing's conflict copies (.sync-conflict-), in ms.",
       .reload = Reload::live, .int_ranges = {{1000, 3600000}}},

      // dead_peers.*: components/dead-peers.
      {HASUP_KEY(dead_peers.enabled),
       .help = "Once Consul's gossip calls a cluster node failed, this node's own TCP to it gets a reset at once "
               "(an nftables table, ip ha_supervisor_dead_peers, loaded with dead_peers.nft) instead of a connect "
               "timeout: Patroni's leader race, libpq and Consul's RPC forwarding stop waiting for a crashed node. "
               "Follows gossip both ways; never touches Consul's gossip port. Needs CAP_NET_ADMIN."},
      {HASUP_KEY(dead_peers.nft), .help = "nft binary that loads the dead peers' table.", .format = &kPath},
      {HASUP_KEY(dead_peers.script_file),
       .help = "Where the table's nft script is written before nft loads it (an operator can read it).",
       .format = &kPath},
      {HASUP_KEY(dead_peers.consul_serf_port),
       .help = "Consul's gossip (serf LAN) port on the peers, never refused: serf reconnects to a failed node "
               "over TCP, and a healed partition must find its way back.",
       .int_ranges = {{1, 65535}}},
      {HASUP_KEY(dead_peers.consul_server_port),
       .help = "Consul's server RPC (Raft) port on the peers, never refused: refused, a healed node hears no "
               "Raft leader, keeps calling elections and unseats the leader until gossip calls it alive.",
       .int_ranges = {{1, 65535}}},

      // members_only.*: components/members-only.
      {HASUP_KEY(members_only.enabled),
       .help = "Only the cluster's nodes (known, alive or not, and live members) may open a TCP connection to "
               "members_only.ports on this node: the kernel drops anyone else's (an nftables table, ip "
               "ha_supervisor_members_only, loaded with members_only.nft). The upload gate listens on the node's "
               "address for every node's nginx; a stranger must go through nginx. Needs CAP_NET_ADMIN."},
      {HASUP_KEY(members_only.ports), .help = "The members-only TCP ports (the upload gate's).",
       .format = &kPortList},
      {HASUP_KEY(members_only.nft), .help = "nft binary that loads the members-only table.", .format = &kPath},
      {HASUP_KEY(members_only.script_file),
       .help = "Where the table's nft script is written before nft loads it (an operator can read it).",
       .format = &kPath},

      // switchover.*: components/switchover.
      {HASUP_KEY(switchover.hold_writes),
       .help = "During a planned switchover (hactl switchover) this node's upload gate holds new writes (they wait, "
               "at most 15 s) and the switchover waits until no write is left at this node's REST service. false: a "
               "node with no upload gate; its writes are not held or waited for."},
      {HASUP_KEY(switchover.write_hold_file),
       .help = "The hold file the supervisor writes for the upload gate (its hold.file).", .format = &kPath},
      {HASUP_KEY(switchover.write_held_file),
       .help = "The file the upload gate writes once it holds writes with none left at the REST service (its "
               "hold.ack_file).",
       .format = &kPath},

      // broker.*: components/rabbitmq. What shapes rabbitmq.conf is fixed
      // at start (the broker reads it at its own start only); the timing can
      // change live.
      {HASUP_KEY(broker.enabled),
       .help = "Run RabbitMQ (components/rabbitmq/install.sh installs it) and cluster it through Consul: the first "
               "node's broker founds the cluster, every other joins it, a forgotten node is removed."},
      {HASUP_KEY(broker.unit), .help = "systemd unit of the broker, started by the supervisor."},
      {.path = "broker.template", .field = [](Config& c) -> auto& { return c.broker.template_path; },
       .help = "Mustache template of rabbitmq.conf; re-read on SIGHUP.", .reload = Reload::live, .format = &kPath},
      {HASUP_KEY(broker.conf_path), .help = "rabbitmq.conf the supervisor renders.", .format = &kPath},
      {HASUP_KEY(broker.conf_group), .help = "Group of rabbitmq.conf (the broker's).", .format = &kUserName},
      {HASUP_KEY(broker.definitions_file),
       .help = "The broker's definitions (users, quorum queues), written by install.sh.", .format = &kPath},
      {HASUP_KEY(broker.password_file),
       .help = "Password of the ha-supervisor user of the management API (root only; install.sh writes it).",
       .format = &kPath},
      {HASUP_KEY(broker.cookie_fingerprint_file),
       .help = "Fingerprint of this node's Erlang cookie (install.sh writes it), published to compare cookies.",
       .format = &kPath},
      {HASUP_KEY(broker.amqp_address),
       .help = "Address clients connect to (AMQP): 0.0.0.0 serves the floating IP wherever it lands.",
       .format = &kHost},
      {HASUP_KEY(broker.amqp_port), .help = "AMQP port.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(broker.management_port),
       .help = "Port of the management API, on 127.0.0.1 only: the supervisor's reads.", .int_ranges = {{1, 65535}}},
      {HASUP_KEY(broker.partition_handling),
       .help = "RabbitMQ's cluster_partition_handling: pause_minority (a node in a minority pauses, so a "
               "partition never passes unnoticed) or autoheal.",
       .allowed_values = {"pause_minority", "autoheal"}},
      {HASUP_KEY(broker.memory_high_watermark),
       .help = "vm_memory_high_watermark.relative: the share of memory past which the broker blocks publishers "
               "(an alarm, which makes the node unfit for the floating IP).",
       .allowed_values = {"0.2", "0.3", "0.4", "0.5", "0.6", "0.7"}},
      {HASUP_KEY(broker.poll_interval_ms), .help = "How often the management API is read, in ms.",
       .reload = Reload::live, .int_ranges = {{100, 60000}}},
      {HASUP_KEY(broker.request_timeout_ms), .help = "Longest wait for one management API answer, in ms.",
       .reload = Reload::live, .int_ranges = {{100, 60000}}},
      {HASUP_KEY(broker.unfit_after_ms),
       .help = "A broker whose management API has not answered for this long makes the node unfit for the floating "
               "IP, in ms: one slow answer (the API waits on a peer that just crashed) is not a broker gone.",
       .reload = Reload::live, .int_ranges = {{0, 600000}}},
      {HASUP_KEY(broker.start_grace_ms),
       .help = "How long a starting broker may be silent before status says so, in ms.", .reload = Reload::live,
       .int_ranges = {{1000, 600000}}},
      {HASUP_KEY(broker.stuck_after_ms),
       .help = "A broker silent this long with its unit up, while this node reaches Consul's quorum, is stuck "
               "(paused in a minority that healed) and restarted, in ms.",
       .reload = Reload::live, .int_ranges = {{5000, 3600000}}},
      {HASUP_KEY(broker.retry_after_ms), .help = "Wait before a failed join or forget is tried again, in ms.",
       .reload = Reload::live, .int_ranges = {{1000, 3600000}}},
  };
#undef HASUP_KEY
}

// keepalived counts the VRRPv3 interval in centiseconds.
std::string advert_step_violation(const Config& c) {
  if (c.vip.advert_interval_ms % 10 == 0) return {};
  return "vip.advert_interval_ms (" + std::to_string(c.vip.advert_interval_ms) +
         ") must be a multiple of 10 ms (VRRPv3 counts centiseconds)";
}

std::string nginx_wait_violation(const Config& c) {
  if (c.nginx.wait_min_ms <= c.nginx.wait_max_ms) return {};
  return "nginx.wait_min_ms (" + std::to_string(c.nginx.wait_min_ms) + ") must not exceed nginx.wait_max_ms (" +
         std::to_string(c.nginx.wait_max_ms) + ")";
}

// Patroni 3.0.2 with Consul: a leader renews its key every loop_wait and may
// spend retry_timeout on a call; both retries must fit in the TTL, else a
// healthy leader demotes itself on a slow Consul call.
std::string patroni_timing_violation(const Config& c) {
  if (c.db.backend != "patroni") return {};
  const long long needed = c.db.loop_wait_s + 2LL * c.db.retry_timeout_s;
  if (c.db.ttl_s >= needed) return {};
  return named("db.ttl_s", c.db.ttl_s) + " must be >= " + named("db.loop_wait_s", c.db.loop_wait_s) + " + 2 * " +
         named("db.retry_timeout_s", c.db.retry_timeout_s) + " = " + std::to_string(needed) +
         "; a leader whose Consul call is slow would demote itself";
}

std::string patroni_network_violation(const Config& c) {
  if (c.db.backend != "patroni" || !c.db.peer_network.empty()) return {};
  return "db.peer_network must be set with db.backend = patroni: replicas connect to the primary from it";
}

// One durability rule (cluster.durability): db.synchronous names the
// replication's mode; it may not say the opposite about a node alone.
std::string durability_violation(const Config& c) {
  const std::string& sync = c.db.synchronous;
  const bool strict_spelling = sync == "strict" || sync == "quorum-strict";
  if (c.db.backend == "none") return {};
  if (!c.cluster.strict() && strict_spelling)
    return "db.synchronous = \"" + sync + "\" blocks commits without a standby, but cluster.durability is \"" +
           c.cluster.durability + "\": set cluster.durability = \"strict\" (the uploads follow it too), or db.synchronous = \"" +
           (sync == "strict" ? "on" : "quorum") + "\"";
  if (c.cluster.strict() && sync == "off")
    return "db.synchronous = \"off\" (asynchronous) cannot keep cluster.durability = \"strict\": a commit would "
           "be acknowledged with one copy";
  if (c.db.backend == "stolon" && !c.cluster.strict() && sync != "off")
    return "db.backend = stolon needs cluster.durability = \"strict\": stolon's synchronous replication waits for a "
           "standby, so it cannot go on with one copy as \"" + c.cluster.durability + "\" promises";
  return {};
}

std::string rest_conninfo_violation(const Config& c) {
  if (c.db.rest_conninfo_file.empty() || !c.db.rest_conninfo.empty()) return {};
  return "db.rest_conninfo must be set with db.rest_conninfo_file: the supervisor writes it there with the login";
}

// A probe that may run longer than its interval would pile up.
std::string db_probe_violation(const Config& c) {
  if (c.db.probe_timeout_ms <= c.db.probe_interval_ms && c.db.unfit_after_ms >= 2LL * c.db.probe_interval_ms) return {};
  return named("db.probe_timeout_ms", c.db.probe_timeout_ms) + " must be <= " +
         named("db.probe_interval_ms", c.db.probe_interval_ms) + " and " +
         named("db.unfit_after_ms", c.db.unfit_after_ms) + " >= 2 * db.probe_interval_ms: one slow probe "
         "must not make the node unfit";
}

std::vector<CrossKeyRule> build_rules() {
  return {
      {.keys = {"db.ttl_s", "db.loop_wait_s", "db.retry_timeout_s"},
       .summary = "db.ttl_s >= db.loop_wait_s + 2 * db.retry_timeout_s (Patroni): a leader rides out a slow "
                  "Consul call instead of demoting itself.",
       .violation = patroni_timing_violation},
      {.keys = {"db.backend", "db.peer_network"},
       .summary = "db.peer_network is set when db.backend = patroni.",
       .violation = patroni_network_violation},
      {.keys = {"cluster.durability", "db.backend", "db.synchronous"},
       .summary = "db.synchronous agrees with cluster.durability: strict and quorum-strict need it strict, off "
                  "needs it available; db.backend = stolon needs it strict (or db.synchronous = off).",
       .violation = durability_violation},
      {.keys = {"db.rest_conninfo_file", "db.rest_conninfo"},
       .summary = "db.rest_conninfo is set when db.rest_conninfo_file is.",
       .violation = rest_conninfo_violation},
      {.keys = {"db.probe_timeout_ms", "db.probe_interval_ms", "db.unfit_after_ms"},
       .summary = "db.probe_timeout_ms <= db.probe_interval_ms and db.unfit_after_ms >= 2 * "
                  "db.probe_interval_ms.",
       .violation = db_probe_violation},
      {.keys = {"nginx.wait_min_ms", "nginx.wait_max_ms"},
       .summary = "nginx.wait_min_ms <= nginx.wait_max_ms: a change waits for quiet, but never past the maximum.",
       .violation = nginx_wait_violation},
      {.keys = {"vip.advert_interval_ms"},
       .summary = "vip.advert_interval_ms is a multiple of 10 (VRRPv3 counts centiseconds).",
       .violation = advert_step_violation},
      // A node cut off from Consul must step down before another node can
      // take the leader lock: the others can take it once serf has declared
      // the cut-off node failed (>= 1200 ms) and the lock-delay has run out.
      {.keys = {"consul.quorum_loss_timeout_ms", "consul.probe_interval_ms", "consul.lock_delay_ms"},
       .summary = "consul.quorum_loss_timeout_ms + consul.probe_interval_ms <= consul.lock_delay_ms + 1200: "
                  "a node cut off from Consul steps down before another can take the lock (split-brain "
                  "otherwise; 1200 ms is serf's minimum failure detection time with consul-config's gossip).",
       .violation = split_brain_violation},
      // The cut-off bound is only a bound if no single call can block longer.
      {.keys = {"consul.request_timeout_ms", "consul.quorum_loss_timeout_ms"},
       .summary = "consul.request_timeout_ms < consul.quorum_loss_timeout_ms: a single hung call does not "
                  "outlast the cut-off bound.",
       .violation = hung_call_violation},
      // One lost probe must not by itself exhaust the bound.
      {.keys = {"consul.probe_interval_ms", "consul.quorum_loss_timeout_ms"},
       .summary = "consul.probe_interval_ms * 2 <= consul.quorum_loss_timeout_ms: at least two probes fit "
                  "inside the cut-off bound.",
       .violation = probe_count_violation},
      // The liveness check is passed once per cycle; one late cycle must not
      // let its TTL expire and make Consul invalidate the session.
      {.keys = {"consul.check_ttl_ms", "loop.interval_ms"},
       .summary = "consul.check_ttl_ms >= 2 * loop.interval_ms: one late cycle does not fail the liveness "
                  "check.",
       .violation = check_ttl_violation},
  };
}

}  // namespace

namespace {

// Keys the store may set for every node (KeySpec::cluster_wide). Left out on
// purpose: vip.advert_interval_ms and vip.virtual_router_id (VRRP drops the
// adverts of a peer whose interval differs, so a rolling change would make two
// masters); db.ttl_s, loop_wait_s, retry_timeout_s and synchronous (Patroni
// reads them once, at bootstrap: changing them is Patroni's own edit-config);
// broker.partition_handling (brokers that disagree on it heal a partition
// differently); log.level (one node's debugging is that node's).
constexpr std::string_view kClusterWideKeys[] = {
    "consul.request_timeout_ms", "consul.session_ttl_s", "consul.lock_delay_ms", "consul.check_ttl_ms",
    "consul.quorum_loss_timeout_ms", "consul.probe_interval_ms", "consul.gossip_poll_interval_ms",
    "consul.blocking_wait_s", "loop.interval_ms", "loop.log_repeat_s", "vip.db_primary_weight",
    "vip.heartbeat_max_age_s", "vip.unfit_grace_ms", "vip.election_grace_ms", "nginx.wait_min_ms",
    "nginx.wait_max_ms", "nginx.reload_interval_ms", "nginx.check_timeout_ms", "nginx.max_requests_per_client",
    "nginx.max_requests", "nginx.upstream_read_timeout_s", "db.probe_interval_ms", "db.probe_timeout_ms",
    "db.unfit_after_ms", "files.poll_interval_ms", "files.unfit_after_ms", "files.conflict_scan_interval_ms",
    "broker.memory_high_watermark", "broker.poll_interval_ms", "broker.request_timeout_ms",
    "broker.unfit_after_ms", "broker.start_grace_ms", "broker.stuck_after_ms", "broker.retry_after_ms",
};

std::vector<KeySpec> marked_keys() {
  auto keys = build_keys();
  for (const auto path : kClusterWideKeys) {
    auto key = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.path == path; });
    if (key == keys.end()) std::abort();  // a typo above: caught by the first test that loads a config
    key->cluster_wide = true;
  }
  return keys;
}

}  // namespace

const std::vector<KeySpec>& all_keys() {
  static const std::vector<KeySpec> keys = marked_keys();
  return keys;
}

const std::vector<CrossKeyRule>& cross_key_rules() {
  static const std::vector<CrossKeyRule> rules = build_rules();
  return rules;
}

const KeySpec* find_key(std::string_view path) {
  const auto& keys = all_keys();
  const auto found = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& key) { return key.path == path; });
  return found == keys.end() ? nullptr : &*found;
}

std::vector<std::string_view> group_names() {
  std::vector<std::string_view> groups;
  for (const auto& key : all_keys()) {
    if (std::find(groups.begin(), groups.end(), key.group()) == groups.end()) groups.push_back(key.group());
  }
  return groups;
}

bool is_group(std::string_view name) {
  const auto groups = group_names();
  return std::find(groups.begin(), groups.end(), name) != groups.end();
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::integer: return "int";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::floating: return "float";
  }
  return "?";
}

std::string allowed_text(const KeySpec& key) {
  if (!key.int_ranges.empty()) return int_ranges_text(key.int_ranges);
  if (!key.allowed_values.empty()) {
    std::string text;
    for (const auto value : key.allowed_values) {
      if (!text.empty()) text += ", ";
      text += value;
    }
    return text;
  }
  if (key.format != nullptr) return std::string(key.format->description);
  return {};
}

std::string value_text(const KeySpec& key, const Config& config) {
  return std::visit(
      [&](auto field) -> std::string {
        const auto& value = read(field, config);
        using Value = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, std::string>) {
          // An empty secret tells nothing; any other secret stays hidden.
          if (key.secret && !value.empty()) return "(secret)";
          return quoted_printable(value, kWholeValue);
        } else {
          if (key.secret) return "(secret)";
          std::ostringstream text;
          text << std::boolalpha << value;
          return text.str();
        }
      },
      key.field);
}

bool values_differ(const KeySpec& key, const Config& a, const Config& b) {
  return std::visit([&](auto field) { return read(field, a) != read(field, b); }, key.field);
}

}  // namespace hasup::config
