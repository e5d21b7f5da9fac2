#include "supervisor/loop/decide.hpp"

#include "components/cold-start/record.hpp"
#include "supervisor/cluster/member_schema.hpp"
#include "supervisor/loop/catalog_sync.hpp"
#include "supervisor/loop/components.hpp"

#include <algorithm>
#include <set>

namespace hasup::loop {

using cluster::Role;

namespace {

// How long until a refused lock may be asked for again; nullopt: now.
std::optional<std::chrono::milliseconds> lock_retry_wait(const std::optional<std::chrono::milliseconds>& refused_ago) {
  if (!refused_ago || *refused_ago >= kLockRetry) return std::nullopt;
  return kLockRetry - *refused_ago;
}

}  // namespace

std::string to_string(Job job) {
  switch (job) {
    case Job::identify_agent: return "identify-agent";
    case Job::register_service: return "register-service";
    case Job::open_session: return "open-session";
    case Job::publish_member: return "publish-member";
    case Job::acquire_leadership: return "acquire-leadership";
    case Job::release_leadership: return "release-leadership";
    case Job::publish_cluster_state: return "publish-cluster-state";
    case Job::close_session: return "close-session";
    case Job::set_vip_fault: return "set-vip-fault";
    case Job::apply_keepalived_conf: return "apply-keepalived-conf";
    case Job::start_keepalived: return "start-keepalived";
    case Job::register_node: return "register-node";
    case Job::apply_nginx_conf: return "apply-nginx-conf";
    case Job::start_nginx: return "start-nginx";
    case Job::apply_patroni_conf: return "apply-patroni-conf";
    case Job::start_patroni: return "start-patroni";
    case Job::set_vip_preference: return "set-vip-preference";
    case Job::bootstrap_stolon: return "bootstrap-stolon";
    case Job::start_stolon_units: return "start-stolon-units";
    case Job::apply_syncthing_config: return "apply-syncthing-config";
    case Job::start_syncthing: return "start-syncthing";
    case Job::apply_vrrp_filter: return "apply-vrrp-filter";
    case Job::remember_nodes: return "remember-nodes";
    case Job::apply_dead_peers: return "apply-dead-peers";
    case Job::resync_consul_agent: return "resync-consul-agent";
    case Job::apply_members_only: return "apply-members-only";
    case Job::apply_broker_conf: return "apply-broker-conf";
    case Job::start_broker: return "start-broker";
    case Job::restart_broker: return "restart-broker";
    case Job::claim_broker_seed: return "claim-broker-seed";
    case Job::join_broker_cluster: return "join-broker-cluster";
    case Job::forget_broker_node: return "forget-broker-node";
    case Job::restore_settings: return "restore-settings";
    case Job::start_login_rotation: return "start-login-rotation";
    case Job::apply_client_login: return "apply-client-login";
    case Job::finish_login_rotation: return "finish-login-rotation";
    case Job::accept_cold_start: return "accept-cold-start";
    case Job::drop_cold_start_accept: return "drop-cold-start-accept";
    case Job::restore_patroni_keys: return "restore-patroni-keys";
    case Job::restore_login_record: return "restore-login-record";
    case Job::write_switchover: return "write-switchover";
    case Job::ask_patroni_switchover: return "ask-patroni-switchover";
    case Job::wake_patroni: return "wake-patroni";
    case Job::wake_patroni_for_leader: return "wake-patroni-for-leader";
    case Job::set_write_hold: return "set-write-hold";
    case Job::set_patroni_pause: return "set-patroni-pause";
    case Job::set_patroni_strict: return "set-patroni-strict";
    case Job::wake_patroni_for_sync: return "wake-patroni-for-sync";
    case Job::rotate_syncthing_key: return "rotate-syncthing-key";
  }
  return "unknown";
}

std::string to_string(const std::set<Job>& jobs) {
  std::string out;
  for (Job j : jobs) out += (out.empty() ? "" : ",") + to_string(j);
  return out;
}

namespace {

bool holds_leader_lock(const Snapshot& s) {
  return s.session.valid && s.kv.leader && s.kv.leader->session == s.session.id;
}

std::string epoch_text(std::uint64_t epoch) { return "epoch " + std::to_string(epoch); }

std::string member_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "none" : out;
}

// Leader-written names come from live member records only: a record whose
// session died has already been deleted by Consul (session behaviour "delete").
std::vector<std::string> live_member_names(const Snapshot& s) {
  std::vector<std::string> names;
  for (const auto& [name, record] : s.kv.members) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}


}  // namespace

// What keeps this node from serving clients well, in a few stable words; ""
// when nothing. Published as the member record's health, so every node knows
// which nodes are fit to hold the floating IP. Each component says its own;
// the first one found is the answer.
std::string local_problem(const Snapshot& s) {
  for (const auto& component : components())
    if (auto found = component.problem(s); !found.empty()) return found;
  return {};
}

std::string accepted_founder(const Snapshot& s) {
  if (!s.kv.cold_start) return {};
  auto decoded = cold_start::decode_accept(s.kv.cold_start->text);
  return decoded.record ? decoded.record->node : std::string{};
}

cluster::MemberRecord desired_member_record(const Snapshot& s, Role role) {
  cluster::MemberRecord r;
  r.name = s.self;
  r.address = s.self_address;
  r.role = role;
  std::string problem = local_problem(s);
  r.health = problem.empty() ? "ok" : problem;
  r.versions = s.versions;
  r.reads_schema = cluster::newest_member_schema();
  r.schema = cluster::member_schema_to_write(s.kv);
  r.leader_epoch = role == Role::leader && s.kv.leader ? s.kv.leader->epoch : 0;
  r.settings_index = s.settings.applied_index;
  r.settings_pending = s.settings.pending;
  r.settings_error = s.settings.error;
  auto published = s.kv.members.find(s.self);
  bool same_state = published != s.kv.members.end() && published->second.role == r.role &&
                    published->second.health == r.health;
  r.since = same_state ? published->second.since : s.wall_time;
  // What the other nodes should know of each component.
  for (const auto& component : components())
    if (component.publish) component.publish(s, r);
  return r;
}

namespace {

// "health, since changed": why the record goes out again.
std::string changed_list(const cluster::MemberRecord& published, const cluster::MemberRecord& desired) {
  std::string list;
  for (const auto& field : cluster::changed_fields(published, desired)) list += (list.empty() ? "" : ", ") + field;
  return (list.empty() ? std::string("nothing") : list) + " changed";
}

Plan decide_shutdown(const Snapshot& s) {
  Plan plan;
  plan.role = Role::stopping;
  // Cut off, the view may be stale and nothing may be written: the session
  // and the lock expire in Consul by themselves.
  if (holds_leader_lock(s) && s.consul.quorum_reachable) {
    want(plan, s, ReleaseLeadership{s.kv.leader->epoch, s.session.id});
    plan.reason = "shutting down: releasing leadership (" + epoch_text(s.kv.leader->epoch) + ") so another node takes over at once";
  } else if (s.session.valid && s.consul.quorum_reachable) {
    want(plan, s, CloseSession{s.session.id});
    plan.reason = "shutting down: closing the session, which removes this node's member record";
  } else {
    plan.reason = "shutting down: nothing left to hand over";
  }
  return plan;
}

// Consul's data lost (every server rebuilt) takes the cluster's settings with
// it: they are rebuilt from the nodes' copies, not from nothing. Only from
// the newest copy among the live members: a node that missed a change must
// not bring back what an operator replaced.
std::optional<RestoreSettings> settings_to_restore(const Snapshot& s) {
  if (s.kv.settings || s.settings.applied_index == 0) return std::nullopt;
  for (const auto& [name, member] : s.kv.members)
    if (member.settings_index > s.settings.applied_index) return std::nullopt;
  return RestoreSettings{s.settings.applied_text, s.settings.applied_index};
}

void decide_leadership(Plan& plan, const Snapshot& s, Role role, bool member_published) {
  const bool in_maintenance = s.kv.maintenance.count(s.self) > 0;
  if (role == Role::leader) {
    const LeaderLock& lock = *s.kv.leader;
    if (in_maintenance) {
      want(plan, s, ReleaseLeadership{lock.epoch, s.session.id});
      plan.reason = "leader in maintenance: releasing leadership (" + epoch_text(lock.epoch) + ") to another node";
      return;
    }
    if (auto restore = settings_to_restore(s)) want(plan, s, *restore);
    cluster::ClusterState view;
    view.leader = s.self;
    view.epoch = lock.epoch;
    view.members = live_member_names(s);
    const auto& published = s.kv.cluster_state;
    bool view_current = published && published->leader == view.leader && published->epoch == view.epoch &&
                        published->members == view.members;
    if (!view_current) {
      view.changed_at = s.wall_time;
      want(plan, s, PublishClusterState{view, lock.epoch, s.session.id});
      plan.reason = "leader (" + epoch_text(lock.epoch) + "): publishing the cluster view, members " +
                    member_list(view.members);
      return;
    }
    plan.reason = "leader (" + epoch_text(lock.epoch) + ") of " + std::to_string(view.members.size()) +
                  " members: " + member_list(view.members);
    return;
  }
  if (s.kv.leader) {
    const LeaderLock& lock = *s.kv.leader;
    std::string who = lock.name.empty() ? "session " + lock.session.substr(0, 8) : lock.name;
    plan.reason = std::string(in_maintenance ? "in maintenance, " : "") + "follower of " + who + " (" +
                  epoch_text(lock.epoch) + ")";
    return;
  }
  if (in_maintenance) {
    plan.reason = "leader lock is free, but this node is in maintenance: not running for leader";
    return;
  }
  if (!member_published) {
    plan.reason = "leader lock is free: publishing the member record before running for leader";
    return;
  }
  if (auto wait = lock_retry_wait(s.refused.leader_ago)) {
    plan.wake_within(*wait);
    plan.reason = "leader lock is free, but Consul refused it (taken meanwhile, or within the lock-delay after its "
                  "holder's session ended): trying again every " + std::to_string(kLockRetry.count()) + " ms";
    return;
  }
  want(plan, s, AcquireLeadership{s.session.id});
  plan.reason = "leader lock is free: trying to acquire it";
}

}  // namespace

Role derive_role(const Snapshot& s) {
  if (s.shutting_down) return Role::stopping;
  if (!s.consul.quorum_reachable) return s.consul.ever_reached_quorum ? Role::cut_off : Role::starting;
  if (!s.service_registered || !s.session.valid || !s.kv.known) return Role::starting;
  if (holds_leader_lock(s)) return Role::leader;
  if (s.kv.maintenance.count(s.self)) return Role::maintenance;
  return Role::follower;
}

Plan decide_cluster(const Snapshot& s);

Plan decide(const Snapshot& s) {
  Plan plan = decide_cluster(s);
  if (std::string note = decide_catalog_sync(plan, s); !note.empty()) plan.reason += "; " + note;
  // Each component in list order: the floating IP's placement sees the plan's role.
  for (const auto& component : components())
    if (std::string note = component.decide(plan, s); !note.empty()) plan.reason += "; " + note;
  return plan;
}

Plan decide_cluster(const Snapshot& s) {
  if (s.shutting_down) return decide_shutdown(s);

  Plan plan;
  plan.role = derive_role(s);

  if (!s.consul.agent_known) {
    want(plan, s, IdentifyAgent{});
    plan.reason = "waiting for the local Consul agent" + (s.consul.quorum_error.empty() ? "" : " (" + s.consul.quorum_error + ")");
    return plan;
  }
  if (!s.consul.quorum_reachable) {
    // Nothing may be written from here: Consul might have moved on without us.
    // The reason names the bound, not the growing age, so it is logged once.
    if (s.consul.ever_reached_quorum)
      plan.reason = "cut off: no Consul quorum for more than " +
                    std::to_string(s.consul.quorum_loss_timeout.count()) + " ms: stepped down from every role";
    else
      plan.reason = "waiting for a Consul quorum";
    if (!s.consul.quorum_error.empty()) plan.reason += " (" + s.consul.quorum_error + ")";
    return plan;
  }
  if (!s.service_registered) {
    want(plan, s, RegisterService{});
    plan.reason = "registering this supervisor and its liveness check with the local Consul agent";
    return plan;
  }
  if (!s.session.valid) {
    want(plan, s, OpenSession{});
    plan.reason = "no Consul session: opening one (or adopting this node's surviving one)";
    return plan;
  }
  if (!s.kv.known) {
    plan.reason = "waiting for the first read of the cluster's keys";
    return plan;
  }
  // This node's memory of the cluster's nodes follows what it knows; a node
  // leaves it only through a tombstone (cluster/known_nodes.hpp).
  if (s.known.nodes != s.known.remembered) want(plan, s, RememberNodes{s.known.nodes});

  auto holder = s.kv.member_sessions.find(s.self);
  if (holder != s.kv.member_sessions.end() && holder->second != s.session.id) {
    // Someone else's live session holds our name: two supervisors share a
    // node name. Do nothing that could make it worse.
    plan.reason = "member name '" + s.self + "' is held by another session (" + holder->second.substr(0, 8) +
                  "): is another supervisor configured with the same node.name? not publishing, not running for leader";
    return plan;
  }

  auto desired = desired_member_record(s, plan.role);
  auto published = s.kv.members.find(s.self);
  bool member_published = published != s.kv.members.end();
  const bool member_stale = !member_published || published->second != desired;
  const auto member_wait = member_stale ? lock_retry_wait(s.refused.member_ago) : std::nullopt;
  if (member_wait)
    plan.wake_within(*member_wait);
  else if (member_stale)
    want(plan, s, PublishMember{desired});

  // The registration carries this node's syncthing device id once known, so
  // the peers keep sharing the folders with it while it is down.
  auto registered = s.kv.registered.find(s.self);
  auto registered_device = s.kv.registered_devices.find(s.self);
  const std::string device = s.files.enabled ? s.files.device_id : std::string{};
  const bool device_stale =
      !device.empty() && (registered_device == s.kv.registered_devices.end() || registered_device->second != device);
  auto registered_reads = s.kv.registered_reads_schema.find(s.self);
  const bool reads_stale = registered_reads == s.kv.registered_reads_schema.end() ||
                           registered_reads->second != cluster::newest_member_schema();
  if (registered == s.kv.registered.end() || registered->second != s.self_address || device_stale || reads_stale)
    want(plan, s, RegisterNode{device});

  decide_leadership(plan, s, plan.role, member_published);
  if (member_wait)
    plan.reason += "; Consul refused the member key (within the lock-delay after this node's previous session "
                   "ended): trying again every " + std::to_string(kLockRetry.count()) + " ms";
  if (auto note = cluster::member_schema_note(s.kv); !note.empty()) plan.reason += "; " + note;
  if (!s.known.kept.empty()) {
    std::string names;
    for (const auto& name : s.known.kept) names += (names.empty() ? "" : ", ") + name;
    plan.reason += "; kept as peers, missing from Consul's registrations but never forgotten: " + names +
                   " (hactl forget NAME if one left for good)";
  }
  if (plan.actions.size() == 1 && std::holds_alternative<PublishMember>(plan.actions.front()) &&
      plan.reason.find("publishing") == std::string::npos)
    plan.reason += "; publishing member record (" + cluster::to_string(desired.role) + ": " +
                   (member_published ? changed_list(published->second, desired) : std::string("new")) + ")";
  return plan;
}

}  // namespace hasup::loop
