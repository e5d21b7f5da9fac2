#pragma once
// Where the cluster's shared truth lives in Consul's KV store, under one prefix.
//   PREFIX/leader                    leader lock (held by the leader's session)
//   PREFIX/members/NAME              member record, held by that node's session (alive)
//   PREFIX/nodes/NAME                node registration: the cluster's members, alive
//                                    or not, until an operator forgets the node
//   PREFIX/forgotten/NAME            tombstone: an operator forgot NAME (hactl forget);
//                                    removed when NAME registers again
//   PREFIX/intent/maintenance/NAME   operator intent: NAME in maintenance
//   PREFIX/cluster/state             the leader's published view (fenced write)
//   PREFIX/broker/seed               the node whose broker founded the broker
//                                    cluster (create-only: components/rabbitmq)
//   PREFIX/settings                  the cluster's settings: cluster-wide keys set
//                                    for every node (hactl settings)
//   PREFIX/credentials/db-login      the manager's database login and its rotation
//                                    (components/db-login/record.hpp; passwords sealed)
//   PREFIX/credentials/replication-login  the replication login, the same way
//   PREFIX/credentials/syncthing-key  the rotation of syncthing's API keys: only its
//                                    generation (each node's key stays on the node:
//                                    components/syncthing/key_record.hpp)
//   PREFIX/intent/cold-start         operator intent: the founder accepted after a
//                                    power loss (components/cold-start/record.hpp)
//   PREFIX/intent/switchover         operator intent: the newest planned switchover and
//                                    how far it got (components/switchover/record.hpp)
//   PREFIX/intent/pause              operator intent: the cluster paused or resumed
//                                    (components/pause/record.hpp)
// and beside it, outside the tree every node watches (a node's event ring is
// up to ~150 KB, and no decision reads it):
//   PREFIX-events/NAME               NAME's ring of events (loop/event_log.hpp)
#include <string>

namespace hasup::cluster {

struct Keys {
  std::string prefix;

  std::string leader() const { return prefix + "/leader"; }
  std::string members_dir() const { return prefix + "/members/"; }
  std::string member(const std::string& name) const { return members_dir() + name; }
  std::string nodes_dir() const { return prefix + "/nodes/"; }
  std::string node(const std::string& name) const { return nodes_dir() + name; }
  std::string forgotten_dir() const { return prefix + "/forgotten/"; }
  std::string forgotten(const std::string& name) const { return forgotten_dir() + name; }
  std::string maintenance_dir() const { return prefix + "/intent/maintenance/"; }
  std::string maintenance(const std::string& name) const { return maintenance_dir() + name; }
  std::string cluster_state() const { return prefix + "/cluster/state"; }
  std::string broker_seed() const { return prefix + "/broker/seed"; }
  std::string settings() const { return prefix + "/settings"; }
  std::string db_login() const { return prefix + "/credentials/db-login"; }
  std::string replication_login() const { return prefix + "/credentials/replication-login"; }
  std::string cold_start() const { return prefix + "/intent/cold-start"; }
  std::string switchover() const { return prefix + "/intent/switchover"; }
  std::string pause() const { return prefix + "/intent/pause"; }
  std::string syncthing_key() const { return prefix + "/credentials/syncthing-key"; }
  std::string events_dir() const { return prefix + "-events/"; }
};

}  // namespace hasup::cluster
