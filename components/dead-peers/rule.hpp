#pragma once
// Which peers this node refuses to wait for. Pure.
//
// A crashed node drops every packet silently, so each new connection to it
// waits out its client's connect timeout, and a connection already open
// waits for TCP's retransmissions: Patroni's leader race asks the old
// primary's REST API with a fixed 2 s timeout before it promotes anyone,
// Consul's agents keep forwarding RPCs over a pooled connection to a dead
// Raft leader for 10-30 s. Once Consul's gossip has declared a cluster node
// failed (~1.3 s after a crash with the lab's gossip settings; the same
// verdict that already ends that node's sessions, its Patroni leader key
// included), the kernel answers this node's own TCP to it with a reset, so
// those clients fail at once and move on.
//
// Only connections this node opens are refused (an answer to a connection the
// peer opens passes), and never Consul's gossip port: serf reconnects to a
// failed node over TCP, and a partition whose two sides refused each other's
// gossip would never heal. The rule follows gossip both ways: a node gossip
// calls alive again is dropped from the set at the next poll.
#include <map>
#include <string>

#include "components/dead-peers/consul_ports.hpp"
#include "supervisor/cluster/records.hpp"

namespace hasup::dead_peers {

// Name -> address of every cluster node but `self` whose address the local
// agent's gossip calls "failed". A node whose gossip address is not its
// registered address is never matched (nothing is refused on a guess).
//
// Nothing at all while this node is not in the gossip majority
// (consul::in_gossip_majority): then it is the one cut off, and refusing its
// peers would only delay its own return (its Consul agent's RPCs to the
// servers, before gossip heals, which can take serf's 30 s reconnect interval).
std::map<std::string, std::string> failed_peers(const std::map<std::string, cluster::NodeRegistration>& nodes,
                                                const std::map<std::string, std::string>& gossip,
                                                const std::string& self);

// "n2 (198.18.0.12), n3 (198.18.0.13)": how the log and the plan's reason name them.
std::string listed(const std::map<std::string, std::string>& peers);

// The nft script that replaces the table whole with these addresses; an
// error for anything that is not an IPv4 address (the table is `ip`).
// Consul's own ports are never refused (consul_ports.hpp).
inline constexpr const char* kDeadPeersTable = "ha_supervisor_dead_peers";
struct NftScript {
  std::string text;
  std::string error;
};
NftScript render_dead_peers(const std::string& node_name, const std::map<std::string, std::string>& peers,
                            ConsulPorts consul);

}  // namespace hasup::dead_peers
