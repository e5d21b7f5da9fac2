#include "supervisor/cluster/records.hpp"

#include "supervisor/util/utc_time.hpp"

#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"

#include <chrono>
#include <utility>
#include <ctime>
#include <nlohmann/json.hpp>

namespace hasup::cluster {

using nlohmann::json;

std::string to_string(Role role) {
  switch (role) {
    case Role::starting: return "starting";
    case Role::follower: return "follower";
    case Role::leader: return "leader";
    case Role::maintenance: return "maintenance";
    case Role::cut_off: return "cut-off";
    case Role::stopping: return "stopping";
  }
  return "unknown";
}

std::optional<Role> role_from_string(const std::string& text) {
  for (Role r : {Role::starting, Role::follower, Role::leader, Role::maintenance, Role::cut_off, Role::stopping})
    if (to_string(r) == text) return r;
  return std::nullopt;
}

#ifndef HASUP_MEMBER_SCHEMA
#define HASUP_MEMBER_SCHEMA 1
#endif
int newest_member_schema() { return HASUP_MEMBER_SCHEMA; }

namespace {

// A schema number a record states (the newest its writer reads): a whole
// number from `lowest` up to a sane bound; false (the record refused whole)
// otherwise. Absent: `out` stays as it was.
bool schema_number(const json& o, const char* key, int lowest, int& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  constexpr long long kSchemaNumberLimit = 1000000;
  if (!it->is_number_integer() || it->get<long long>() < lowest || it->get<long long>() > kSchemaNumberLimit)
    return false;
  out = it->get<int>();
  return true;
}

// One layout today: schemas 1 and a test build's 2 differ only in their number.
// A schema that changes the layout writes the older one when asked for it.
json member_json(const MemberRecord& r) {
  json o;
  o["schema"] = r.schema;
  o["reads_schema"] = r.reads_schema;
  o["name"] = r.name;
  o["address"] = r.address;
  o["role"] = to_string(r.role);
  o["health"] = r.health;
  o["versions"] = r.versions;
  o["syncthing_device_id"] = r.syncthing_device_id;
  o["files_state"] = r.files_state;
  o["syncthing_peers"] = r.syncthing_peers;
  o["nginx_config"] = r.nginx_config;
  o["vrrp_state"] = r.vrrp_state;
  o["holds_vip"] = r.holds_vip;
  o["vip_settings"] = r.vip_settings;
  o["broker_state"] = r.broker_state;
  o["broker_members"] = r.broker_members;
  o["broker_cookie"] = r.broker_cookie;
  o["settings_index"] = r.settings_index;
  o["settings_pending"] = r.settings_pending;
  o["settings_error"] = r.settings_error;
  if (r.db_login_generation) o["db_login_generation"] = *r.db_login_generation;
  if (r.replication_login_generation) o["replication_login_generation"] = *r.replication_login_generation;
  if (r.patroni_keys_index) o["patroni_keys_index"] = *r.patroni_keys_index;
  if (r.patroni_keys_write_backs) o["patroni_keys_write_backs"] = *r.patroni_keys_write_backs;
  if (r.db_login_copy_revision) o["db_login_copy_revision"] = *r.db_login_copy_revision;
  if (r.replication_login_copy_revision) o["replication_login_copy_revision"] = *r.replication_login_copy_revision;
  if (r.writes_held) o["writes_held"] = *r.writes_held;
  if (r.data_full) o["data_full"] = *r.data_full;
  if (r.syncthing_key_generation) o["syncthing_key_generation"] = *r.syncthing_key_generation;
  if (!r.syncthing_key_error.empty()) o["syncthing_key_error"] = r.syncthing_key_error;
  o["since"] = r.since;
  o["leader_epoch"] = r.leader_epoch;
  return o;
}

}  // namespace

std::string encode(const MemberRecord& r) { return json_text(member_json(r)); }

// By the record's own encoding: a field added to it is compared here too.
std::vector<std::string> changed_fields(const MemberRecord& before, const MemberRecord& after) {
  const json a = member_json(before), b = member_json(after);
  std::vector<std::string> changed;
  for (const auto& [key, value] : b.items())
    if (!a.contains(key) || a.at(key) != value) changed.push_back(key);
  for (const auto& [key, value] : a.items())
    if (!b.contains(key)) changed.push_back(key);
  return changed;
}

MemberDecode decode_member(const std::string& text) {
  MemberDecode out;
  auto parsed = parse_object(text, out.error);
  if (!parsed || !schema_in(*parsed, kOldestMemberSchema, newest_member_schema(), out.error)) return out;
  const json& o = *parsed;
  MemberRecord r;
  r.schema = o.at("schema").get<int>();
  r.reads_schema = r.schema;
  if (!schema_number(o, "reads_schema", r.schema, r.reads_schema)) {
    out.error = "reads_schema is not a whole number from the record's schema up";
    return out;
  }
  std::string role;
  if (!get_string(o, "name", r.name, out.error) || !get_string(o, "address", r.address, out.error) ||
      !get_string(o, "role", role, out.error) || !get_string(o, "health", r.health, out.error) ||
      !get_string(o, "since", r.since, out.error) ||
      !get_string(o, "syncthing_device_id", r.syncthing_device_id, out.error, false) ||
      !get_string(o, "files_state", r.files_state, out.error, false) ||
      !get_string(o, "nginx_config", r.nginx_config, out.error, false) ||
      !get_string(o, "vrrp_state", r.vrrp_state, out.error, false) ||
      !get_string(o, "vip_settings", r.vip_settings, out.error, false) ||
      !get_string(o, "broker_state", r.broker_state, out.error, false) ||
      !get_string(o, "broker_cookie", r.broker_cookie, out.error, false) ||
      !get_string(o, "settings_error", r.settings_error, out.error, false) ||
      !get_string(o, "syncthing_key_error", r.syncthing_key_error, out.error, false) ||
      !get_string_list(o, "settings_pending", r.settings_pending, out.error) ||
      !get_string_list(o, "syncthing_peers", r.syncthing_peers, out.error) ||
      !get_string_list(o, "broker_members", r.broker_members, out.error))
    return out;
  if (r.name.empty()) {
    out.error = "empty name";
    return out;
  }
  auto parsed_role = role_from_string(role);
  if (!parsed_role) {
    out.error = "unknown role '" + role + "'";
    return out;
  }
  r.role = *parsed_role;
  if (auto it = o.find("versions"); it != o.end()) {
    if (!it->is_object()) {
      out.error = "versions is not an object";
      return out;
    }
    for (auto& [k, v] : it->items()) {
      if (!v.is_string()) {
        out.error = "version of " + k + " is not a string";
        return out;
      }
      r.versions[k] = v.get<std::string>();
    }
  }
  if (auto it = o.find("leader_epoch"); it != o.end()) {
    if (!it->is_number_unsigned()) {
      out.error = "leader_epoch is not an unsigned number";
      return out;
    }
    r.leader_epoch = it->get<std::uint64_t>();
  }
  if (auto it = o.find("settings_index"); it != o.end()) {
    if (!it->is_number_unsigned()) {
      out.error = "settings_index is not an unsigned number";
      return out;
    }
    r.settings_index = it->get<std::uint64_t>();
  }
  for (auto [key, field] : {std::pair{"db_login_generation", &r.db_login_generation},
                             std::pair{"replication_login_generation", &r.replication_login_generation},
                             std::pair{"patroni_keys_index", &r.patroni_keys_index},
                             std::pair{"patroni_keys_write_backs", &r.patroni_keys_write_backs},
                             std::pair{"db_login_copy_revision", &r.db_login_copy_revision},
                             std::pair{"replication_login_copy_revision", &r.replication_login_copy_revision},
                             std::pair{"syncthing_key_generation", &r.syncthing_key_generation}}) {
    auto it = o.find(key);
    if (it == o.end()) continue;
    if (!it->is_number_unsigned()) {
      out.error = std::string(key) + " is not an unsigned number";
      return out;
    }
    *field = it->get<std::uint64_t>();
  }
  if (auto it = o.find("holds_vip"); it != o.end()) {
    if (!it->is_boolean()) {
      out.error = "holds_vip is not a boolean";
      return out;
    }
    r.holds_vip = it->get<bool>();
  }
  if (auto it = o.find("writes_held"); it != o.end()) {
    if (!it->is_string()) {
      out.error = "writes_held is not a string";
      return out;
    }
    r.writes_held = it->get<std::string>();
  }
  if (auto it = o.find("data_full"); it != o.end()) {
    if (!it->is_boolean()) {
      out.error = "data_full is not a boolean";
      return out;
    }
    r.data_full = it->get<bool>();
  }
  out.record = std::move(r);
  return out;
}

std::string encode(const NodeRegistration& n) {
  json o{{"schema", 1}, {"name", n.name}, {"address", n.address}, {"reads_member_schema", n.reads_member_schema}};
  if (!n.syncthing_device_id.empty()) o["syncthing_device_id"] = n.syncthing_device_id;
  return json_text(o);
}

std::optional<NodeRegistration> decode_node(const std::string& text) {
  std::string error;
  auto parsed = parse_object(text, error);
  if (!parsed || !schema_ok(*parsed, 1, error)) return std::nullopt;
  NodeRegistration n;
  if (!get_string(*parsed, "name", n.name, error) || !get_string(*parsed, "address", n.address, error) ||
      !get_string(*parsed, "syncthing_device_id", n.syncthing_device_id, error, false))
    return std::nullopt;
  if (n.name.empty() || n.address.empty()) return std::nullopt;
  if (!schema_number(*parsed, "reads_member_schema", kOldestMemberSchema, n.reads_member_schema)) return std::nullopt;
  return n;
}

std::string encode(const ForgottenNode& f) { return json_text(json{{"schema", 1}, {"name", f.name}, {"at", f.at}}); }

std::optional<ForgottenNode> decode_forgotten(const std::string& text) {
  std::string error;
  auto parsed = parse_object(text, error);
  if (!parsed || !schema_ok(*parsed, 1, error)) return std::nullopt;
  ForgottenNode f;
  if (!get_string(*parsed, "name", f.name, error) || !get_string(*parsed, "at", f.at, error, false))
    return std::nullopt;
  if (f.name.empty()) return std::nullopt;
  return f;
}

std::string encode(const LeaderValue& v) { return json_text(json{{"name", v.name}, {"address", v.address}}); }

std::optional<LeaderValue> decode_leader_value(const std::string& text) {
  std::string error;
  auto parsed = parse_object(text, error);
  if (!parsed) return std::nullopt;
  LeaderValue v;
  if (!get_string(*parsed, "name", v.name, error) || !get_string(*parsed, "address", v.address, error, false))
    return std::nullopt;
  return v;
}

std::string encode(const MaintenanceIntent& i) {
  return json_text(json{{"enabled", i.enabled}, {"requested_by", i.requested_by}, {"at", i.at}});
}

std::optional<MaintenanceIntent> decode_maintenance(const std::string& text) {
  std::string error;
  auto parsed = parse_object(text, error);
  if (!parsed) return std::nullopt;
  auto it = parsed->find("enabled");
  if (it == parsed->end() || !it->is_boolean()) return std::nullopt;
  MaintenanceIntent i;
  i.enabled = it->get<bool>();
  get_string(*parsed, "requested_by", i.requested_by, error, false);
  get_string(*parsed, "at", i.at, error, false);
  return i;
}

std::string encode(const ClusterState& s) {
  json o;
  o["schema"] = kClusterStateSchema;
  o["leader"] = s.leader;
  o["epoch"] = s.epoch;
  o["members"] = s.members;
  o["changed_at"] = s.changed_at;
  return json_text(o);
}

ClusterStateDecode decode_cluster_state(const std::string& text) {
  ClusterStateDecode out;
  auto parsed = parse_object(text, out.error);
  if (!parsed || !schema_ok(*parsed, kClusterStateSchema, out.error)) return out;
  ClusterState s;
  if (!get_string(*parsed, "leader", s.leader, out.error) ||
      !get_string(*parsed, "changed_at", s.changed_at, out.error))
    return out;
  auto epoch = parsed->find("epoch");
  auto members = parsed->find("members");
  if (epoch == parsed->end() || !epoch->is_number_unsigned()) {
    out.error = "epoch missing or not an unsigned number";
    return out;
  }
  if (members == parsed->end() || !members->is_array()) {
    out.error = "members missing or not an array";
    return out;
  }
  s.epoch = epoch->get<std::uint64_t>();
  for (auto& m : *members) {
    if (!m.is_string()) {
      out.error = "members holds a non-string";
      return out;
    }
    s.members.push_back(m.get<std::string>());
  }
  out.state = std::move(s);
  return out;
}

std::string utc_now_iso8601() { return utc_iso8601(std::chrono::system_clock::now(), false); }

}  // namespace hasup::cluster
