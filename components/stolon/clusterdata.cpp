#include "components/stolon/clusterdata.hpp"

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

namespace hasup::stolon {

namespace {

using nlohmann::json;

constexpr std::uint64_t kFormatVersion = 1;  // stolon's CurrentCDFormatVersion
// 3 keepers make about 10 KiB; Consul refuses values over 512 KiB.
constexpr std::size_t kMaxClusterDataBytes = 1024 * 1024;
// An LSN is unsigned 64 bit, but no cluster writes 8 EiB of WAL: beyond
// int64 it is garbage, and staying within it keeps lag arithmetic safe.
constexpr std::uint64_t kMaxWalPosition = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t kMaxGeneration = std::numeric_limits<std::int64_t>::max();  // Go's int64



// object[name], or nullptr when absent or null (Go writes nil slices and
// pointers as null).
const json* field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string shown(const json* value) { return value ? quoted_printable(value->dump()) : std::string("(missing)"); }

// A JSON integer in 0..max; negative, fractional, too big or not a number -> none.
std::optional<std::uint64_t> unsigned_up_to(const json& value, std::uint64_t max) {
  if (!value.is_number_unsigned()) return std::nullopt;
  const auto number = value.get<std::uint64_t>();
  if (number > max) return std::nullopt;
  return number;
}

// One entry of "dbs", as far as the view needs it.
struct Db {
  std::string keeper;
  std::string spec_role;  // "master", "standby", or "" before the sentinel set one
  db::DbMember member;    // name, host, port, wal_position, timeline; role and health come later
  bool healthy = false;
  bool converged = false;  // the keeper applied the db's newest generation
  std::vector<std::string> spec_sync;
  std::vector<std::string> status_sync;
};

using DbResult = Result<Db, std::string>;

// A list of db UIDs, or null. false when it is something else.
bool read_uids(const json& object, const char* name, std::vector<std::string>& uids) {
  const json* list = field(object, name);
  if (!list) return true;
  if (!list->is_array()) return false;
  for (const auto& uid : *list) {
    if (!uid.is_string() || !is_plain_name(uid.get_ref<const std::string&>())) return false;
    uids.push_back(uid.get<std::string>());
  }
  return true;
}

// status.listenAddress and status.port ("5432": a string in stolon), when reported.
std::optional<std::string> read_endpoint(const json& status, db::DbMember& m) {
  if (const json* address = field(status, "listenAddress")) {
    if (!address->is_string() || !host_problem(address->get_ref<const std::string&>()).empty())
      return "status.listenAddress " + shown(address) + " is not an IP address or host name";
    m.host = address->get<std::string>();
  }
  if (const json* port = field(status, "port")) {
    const auto number = port->is_string() ? port_number(port->get_ref<const std::string&>()) : std::nullopt;
    if (!number) return "status.port " + shown(port) + " is not a string \"1\"..\"65535\"";
    m.port = *number;
  }
  return std::nullopt;
}

// object[name] in 0..kMaxGeneration; absent is 0 (omitempty).
Result<std::uint64_t, std::string> generation(const json& object, const char* name, const std::string& label) {
  const json* value = field(object, name);
  if (!value) return std::uint64_t{0};
  const auto number = unsigned_up_to(*value, kMaxGeneration);
  if (!number) return label + " " + shown(value) + " is not a generation number";
  return *number;
}

DbResult parse_db(const std::string& uid, const json& entry) {
  if (!entry.is_object()) return std::string("not a JSON object");
  const json* uid_field = field(entry, "uid");
  if (uid_field && *uid_field != uid) return "uid " + shown(uid_field) + " differs from its key";
  const json* spec = field(entry, "spec");
  if (!spec || !spec->is_object()) return std::string("spec is missing or not an object");
  static const json kNoStatus = json::object();  // a db the keeper has not reported on yet
  const json* status = field(entry, "status");
  if (!status) status = &kNoStatus;
  if (!status->is_object()) return std::string("status is not an object");

  Db db;
  const json* keeper = field(*spec, "keeperUID");
  if (!keeper || !keeper->is_string() || !is_plain_name(keeper->get_ref<const std::string&>()))
    return "spec.keeperUID " + shown(keeper) + " is not [A-Za-z0-9._-]{1,128}";
  db.keeper = keeper->get<std::string>();
  db.member.name = db.keeper;
  if (const json* role = field(*spec, "role")) {
    if (!role->is_string()) return "spec.role " + shown(role) + " is not a string";
    db.spec_role = role->get<std::string>();
  }
  if (const json* healthy = field(*status, "healthy")) {
    if (!healthy->is_boolean()) return "status.healthy " + shown(healthy) + " is not true or false";
    db.healthy = healthy->get<bool>();
  }
  const auto wanted = generation(entry, "generation", "generation");
  if (!wanted) return wanted.error();
  const auto applied = generation(*status, "currentGeneration", "status.currentGeneration");
  if (!applied) return applied.error();
  db.converged = wanted.value() == applied.value();
  if (auto why = read_endpoint(*status, db.member)) return *why;
  if (const json* position = field(*status, "xLogPos")) {
    db.member.wal_position = unsigned_up_to(*position, kMaxWalPosition);
    if (!db.member.wal_position) return "status.xLogPos " + shown(position) + " is not a WAL position";
  }
  if (const json* timeline = field(*status, "timelineID")) {
    const auto number = unsigned_up_to(*timeline, std::numeric_limits<std::uint32_t>::max());
    if (!number || *number == 0) return "status.timelineID " + shown(timeline) + " is not 1..4294967295";
    db.member.timeline = static_cast<std::uint32_t>(*number);
  }
  if (!read_uids(*spec, "synchronousStandbys", db.spec_sync))
    return "spec.synchronousStandbys " + shown(field(*spec, "synchronousStandbys")) + " is not a list of db UIDs";
  if (!read_uids(*status, "synchronousStandbys", db.status_sync))
    return "status.synchronousStandbys " + shown(field(*status, "synchronousStandbys")) + " is not a list of db UIDs";
  return db;
}

// keepers[uid].status.healthy; absent means false (omitempty).
Result<bool, std::string> keeper_healthy(const std::string& uid, const json& entry) {
  if (!entry.is_object()) return std::string("not a JSON object");
  const json* uid_field = field(entry, "uid");
  if (uid_field && *uid_field != uid) return "uid " + shown(uid_field) + " differs from its key";
  const json* status = field(entry, "status");
  if (!status) return false;
  if (!status->is_object()) return std::string("status is not an object");
  const json* healthy = field(*status, "healthy");
  if (!healthy) return false;
  if (!healthy->is_boolean()) return "status.healthy " + shown(healthy) + " is not true or false";
  return healthy->get<bool>();
}

// The object at `name`, or an empty one when absent or null; nullptr when of another type.
const json* object_or_empty(const json& parent, const char* name) {
  static const json kEmpty = json::object();
  const json* value = field(parent, name);
  if (!value) return &kEmpty;
  return value->is_object() ? value : nullptr;
}

// parent.outer.inner as a string, "" when absent; nullopt when not a string.
std::optional<std::string> nested_string(const json& parent, const char* outer, const char* inner) {
  const json* object = object_or_empty(parent, outer);
  if (!object) return std::nullopt;
  const json* value = field(*object, inner);
  if (!value) return std::string();
  return value->is_string() ? std::optional(value->get<std::string>()) : std::nullopt;
}

std::string state_of(const Db& db, bool keeper_is_healthy) {
  if (!keeper_is_healthy) return "keeper unhealthy";
  if (!db.healthy) return "unhealthy";
  return db.converged ? "healthy" : "converging";
}

db::DbClusterParse error(std::string why) { return {std::nullopt, std::move(why)}; }

}  // namespace

db::DbClusterParse parse_stolon_clusterdata(const std::string& json_text) {
  if (json_text.size() > kMaxClusterDataBytes)
    return error("clusterdata of " + std::to_string(json_text.size()) + " bytes is over " +
                 std::to_string(kMaxClusterDataBytes));
  json data;
  try {
    data = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return error("clusterdata is not JSON (syntax error at byte " + std::to_string(e.byte) + ")");
  } catch (const json::out_of_range&) {
    // A number beyond a double (3e999) is nlohmann's out_of_range, not a
    // parse_error: uncaught, it ended the supervisor (tests/fuzz/database_state.cpp).
    return error("clusterdata is not JSON (a number out of range)");
  }
  if (!data.is_object()) return error("clusterdata is not a JSON object");
  const json* version = field(data, "formatVersion");
  if (!version || *version != kFormatVersion)
    return error("clusterdata formatVersion " + shown(version) + " is not 1, the one stolon 0.17 writes");
  const json* cluster = field(data, "cluster");
  if (!cluster || !cluster->is_object()) return error("clusterdata has no cluster object");
  const auto master_uid = nested_string(*cluster, "status", "master");
  if (!master_uid) return error("cluster.status.master is not a string");
  const json* proxy = object_or_empty(data, "proxy");
  if (!proxy) return error("clusterdata's proxy is not an object");
  const auto proxy_master_uid = nested_string(*proxy, "spec", "masterDbUid");
  if (!proxy_master_uid) return error("proxy.spec.masterDbUid is not a string");
  const json* keepers = object_or_empty(data, "keepers");
  const json* dbs = object_or_empty(data, "dbs");
  if (!keepers || !dbs) return error("clusterdata's keepers or dbs is not an object");

  db::DbClusterView view;
  view.backend = "stolon";
  view.initialized = true;
  std::map<std::string, bool> keeper_health;
  for (const auto& [uid, entry] : keepers->items()) {
    auto healthy = is_plain_name(uid) ? keeper_healthy(uid, entry)
                                   : Result<bool, std::string>(std::string("the UID is not [A-Za-z0-9._-]{1,128}"));
    if (!healthy) view.problems.push_back("keeper " + quoted_printable(uid) + ": " + healthy.error());
    else keeper_health[uid] = healthy.value();
  }

  std::map<std::string, Db> db_by_keeper;
  std::map<std::string, std::string> uid_by_keeper;
  std::set<std::string> keepers_of_refused_dbs;  // left out with their db, not shown as "no db"
  for (const auto& [uid, entry] : dbs->items()) {
    auto parsed = is_plain_name(uid) ? parse_db(uid, entry) : DbResult(std::string("the UID is not [A-Za-z0-9._-]{1,128}"));
    if (!parsed) {
      view.problems.push_back("db " + quoted_printable(uid) + ": " + parsed.error());
      const json* spec = entry.is_object() ? field(entry, "spec") : nullptr;
      const json* keeper = spec && spec->is_object() ? field(*spec, "keeperUID") : nullptr;
      if (keeper && keeper->is_string()) keepers_of_refused_dbs.insert(keeper->get<std::string>());
      continue;
    }
    Db& db = parsed.value();
    // One db per keeper in stolon; if two claim one, the master's wins, else the first UID.
    const auto known = uid_by_keeper.find(db.keeper);
    if (known != uid_by_keeper.end() && uid != *master_uid) {
      view.problems.push_back("db " + quoted_printable(uid) + ": keeper " + quoted_printable(db.keeper) + " already has db " +
                              quoted_printable(known->second) + "; left out");
      continue;
    }
    if (known != uid_by_keeper.end())
      view.problems.push_back("db " + quoted_printable(known->second) + ": keeper " + quoted_printable(db.keeper) +
                              " also has the master db; left out");
    uid_by_keeper[db.keeper] = uid;
    db_by_keeper[db.keeper] = std::move(db);
  }

  const Db* master = nullptr;
  for (const auto& [keeper, uid] : uid_by_keeper)
    if (!master_uid->empty() && uid == *master_uid) master = &db_by_keeper.at(keeper);
  if (!master && !master_uid->empty() && !dbs->contains(*master_uid))
    view.problems.push_back("cluster.status.master " + quoted_printable(*master_uid) + " names no db");
  if (master && *proxy_master_uid == *master_uid) view.primary = master->keeper;
  view.switching = view.primary.empty();

  if (!view.primary.empty()) {
    std::set<std::string> in_sync(master->status_sync.begin(), master->status_sync.end());
    for (const auto& uid : master->spec_sync)
      for (const auto& [keeper, keeper_db_uid] : uid_by_keeper)
        if (keeper_db_uid == uid && in_sync.contains(uid) && keeper != view.primary) view.sync_standbys.push_back(keeper);
    std::sort(view.sync_standbys.begin(), view.sync_standbys.end());
    view.sync_standbys.erase(std::unique(view.sync_standbys.begin(), view.sync_standbys.end()), view.sync_standbys.end());
    view.primary_wal_position = master->member.wal_position;
    view.primary_timeline = master->member.timeline;
  }

  for (const auto& [keeper, db] : db_by_keeper) {
    db::DbMember m = db.member;
    const bool keeper_is_healthy = keeper_health.contains(keeper) && keeper_health.at(keeper);
    m.healthy = db.healthy && keeper_is_healthy;
    m.state = state_of(db, keeper_is_healthy);
    if (keeper == view.primary) m.role = db::DbRole::primary;
    else if (std::binary_search(view.sync_standbys.begin(), view.sync_standbys.end(), keeper)) m.role = db::DbRole::sync_standby;
    else if (db.spec_role == "standby") m.role = db::DbRole::replica;
    view.members.push_back(std::move(m));
  }
  for (const auto& entry : keeper_health) {
    if (db_by_keeper.contains(entry.first) || keepers_of_refused_dbs.contains(entry.first)) continue;
    db::DbMember keeper_only;
    keeper_only.name = entry.first;
    keeper_only.state = "no db";
    view.members.push_back(std::move(keeper_only));
  }
  std::sort(view.members.begin(), view.members.end(),
            [](const db::DbMember& a, const db::DbMember& b) { return a.name < b.name; });
  return {std::move(view), {}};
}

}  // namespace hasup::stolon
