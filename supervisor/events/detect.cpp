#include "supervisor/events/detect.hpp"

#include "components/nginx/decide.hpp"
#include "components/switchover/record.hpp"
#include "components/syncthing/decide.hpp"
#include "supervisor/loop/decide.hpp"

namespace hasup::events {

using cluster::Role;

EventFacts facts_of(const loop::Snapshot& s, const loop::Plan& plan, const EventFacts* previous,
                    std::chrono::steady_clock::time_point now) {
  EventFacts f;
  f.at = now;
  f.self = s.self;
  f.role = plan.role;
  if (plan.role == Role::leader && s.kv.leader) f.epoch = s.kv.leader->epoch;
  const auto record = loop::desired_member_record(s, plan.role);
  f.health = record.health;
  f.vrrp_state = record.vrrp_state;
  f.nginx_config = record.nginx_config;
  f.files_state = record.files_state;
  f.files_trouble = loop::files_trouble(s.files);
  f.syncthing_key_generation = s.files.key_generation;
  f.broker_state = record.broker_state;
  if (s.db.enabled && s.db.cluster_known) {
    f.db_known = true;
    f.db_primary = s.db.cluster.primary;
    f.db_timeline = s.db.cluster.primary_timeline;
  }
  f.db_ever_primary = (previous && previous->db_ever_primary) || !f.db_primary.empty();
  if (s.db.enabled && s.db.endpoint) {
    f.db_writable = s.db.endpoint->writable;
    f.db_write_error = s.db.endpoint->error;
    f.db_write_server = s.db.endpoint->server;
  }
  const bool same = previous && previous->role == f.role && previous->health == f.health &&
                    previous->db_writable == f.db_writable;
  f.settled_since = same ? previous->settled_since : now;
  if (s.consul.gossip_known)
    for (const auto& [name, node] : s.known.nodes) {
      auto it = s.consul.gossip.find(node.address);
      if (name != s.self && it != s.consul.gossip.end() && it->second == "failed") f.gossip_failed.insert(name);
    }
  // The members as the leader last published them (cluster/state): a new
  // leader's first publication drops the node whose crash made it leader,
  // so the change is seen while it leads. Read on every node, said by the leader.
  if (s.kv.known) {
    if (s.kv.cluster_state) f.members.insert(s.kv.cluster_state->members.begin(), s.kv.cluster_state->members.end());
    for (const auto& name : s.kv.maintenance) {
      auto by = s.kv.maintenance_requested_by.find(name);
      f.maintenance[name] = by == s.kv.maintenance_requested_by.end() ? "" : by->second;
    }
  } else if (previous) {
    f.members = previous->members;
    f.maintenance = previous->maintenance;
  }
  if (s.kv.known && s.kv.switchover) {
    if (auto decoded = switchover::decode_switchover(s.kv.switchover->text); decoded.record) {
      const auto& r = *decoded.record;
      f.switchover = EventFacts::Switchover{r.id, r.from, r.to, r.requested_by, switchover::to_string(r.phase), r.outcome};
    }
  } else if (!s.kv.known && previous) {
    f.switchover = previous->switchover;
  }
  if (!s.nginx.rejected_error.empty()) f.errors["nginx"] = "nginx -t refused the new config: " + s.nginx.rejected_error;
  else if (!s.nginx.last_error.empty()) f.errors["nginx"] = s.nginx.last_error;
  if (!s.db.template_error.empty()) f.errors["database"] = s.db.template_error;
  else if (!s.db.last_error.empty()) f.errors["database"] = s.db.last_error;
  if (!s.files.last_error.empty()) f.errors["files"] = s.files.last_error;
  else if (!s.files.key_error.empty()) f.errors["files"] = "syncthing's API key: " + s.files.key_error;
  if (!s.vip.template_error.empty()) f.errors["floating-ip"] = s.vip.template_error;
  else if (!s.vip.filter_error.empty()) f.errors["floating-ip"] = "VRRP filter: " + s.vip.filter_error;
  if (!s.members_only.error.empty()) f.errors["members-only"] = s.members_only.error;
  if (!s.dead_peers.error.empty()) f.errors["dead-peers"] = s.dead_peers.error;
  if (!s.broker.join_error.empty()) f.errors["broker"] = "join: " + s.broker.join_error;
  else if (!s.broker.forget_error.empty()) f.errors["broker"] = "forget: " + s.broker.forget_error;
  else if (!s.broker.last_error.empty()) f.errors["broker"] = s.broker.last_error;
  return f;
}

namespace {

std::string timeline_words(const std::optional<std::uint32_t>& tl) {
  return tl ? " (timeline " + std::to_string(*tl) + ")" : "";
}

// This node had been in its previous state long enough for a change of it to
// be a failure rather than its start.
bool settled(const EventFacts& b, const EventFacts& a) {
  return b.role != Role::starting && a.at - b.settled_since >= kSettledAfter;
}

void role_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (b.role == a.role) return;
  std::string text = "role " + cluster::to_string(b.role) + " -> " + cluster::to_string(a.role);
  if (a.role == Role::leader) text += " (epoch " + std::to_string(a.epoch) + ")";
  // A node that loses Consul, a leader that changes after start, a leader
  // that steps down: each is a failure somewhere. Joining at start is not.
  bool opens = settled(b, a) && (a.role == Role::cut_off || (b.role == Role::follower && a.role == Role::leader) ||
                                 (b.role == Role::leader && a.role != Role::stopping && a.role != Role::maintenance));
  out.push_back({"supervisor", "role", text, "", opens});
}

void health_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (b.health == a.health) return;
  if (a.health == "ok")
    out.push_back({"supervisor", "health", "healthy again (was: " + b.health + ")", "", false});
  else
    out.push_back({"supervisor", "health", "unhealthy: " + a.health, "", settled(b, a)});
}

void vip_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (b.vrrp_state == a.vrrp_state || a.vrrp_state.empty()) return;
  std::string text;
  if (a.vrrp_state == "MASTER")
    text = "holds the floating IP (keepalived MASTER)";
  else if (b.vrrp_state == "MASTER")
    text = "gave up the floating IP (keepalived " + a.vrrp_state + ")";
  else
    text = "keepalived " + (b.vrrp_state.empty() ? std::string("started") : b.vrrp_state) + " -> " + a.vrrp_state;
  // VRRP is the fastest to act on a crash (a backup takes the address within
  // a second): taking it over from BACKUP or FAULT is the first sign, as FAULT is.
  bool takeover = a.vrrp_state == "MASTER" && (b.vrrp_state == "BACKUP" || b.vrrp_state == "FAULT");
  out.push_back({"floating-ip", "vrrp", text, "", (takeover || a.vrrp_state == "FAULT") && settled(b, a)});
}

void database_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (!a.db_known || !b.db_known || b.db_primary == a.db_primary) return;
  if (a.db_primary == a.self) {
    std::string was = b.db_primary.empty() ? "" : ", was " + b.db_primary;
    out.push_back({"database", "primary", "this node's database is primary now" + timeline_words(a.db_timeline) + was,
                   "", b.db_ever_primary});
  } else if (b.db_primary == a.self) {
    out.push_back({"database", "primary", "this node's database is no longer primary" +
                                              (a.db_primary.empty() ? "" : " (" + a.db_primary + " is)"),
                   "", false});
  }
  if (a.role == Role::leader && a.db_primary.empty())
    out.push_back({"database", "primary", "the database has no primary (was " + b.db_primary +
                                              "): its HA layer is choosing one", "", true});
}

// The write probe through this node's endpoint: where clients' writes go.
// Its failing is the first sign of most failovers; its return is the first
// write acknowledged after one.
void writable_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (!a.db_writable || b.db_writable == a.db_writable) return;
  if (*a.db_writable)
    out.push_back({"database", "writable", "writes succeed again through this node's endpoint (" + a.db_write_server + ")",
                   "", false});
  else if (b.db_writable.has_value())  // not at start: the first probe failing is no change
    out.push_back({"database", "writable", "writes fail through this node's endpoint: " + a.db_write_error, "",
                   settled(b, a)});
}

// The local agent's gossip: the first a node knows of a peer's crash.
void gossip_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  for (const auto& name : a.gossip_failed)
    if (!b.gossip_failed.count(name))
      out.push_back({"cluster", "gossip", name + " failed, says Consul's gossip (serf) on this node", "", true});
  for (const auto& name : b.gossip_failed)
    if (!a.gossip_failed.count(name))
      out.push_back({"cluster", "gossip", name + " alive again, says Consul's gossip on this node", "", false});
}

void nginx_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (b.nginx_config == a.nginx_config || a.nginx_config.empty()) return;
  out.push_back({"nginx", "reload", "nginx serves " + a.nginx_config, "", false});
}

void files_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (a.syncthing_key_generation > b.syncthing_key_generation)
    out.push_back({"files", "key", "syncthing's API key rotated (generation " +
                                       std::to_string(a.syncthing_key_generation) + ")", "", false});
  // Files go from "in sync" to "receiving" on every upload: only the trouble
  // beyond that (syncthing unreachable, a folder error) is an event.
  const std::string& before = b.files_trouble;
  const std::string& after = a.files_trouble;
  if (before == after) return;
  if (after.empty())
    out.push_back({"files", "state", "files: " + a.files_state + " (was: " + before + ")", "", false});
  else
    out.push_back({"files", "state", "files: " + after, "", settled(b, a)});
}

// The broker's cluster as this node's broker sees it: a member lost or back,
// a broker silent (paused in a minority, stopped) or running again.
void broker_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (b.broker_state == a.broker_state || a.broker_state.empty()) return;
  const bool trouble = a.broker_state.rfind("running", 0) != 0;
  out.push_back({"broker", "state", "broker: " + a.broker_state + (b.broker_state.empty() ? "" : " (was: " + b.broker_state + ")"),
                 "", trouble && settled(b, a)});
}

// The leader's: who is a member (as it publishes them).
void cluster_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  // The leader says it, once for the cluster; not at start (everything is new then).
  if (a.role != Role::leader || b.role == Role::starting || b.members.empty()) return;
  for (const auto& name : a.members)
    if (!b.members.count(name)) out.push_back({"cluster", "member", name + " joined the members", "", false});
  for (const auto& name : b.members)
    if (!a.members.count(name))
      out.push_back({"cluster", "member",
                     name + " is no longer a member: its session ended (a crash, cut off from Consul, or stopped)", "",
                     true});
}

// An operator's intent is said by the node it names: a leader put in
// maintenance stops leading in the very cycle that reads the intent, so the
// leader of the moment cannot be the one to say it.
void intent_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (b.role == Role::starting) return;
  auto on = a.maintenance.find(a.self);
  bool was = b.maintenance.count(a.self) > 0;
  if (on != a.maintenance.end() && !was)
    out.push_back({"maintenance", "intent", a.self + " in maintenance", on->second, false});
  else if (on == a.maintenance.end() && was)
    out.push_back({"maintenance", "intent", a.self + " out of maintenance", "", false});
}

// The leader's, which carries a switchover out: once when it is requested,
// at each step, and at its end with the outcome (a new leader mid-way has
// followed the record as a follower, so nothing is said twice).
void switchover_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  if (a.role != Role::leader || b.role == Role::starting || !a.switchover || a.switchover == b.switchover) return;
  const auto& s = *a.switchover;
  const bool same = b.switchover && b.switchover->id == s.id;
  if (same && b.switchover->phase == s.phase) return;
  const std::string name = "switchover " + s.id;
  if (!same)
    out.push_back({"switchover", "request", name + " from " + s.from + " to " + s.to + " requested (" + s.phase + ")",
                   s.requested_by, false});
  if (s.phase == "done" || s.phase == "failed")
    out.push_back({"switchover", s.phase, name + " " + s.phase + (s.outcome.empty() ? "" : ": " + s.outcome), "", false});
  else if (same)
    out.push_back({"switchover", "step", name + ": " + s.phase, "", false});
}

void error_events(const EventFacts& b, const EventFacts& a, std::vector<Detected>& out) {
  for (const auto& [component, error] : a.errors) {
    auto was = b.errors.find(component);
    if (was != b.errors.end() && was->second == error) continue;
    out.push_back({component, "refusal", error, "", false});
  }
}

}  // namespace

std::vector<Detected> detect(const EventFacts& before, const EventFacts& after) {
  std::vector<Detected> out;
  role_events(before, after, out);
  health_events(before, after, out);
  vip_events(before, after, out);
  gossip_events(before, after, out);
  database_events(before, after, out);
  writable_events(before, after, out);
  nginx_events(before, after, out);
  files_events(before, after, out);
  broker_events(before, after, out);
  cluster_events(before, after, out);
  intent_events(before, after, out);
  switchover_events(before, after, out);
  error_events(before, after, out);
  return out;
}

}  // namespace hasup::events
