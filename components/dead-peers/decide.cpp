#include "components/dead-peers/decide.hpp"

#include "components/dead-peers/rule.hpp"
#include "components/pause/decide.hpp"
#include "supervisor/consul/gossip.hpp"

namespace hasup::loop {

namespace {

// The peers refused now: none unless the agent's gossip answered the last
// poll (nothing is refused on old evidence), and none while the cluster is
// paused: the work may be on Consul, and a node whose agent is stopped is
// "failed" in the gossip while it serves (the lab saw 166 of 350 uploads
// refused on such a node: its syncthing peers were cut off from it).
std::map<std::string, std::string> wanted(const Snapshot& s) {
  if (!s.consul.gossip_known || cluster_paused(s)) return {};
  return dead_peers::failed_peers(s.known.nodes, s.consul.gossip, s.self);
}

}  // namespace

std::string decide_dead_peers(Plan& plan, const Snapshot& s) {
  const DeadPeersView& v = s.dead_peers;
  if (!v.enabled) return {};
  const auto peers = wanted(s);
  const auto script = dead_peers::render_dead_peers(s.self, peers, v.consul_ports);
  if (!script.error.empty()) return "dead peers: not loaded: " + script.error;
  if (script.text == v.applied) return {};
  if (script.text == v.refused)
    return "dead peers: nft refused the table (asked again when the peers change, or on SIGHUP): " + v.error;
  if (!want(plan, s, ApplyDeadPeers{script.text, peers})) return {};
  if (peers.empty()) return "dead peers: none (this node's TCP to every peer is left alone)";
  return "dead peers: this node's TCP to " + dead_peers::listed(peers) + " is refused at once (Consul's gossip calls it failed)";
}

std::string dead_peers_problem(const Snapshot&) { return {}; }

nlohmann::json dead_peers_status(const Snapshot& s) {
  const DeadPeersView& v = s.dead_peers;
  const auto peers = wanted(s);
  nlohmann::json failed = nlohmann::json::object();
  for (const auto& [name, address] : peers) failed[name] = address;
  // Whether the kernel's table holds exactly these peers now.
  const bool current = !v.applied.empty() && v.applied == dead_peers::render_dead_peers(s.self, peers, v.consul_ports).text;
  nlohmann::json out{{"gossip_known", s.consul.gossip_known}, {"failed_peers", failed}, {"table_current", current}};
  // Cut off itself: it refuses nobody (consul::in_gossip_majority).
  if (s.consul.gossip_known) out["in_gossip_majority"] = consul::in_gossip_majority(s.consul.gossip);
  if (!s.consul.gossip_error.empty()) out["gossip_error"] = s.consul.gossip_error;
  if (!v.error.empty()) out["error"] = v.error;
  return out;
}

}  // namespace hasup::loop
