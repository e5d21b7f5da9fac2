#include "supervisor/api/status_json.hpp"

#include <algorithm>
#include <cmath>

#include "components/nginx/decide.hpp"
#include "components/rabbitmq/decide.hpp"
#include "components/syncthing/decide.hpp"
#include "supervisor/cluster/member_schema.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/loop/components.hpp"
#include "supervisor/util/json_text.hpp"

namespace hasup::api {

using nlohmann::json;
using cluster::Role;

namespace {

std::string bytes_text(std::uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char out[32];
  std::snprintf(out, sizeof out, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return out;
}

json optional_number(const auto& value) { return value ? json(*value) : json(nullptr); }

// What this node has switched on against strangers and unprivileged users, as
// it can see it: Consul's own settings (/v1/agent/self; null: it did not say),
// the VRRP filter as loaded, Patroni's REST password as written.
json protections_document(const loop::Snapshot& s) {
  const auto& p = s.consul.agent_protections;
  json out{{"consul_gossip_encryption", optional_number(p.gossip_encrypted)},
           {"consul_rpc_tls", optional_number(p.rpc_tls)},
           {"consul_acls_default_deny", optional_number(p.acls_deny)},
           {"consul_api_https_only", optional_number(p.api_https_only)},
           {"api_writes", "token (root only)"}};
  if (s.vip.enabled)
    out["vrrp_filter"] = !s.vip.filter_enabled             ? "off (vip.vrrp_filter)"
                         : !s.vip.filter_applied.empty()   ? "loaded"
                         : !s.vip.filter_error.empty()     ? "not loaded: " + s.vip.filter_error
                                                           : "not loaded yet";
  // Loaded, not current: the table of an older set of nodes is still better than none.
  out["members_only_ports"] = !s.members_only.enabled        ? "off (members_only.enabled)"
                              : !s.members_only.applied.empty() ? "loaded"
                              : !s.members_only.error.empty()   ? "not loaded: " + s.members_only.error
                                                                : "not loaded yet";
  if (s.db.enabled && s.db.backend == "patroni" && s.db.patroni.current_conf)
    out["patroni_rest_auth"] = s.db.patroni.current_conf->find("\n  authentication:\n") != std::string::npos;
  return out;
}

}  // namespace

std::string db_member_summary(const db::DbClusterView& view, const std::string& name) {
  const db::DbMember* m = view.member(name);
  if (!m) return view.initialized ? "absent" : "";
  std::string out = m->healthy ? db::to_string(m->role) : m->state.empty() ? "unhealthy" : m->state;
  if (m->timeline) out += " TL" + std::to_string(*m->timeline);
  if (m->role != db::DbRole::primary && !view.primary.empty()) {
    // A replica left on an old timeline reports lag 0 while it replicates
    // nothing (a failed pg_rewind): say the timeline, not the lag.
    if (m->timeline && view.primary_timeline && *m->timeline != *view.primary_timeline)
      out += " (primary on TL" + std::to_string(*view.primary_timeline) + ")";
    else if (auto lag = view.replication_lag_bytes(name))
      out += " lag " + bytes_text(*lag);
  }
  return out;
}

// The appliance's one durability rule (cluster.durability), what the
// database runs by as its keys say, and whether this node writes with one
// copy (or refuses to) at this moment.
json durability_document(const loop::Snapshot& s) {
  const bool strict = config::strict_durability(s.durability);
  json d{{"rule", s.durability},
         {"meaning", strict ? "a write needs a second copy: a node alone refuses writes (commits wait, uploads get 503)"
                            : "a node alone acknowledges writes and uploads with one copy, and says so; the other "
                              "copy catches up when a peer is back"}};
  json now = json::array();
  if (s.db.enabled && s.db.backend == "patroni") {
    const auto& in_force = s.db.cluster.strict_in_force;
    d["database"] = !in_force   ? "not read yet"
                    : *in_force ? "commits wait for a standby (Patroni's synchronous_mode_strict)"
                                : "commits go on with one copy when no standby is left";
    if (in_force && *in_force != s.db.patroni.model.synchronous_mode_strict)
      d["database_differs"] = "Patroni runs by the other rule: the supervisors' leader sets it";
    if (s.db.cluster.initialized && s.db.cluster.primary == s.self && s.db.cluster.sync_standbys.empty())
      now.push_back(strict ? "commits on this primary wait: no synchronous standby"
                           : "new commits on this primary have one copy: no synchronous standby");
  }
  if (s.files.enabled) {
    if (!s.gate_durability.empty())
      d["uploads"] = s.gate_durability + " (the upload gate's replication.durability)";
    else
      d["uploads"] = "the upload gate's rule is not known: " + s.gate_durability_error;
    if (!s.gate_durability.empty() && s.gate_durability != s.durability)
      d["uploads_differ"] = "the upload gate runs by \"" + s.gate_durability + "\", not \"" + s.durability +
                            "\": set its replication.durability to \"" + s.durability + "\" and restart it";
  }
  if (s.files.enabled && s.files.api_known && !s.files.peers.empty() &&
      std::none_of(s.files.peers.begin(), s.files.peers.end(), [](const auto& p) { return p.second.connected; }))
    now.push_back(strict ? "uploads to this node are refused: no peer connected"
                         : "uploads to this node are acknowledged with one copy: no peer connected");
  d["now"] = now;
  return d;
}

bool is_healthy(const loop::Plan& plan) {
  return plan.role == Role::leader || plan.role == Role::follower || plan.role == Role::maintenance;
}

json health_document(const loop::Snapshot& s, const loop::Plan& plan) {
  json doc;
  doc["name"] = s.self;
  doc["role"] = cluster::to_string(plan.role);
  doc["healthy"] = is_healthy(plan);
  doc["reason"] = plan.reason;
  doc["quorum_reachable"] = s.consul.quorum_reachable;
  return doc;
}

json cluster_document(const loop::Snapshot& s, const loop::Plan& plan) {
  json doc;
  json self;
  self["name"] = s.self;
  self["address"] = s.self_address;
  self["role"] = cluster::to_string(plan.role);
  self["reason"] = plan.reason;
  self["session"] = s.session.valid ? s.session.id.substr(0, 8) : "";
  self["quorum"] = {{"reachable", s.consul.quorum_reachable},
                    {"since_contact_ms", s.consul.since_quorum_contact.count()},
                    {"bound_ms", s.consul.quorum_loss_timeout.count()}};
  self["consul_error"] = s.consul.last_error;
  self["busy"] = loop::to_string(s.busy);
  // The local units as systemd last reported them: a restart done by systemd
  // (NRestarts) shows here.
  json units = json::object();
  for (const auto& [name, u] : s.units)
    units[name] = {{"active", u.active_state}, {"sub", u.sub_state}, {"n_restarts", u.n_restarts},
                   {"main_pid", u.main_pid}};
  self["units"] = units;
  self["systemd_connected"] = s.units_connected;
  // Each component's section, named as in the component list.
  for (const auto& component : loop::components())
    if (component.enabled(s)) self[component.name] = component.status(s);
  self["consul_node"] = s.consul.agent_node;
  // This node's checks on which Consul's catalog and the local agent
  // disagree (catalog_sync.hpp acts on a lasting one).
  json drift = json::array();
  for (const auto& d : s.consul.catalog_drift)
    drift.push_back({{"check", d.check}, {"agent", d.agent}, {"catalog", d.catalog}, {"for_ms", d.lasted.count()}});
  self["catalog_drift"] = drift;
  self["protections"] = protections_document(s);
  self["known_nodes"] = {{"kept", s.known.kept}, {"memory_error", s.known.memory_error}};
  doc["self"] = self;
  // A cut-off node shows its last view, marked as such.
  doc["stale"] = !s.consul.quorum_reachable;
  if (s.kv.leader)
    doc["leader"] = {{"name", s.kv.leader->name}, {"epoch", s.kv.leader->epoch}};
  else
    doc["leader"] = nullptr;
  json members = json::array();
  for (const auto& [name, m] : s.kv.members) {
    // This node's own row shows what it knows now, not what it last managed to
    // publish: a cut-off node cannot publish that it is cut off.
    bool self_row = name == s.self;
    std::string role = self_row ? cluster::to_string(plan.role) : cluster::to_string(m.role);
    std::string health = self_row && plan.role == Role::cut_off ? "no Consul quorum" : m.health;
    members.push_back({{"name", m.name},
                       {"address", m.address},
                       {"role", role},
                       {"health", health},
                       {"since", m.since},
                       {"leader_epoch", m.leader_epoch},
                       {"versions", m.versions},
                       {"record_schema", {{"written", m.schema}, {"reads", m.reads_schema}}},
                       {"syncthing_device_id", m.syncthing_device_id},
                       {"files", self_row ? loop::files_summary(s.files) : m.files_state},
                       {"nginx", self_row ? loop::nginx_served_summary(s.nginx) : m.nginx_config},
                       {"vrrp_state", self_row && s.vip.enabled && !s.vip.vrrp_state.empty() ? s.vip.vrrp_state : m.vrrp_state},
                       {"holds_vip", self_row && s.vip.enabled ? s.vip.holds_address : m.holds_vip},
                       {"broker", self_row ? loop::broker_summary(s) : m.broker_state},
                       {"maintenance", s.kv.maintenance.count(name) > 0},
                       {"settings", self_row ? json{{"applied_index", s.settings.applied_index},
                                                    {"pending", s.settings.pending},
                                                    {"error", s.settings.error}}
                                             : json{{"applied_index", m.settings_index},
                                                    {"pending", m.settings_pending},
                                                    {"error", m.settings_error}}}});
  }
  if (auto note = cluster::member_schema_note(s.kv); !note.empty()) doc["member_schema_note"] = note;
  // The cluster's nodes without a live member record: down (crashed, cut off,
  // stopped) but still part of the cluster until an operator forgets them.
  for (const auto& [name, node] : s.known.nodes) {
    if (s.kv.members.count(name)) continue;
    const std::string health = s.known.kept.count(name)
                                   ? "not alive; kept: missing from Consul, never forgotten"
                                   : "not alive";
    members.push_back({{"name", name}, {"address", node.address}, {"role", "down"}, {"health", health},
                       {"since", ""}, {"leader_epoch", 0}, {"versions", json::object()},
                       {"syncthing_device_id", ""}, {"files", ""}, {"nginx", ""}, {"vrrp_state", ""}, {"holds_vip", false},
                       {"broker", ""}, {"maintenance", s.kv.maintenance.count(name) > 0}});
  }
  if (s.db.enabled) {
    for (auto& m : members) {
      const auto name = m["name"].get<std::string>();
      std::string summary = db_member_summary(s.db.cluster, name);
      if (auto record = s.kv.members.find(name); record != s.kv.members.end() && record->second.data_full.value_or(false))
        summary += (summary.empty() ? "" : ", ") + std::string("data filesystem FULL");
      m["db"] = summary;
    }
    const auto& v = s.db.cluster;
    json db_members = json::array();
    for (const auto& m : v.members)
      db_members.push_back({{"name", m.name}, {"role", db::to_string(m.role)}, {"state", m.state},
                            {"healthy", m.healthy}, {"host", m.host}, {"port", m.port},
                            {"timeline", optional_number(m.timeline)}, {"wal_position", optional_number(m.wal_position)},
                            {"summary", db_member_summary(v, m.name)}});
    doc["database"] = {{"backend", s.db.backend}, {"known", s.db.cluster_known}, {"initialized", v.initialized},
                       {"primary", v.primary}, {"switching", v.switching},
                       {"primary_timeline", optional_number(v.primary_timeline)},
                       {"primary_wal_position", optional_number(v.primary_wal_position)},
                       {"sync_standbys", v.sync_standbys}, {"members", db_members},
                       {"problems", v.problems}, {"error", s.db.cluster_error}};
  }
  doc["members"] = members;
  doc["durability"] = durability_document(s);
  json unreadable = json::array();
  for (const auto& u : s.kv.unreadable) unreadable.push_back({{"key", u.key}, {"error", u.error}});
  doc["unreadable"] = unreadable;
  doc["maintenance"] = s.kv.maintenance;
  if (s.kv.cluster_state)
    doc["cluster_state"] = {{"leader", s.kv.cluster_state->leader},
                            {"epoch", s.kv.cluster_state->epoch},
                            {"members", s.kv.cluster_state->members},
                            {"changed_at", s.kv.cluster_state->changed_at}};
  else
    doc["cluster_state"] = nullptr;
  return doc;
}

std::string document_text(const nlohmann::json& document) { return json_text(document) + "\n"; }

}  // namespace hasup::api
