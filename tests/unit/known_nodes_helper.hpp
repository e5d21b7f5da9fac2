#pragma once
// The engine derives the cluster's nodes from every new Consul view before it
// decides (cluster::known_nodes). A test that changes s.kv.registered does the
// same, with this node's memory already in step (nothing to remember).
#include "supervisor/cluster/known_nodes.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::testing_support {

inline void derive_known_nodes(loop::Snapshot& s) {
  s.known = cluster::known_nodes(s.kv, {}, s.self);
  s.known.remembered = s.known.nodes;
}

}  // namespace hasup::testing_support
