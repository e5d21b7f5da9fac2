#include "components/patroni/dcs_state.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/result.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::patroni {

namespace {

using nlohmann::json;

constexpr std::string_view kMembersDir = "members/";
constexpr std::size_t kMaxWordLength = 64;
// A member key is about 300 bytes; Consul allows 512 KiB. Far more than
// Patroni writes is not Patroni's, and not worth parsing.
constexpr std::size_t kMaxValueBytes = 64 * 1024;
// An LSN is unsigned 64 bit, but no cluster writes 8 EiB of WAL: beyond
// int64 it is garbage, and staying within it keeps lag arithmetic safe.
constexpr std::uint64_t kMaxWalPosition = std::numeric_limits<std::int64_t>::max();



// Patroni's state and role words: "running", "creating replica", "master".
bool plain_word(const json& value) {
  if (!value.is_string()) return false;
  const auto& text = value.get_ref<const std::string&>();
  return !text.empty() && text.size() <= kMaxWordLength &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// A JSON integer in 0..max; negative, fractional, too big or not a number -> none.
std::optional<std::uint64_t> unsigned_up_to(const json& value, std::uint64_t max) {
  if (!value.is_number_unsigned()) return std::nullopt;
  const auto number = value.get<std::uint64_t>();
  if (number > max) return std::nullopt;
  return number;
}

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// "postgres://host:port/db" or "postgresql://[::1]:5432/db" (a user@ before
// the host is skipped). The port is required: Patroni always writes it.
std::optional<Endpoint> parse_conn_url(std::string_view url) {
  std::string_view rest;
  for (std::string_view scheme : {"postgres://", "postgresql://"})
    if (url.starts_with(scheme)) rest = url.substr(scheme.size());
  if (rest.empty()) return std::nullopt;
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = authority.substr(0, colon);
  const std::string_view port_text = authority.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    const std::string address(host);
    unsigned char buffer[16];
    if (inet_pton(AF_INET6, address.c_str(), buffer) != 1) return std::nullopt;
  } else if (host.find(':') != std::string_view::npos || !host_problem(host).empty()) {
    return std::nullopt;  // an IPv6 address needs its brackets, or the port is ambiguous
  }
  const auto port = port_number(port_text);
  if (!port) return std::nullopt;
  return Endpoint{std::string(host), *port};
}

// A member as its key says, with Patroni's own role word, which decides the
// model's role only once the leader and sync keys are known.
struct ParsedMember {
  db::DbMember member;
  std::string patroni_role;
};

Result<ParsedMember, std::string> parse_member(const std::string& name, const std::string& value) {
  if (value.size() > kMaxValueBytes)
    return "value of " + std::to_string(value.size()) + " bytes is over " + std::to_string(kMaxValueBytes);
  const json data = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded() || !data.is_object()) return std::string("value is not a JSON object");
  const json conn_url = data.value("conn_url", json());
  if (!conn_url.is_string()) return std::string("conn_url is missing or not a string");
  const auto endpoint = parse_conn_url(conn_url.get_ref<const std::string&>());
  if (!endpoint) return "conn_url " + quoted_printable(conn_url.get_ref<const std::string&>()) + " is not postgres://host:port/...";
  const json state = data.value("state", json());
  const json role = data.value("role", json());
  if (!plain_word(state)) return "state " + quoted_printable(state.dump()) + " is not a word of printable ASCII";
  if (!plain_word(role)) return "role " + quoted_printable(role.dump()) + " is not a word of printable ASCII";

  ParsedMember parsed;
  auto& m = parsed.member;
  m.name = name;
  m.host = endpoint->host;
  m.port = endpoint->port;
  m.state = state.get<std::string>();
  m.healthy = m.state == "running";
  parsed.patroni_role = role.get<std::string>();
  // Both are absent while PostgreSQL is down.
  if (const auto it = data.find("xlog_location"); it != data.end()) {
    m.wal_position = unsigned_up_to(*it, kMaxWalPosition);
    if (!m.wal_position) return "xlog_location " + quoted_printable(it->dump()) + " is not a WAL position";
  }
  if (const auto it = data.find("timeline"); it != data.end()) {
    const auto timeline = unsigned_up_to(*it, std::numeric_limits<std::uint32_t>::max());
    if (!timeline || *timeline == 0) return "timeline " + quoted_printable(it->dump()) + " is not 1..4294967295";
    m.timeline = static_cast<std::uint32_t>(*timeline);
  }
  return parsed;
}

using KeysByName = std::map<std::string, const PatroniKey*>;  // name under the prefix -> key

const PatroniKey* find(const KeysByName& keys, const std::string& name) {
  const auto it = keys.find(name);
  return it == keys.end() ? nullptr : it->second;
}

// Every valid members/<name> key; the others become problems.
std::map<std::string, ParsedMember> parse_members(const KeysByName& keys, std::vector<std::string>& problems) {
  std::map<std::string, ParsedMember> members;
  for (const auto& [relative, key] : keys) {
    if (!relative.starts_with(kMembersDir)) continue;
    const std::string name = relative.substr(kMembersDir.size());
    if (!is_plain_name(name)) {
      problems.push_back("member key " + quoted_printable(key->key) + ": the name is not [A-Za-z0-9._-]{1,128}");
      continue;
    }
    auto parsed = parse_member(name, key->value);
    if (!parsed) {
      problems.push_back("member " + quoted_printable(name) + ": " + parsed.error());
      continue;
    }
    members.emplace(name, std::move(parsed.value()));
  }
  return members;
}

// The leader key's member, if a session holds the key and the name is valid.
std::string held_leader(const KeysByName& keys, std::vector<std::string>& problems) {
  const PatroniKey* leader = find(keys, "leader");
  if (!leader || leader->session.empty()) return {};
  if (!is_plain_name(leader->value)) {
    problems.push_back("leader key: the name " + quoted_printable(leader->value) + " is not [A-Za-z0-9._-]{1,128}");
    return {};
  }
  return leader->value;
}

// The sync key as Patroni wrote it: the leader it speaks for and its
// synchronous standbys (the leader left out); nullopt when absent or refused.
struct SyncKey {
  std::string leader;
  std::vector<std::string> standbys;  // sorted, each once
};
std::optional<SyncKey> sync_key(const KeysByName& keys, std::vector<std::string>& problems) {
  const PatroniKey* sync = find(keys, "sync");
  if (!sync) return std::nullopt;
  const json data = json::parse(sync->value, nullptr, /*allow_exceptions=*/false);
  const json leader = data.is_object() ? data.value("leader", json()) : json();
  const json standbys = data.is_object() ? data.value("sync_standby", json()) : json();
  if (!leader.is_string() || !(standbys.is_string() || standbys.is_null())) {
    problems.push_back("sync key: " + quoted_printable(sync->value) + " is not {\"leader\": name, \"sync_standby\": names or null}");
    return std::nullopt;
  }
  SyncKey out;
  out.leader = leader.get<std::string>();
  if (!is_plain_name(out.leader)) {
    problems.push_back("sync key: the leader name " + quoted_printable(out.leader) + " is not [A-Za-z0-9._-]{1,128}");
    return std::nullopt;
  }
  std::set<std::string> names;
  std::string_view list = standbys.is_null() ? std::string_view() : standbys.get_ref<const std::string&>();
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (name.starts_with(' ')) name.remove_prefix(1);
    while (name.ends_with(' ')) name.remove_suffix(1);
    if (name.empty() || name == out.leader) continue;
    if (!is_plain_name(name)) {
      problems.push_back("sync key: the standby name " + quoted_printable(name) + " is not [A-Za-z0-9._-]{1,128}");
      continue;
    }
    names.emplace(name);
  }
  out.standbys.assign(names.begin(), names.end());
  return out;
}

// status.optime: the leader's last WAL position Patroni knows of.
std::optional<std::uint64_t> leader_optime(const KeysByName& keys, std::vector<std::string>& problems) {
  const PatroniKey* status = find(keys, "status");
  if (!status) return std::nullopt;
  const json data = json::parse(status->value, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) {
    problems.push_back("status key: " + quoted_printable(status->value) + " is not a JSON object");
    return std::nullopt;
  }
  const auto it = data.find("optime");
  if (it == data.end()) return std::nullopt;
  auto optime = unsigned_up_to(*it, kMaxWalPosition);
  if (!optime) problems.push_back("status key: optime " + quoted_printable(it->dump()) + " is not a WAL position");
  return optime;
}

// The config key (Patroni's dynamic configuration): its "pause", Patroni's
// maintenance mode (patronictl pause, or the supervisor's hactl pause;
// absent, null or false: not paused), and its synchronous_mode_strict, what
// the cluster does with commits when no standby is left (absent or null:
// Patroni's default, false; no config key yet: not known).
struct ConfigKey {
  bool paused = false;
  std::optional<bool> strict;
};

ConfigKey read_config_key(const KeysByName& keys, std::vector<std::string>& problems) {
  ConfigKey out;
  const PatroniKey* config = find(keys, "config");
  if (!config) return out;
  const json data = json::parse(config->value, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) {
    problems.push_back("config key: " + quoted_printable(config->value) + " is not a JSON object");
    return out;
  }
  const auto flag = [&](const char* name) -> std::optional<bool> {
    const auto it = data.find(name);
    if (it == data.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    problems.push_back(std::string("config key: ") + name + " " + quoted_printable(it->dump()) +
                       " is not true, false or null");
    return std::nullopt;
  };
  out.paused = flag("pause").value_or(false);
  out.strict = flag("synchronous_mode_strict");
  return out;
}

// The failover key: a switchover (leader and member) or a manual failover
// (member only) asked through Patroni's API and not carried out yet. Patroni
// deletes it once done. A scheduled one carries scheduled_at; named as well.
void failover_key(const KeysByName& keys, db::DbClusterView& view) {
  const PatroniKey* failover = find(keys, "failover");
  if (!failover || failover->value.empty()) return;
  const json data = json::parse(failover->value, nullptr, /*allow_exceptions=*/false);
  const json leader = data.is_object() ? data.value("leader", json("")) : json();
  const json member = data.is_object() ? data.value("member", json("")) : json();
  if (!leader.is_string() || !member.is_string()) {
    view.problems.push_back("failover key: " + quoted_printable(failover->value) +
                            " is not {\"leader\": name, \"member\": name}");
    return;
  }
  for (const json* name : {&leader, &member})
    if (!name->get_ref<const std::string&>().empty() && !is_plain_name(name->get_ref<const std::string&>())) {
      view.problems.push_back("failover key: the name " + quoted_printable(name->get<std::string>()) +
                              " is not [A-Za-z0-9._-]{1,128}");
      return;
    }
  view.failover_from = leader.get<std::string>();
  view.failover_to = member.get<std::string>();
}

db::DbRole role_of(const ParsedMember& parsed, const db::DbClusterView& view) {
  const auto& name = parsed.member.name;
  if (name == view.primary) return db::DbRole::primary;
  if (std::find(view.sync_standbys.begin(), view.sync_standbys.end(), name) != view.sync_standbys.end())
    return db::DbRole::sync_standby;
  if (parsed.patroni_role == "replica") return db::DbRole::replica;
  return db::DbRole::unknown;
}

db::DbClusterParse error(std::string why) { return {std::nullopt, std::move(why)}; }

}  // namespace

db::DbClusterParse parse_patroni_state(const std::string& prefix, const std::vector<PatroniKey>& keys) {
  if (prefix.empty()) return error("the Patroni key prefix is empty");
  if (prefix.back() != '/') return error("the Patroni key prefix " + quoted_printable(prefix) + " does not end in '/'");
  KeysByName by_name;
  for (const auto& key : keys) {
    if (!key.key.starts_with(prefix)) return error("key " + quoted_printable(key.key) + " is outside " + quoted_printable(prefix));
    if (!by_name.emplace(key.key.substr(prefix.size()), &key).second)
      return error("key " + quoted_printable(key.key) + " appears twice");
  }

  db::DbClusterView view;
  view.backend = "patroni";
  if (const PatroniKey* initialize = find(by_name, "initialize")) view.initialized = !initialize->value.empty();
  const ConfigKey config = read_config_key(by_name, view.problems);
  view.paused = config.paused;
  view.strict_in_force = config.strict;
  failover_key(by_name, view);
  const auto members = parse_members(by_name, view.problems);

  const std::string leader = held_leader(by_name, view.problems);
  view.leader = leader;
  const auto leader_member = members.find(leader);
  const bool leader_promoted = leader_member != members.end() && (leader_member->second.patroni_role == "master" ||
                                                                   leader_member->second.patroni_role == "primary");
  if (leader_promoted) view.primary = leader;
  view.switching = view.primary.empty();
  // The sync key speaks for the primary it names; without a primary, Patroni
  // (synchronous mode) promotes only that leader or one of its standbys.
  if (auto sync = sync_key(by_name, view.problems)) {
    if (!view.primary.empty() && sync->leader == view.primary) view.sync_standbys = sync->standbys;
    std::set<std::string> named(sync->standbys.begin(), sync->standbys.end());
    if (!sync->leader.empty()) named.insert(sync->leader);
    view.sync_key_names.assign(named.begin(), named.end());
    if (view.primary.empty()) {
      std::set<std::string> names(sync->standbys.begin(), sync->standbys.end());
      names.insert(sync->leader);
      view.promotable.assign(names.begin(), names.end());
    }
  }

  view.primary_wal_position = leader_optime(by_name, view.problems);
  if (leader_promoted) {
    if (!view.primary_wal_position) view.primary_wal_position = leader_member->second.member.wal_position;
    view.primary_timeline = leader_member->second.member.timeline;
  }
  for (const auto& [name, parsed] : members) {  // a std::map: already sorted by name
    view.members.push_back(parsed.member);
    view.members.back().role = role_of(parsed, view);
  }
  return {std::move(view), {}};
}

}  // namespace hasup::patroni
