#pragma once
// What the local agent's gossip says of the cluster. Pure.
//
// The agent answers GET /v1/agent/members from its own serf state: no Raft
// leader needed, so this stays current while the servers elect one, exactly
// when the consistent reads that prove the quorum fail.
#include <map>
#include <string>

namespace hasup::consul {

// Whether the agents gossip calls alive (this one included) are a strict
// majority of those it calls alive or failed (a member that left cleanly
// counts for neither side). Not: this node is the one cut off. Consul-only
// agents (a witness) count. `gossip` is address -> serf status.
bool in_gossip_majority(const std::map<std::string, std::string>& gossip);

// "2 of 3 alive": how status and the plan's reason say it.
std::string gossip_summary(const std::map<std::string, std::string>& gossip);

}  // namespace hasup::consul
