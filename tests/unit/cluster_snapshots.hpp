#pragma once
// The three-node Patroni cluster the decision tests start from: n1 primary and
// floating-IP holder, n2 its synchronous standby and the supervisors' leader,
// n3 a replica; every member healthy, its files in sync.
#include <string>

#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop::sample {

inline cluster::MemberRecord live_member(const std::string& name, cluster::Role role, bool holds_vip = false) {
  cluster::MemberRecord m;
  m.name = name;
  m.address = "198.18.0.1" + name.substr(1);
  m.role = role;
  m.health = "ok";
  m.files_state = "in sync, 2/2 peers";
  m.vrrp_state = holds_vip ? "MASTER" : "BACKUP";
  m.holds_vip = holds_vip;
  m.writes_held = "";
  return m;
}

inline db::DbMember db_member(const std::string& name, db::DbRole role) {
  db::DbMember m;
  m.name = name;
  m.role = role;
  m.healthy = true;
  return m;
}

// Seen from `self`, with a quorum and a current view of the keys.
inline Snapshot three_node_cluster(const std::string& self) {
  Snapshot s;
  s.self = self;
  s.self_address = "198.18.0.1" + self.substr(1);
  s.consul.quorum_reachable = true;
  s.kv.known = true;
  s.kv.leader = LeaderLock{"session-n2", 7, "n2"};
  s.kv.members = {{"n1", live_member("n1", cluster::Role::follower, true)},
                  {"n2", live_member("n2", cluster::Role::leader)},
                  {"n3", live_member("n3", cluster::Role::follower)}};
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.cluster_known = true;
  s.db.cluster.backend = "patroni";
  s.db.cluster.initialized = true;
  s.db.cluster.primary = "n1";
  s.db.cluster.sync_standbys = {"n2"};
  s.db.cluster.members = {db_member("n1", db::DbRole::primary), db_member("n2", db::DbRole::sync_standby),
                          db_member("n3", db::DbRole::replica)};
  return s;
}

}  // namespace hasup::loop::sample
