#pragma once
// Dead peers as the loop sees them: its part of the snapshot (snapshot.hpp).
#include <map>
#include <string>

namespace hasup::loop {

struct DeadPeersView {
  bool enabled = false;
  // The local agent's gossip: address -> serf status ("alive", "failed", ...),
  // from GET /v1/agent/members, polled; known once it answered.
  bool gossip_known = false;
  std::map<std::string, std::string> gossip;
  std::string gossip_error;  // the last poll's failure ("" after a success)
  int consul_serf_port = 8301;
  // What this process loaded last ("" nothing yet: the table is gone after a
  // boot, so every start loads it once), and a script nft refused.
  std::string applied;
  std::string refused;
  std::string error;
};

}  // namespace hasup::loop
