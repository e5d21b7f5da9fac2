#pragma once
// Dead peers as the loop sees them: its part of the snapshot (snapshot.hpp).
#include <map>
#include <string>

#include "components/dead-peers/consul_ports.hpp"

namespace hasup::loop {

struct DeadPeersView {
  bool enabled = false;
  // The gossip it follows is the Consul link's (Snapshot::consul.gossip).
  dead_peers::ConsulPorts consul_ports;  // never refused
  // What this process loaded last ("" nothing yet: the table is gone after a
  // boot, so every start loads it once), and a script nft refused.
  std::string applied;
  std::string refused;
  std::string error;
};

}  // namespace hasup::loop
