#include "components/upload-gate/quorum.hpp"

#include <algorithm>

namespace hasup::upload_gate {

QuorumDecision decide_quorum(const QuorumRule& rule, const std::vector<Peer>& peers,
                             const std::set<std::string>& holders) {
  QuorumDecision d;
  std::size_t connected = 0;
  bool every_connected_holds = true;
  for (const auto& peer : peers) {
    bool holds = holders.count(peer.id) > 0;
    // A peer seen holding the file counts even if it disconnected since: the
    // bytes are on its disk.
    if (holds) {
      d.replicated_to.push_back(peer.name);
    } else {
      d.missing.push_back({peer.name, peer.connected ? "not in sync yet" : "not connected"});
      if (peer.connected) every_connected_holds = false;
    }
    if (peer.connected) ++connected;
  }
  std::sort(d.replicated_to.begin(), d.replicated_to.end());
  std::sort(d.missing.begin(), d.missing.end(), [](auto& a, auto& b) { return a.name < b.name; });

  const std::size_t min_peers = static_cast<std::size_t>(std::max(rule.min_peers, 1));
  const std::size_t have = d.replicated_to.size();
  if (rule.all_connected) {
    // Peers that disconnect while a write waits drop out of "all connected";
    // min_peers still holds, so losing every peer never counts as success.
    d.required = std::max(connected + 0, min_peers);
    d.met = every_connected_holds && have >= min_peers;
    if (d.met)
      d.reason = "every connected peer holds the change (" + std::to_string(have) + ")";
    else if (peers.empty())
      d.reason = "the folder is shared with no peer";
    else if (connected == 0 && have == 0)
      d.reason = "no peer reachable";
    else if (!every_connected_holds)
      d.reason = "connected peers still missing the change";
    else
      d.reason = std::to_string(have) + " peer(s) hold the change, min_peers is " + std::to_string(min_peers);
  } else {
    d.required = std::max(static_cast<std::size_t>(rule.count), min_peers);
    d.met = have >= d.required;
    if (d.met)
      d.reason = std::to_string(have) + " peer(s) hold the change (quorum " + std::to_string(d.required) + ")";
    else if (connected == 0 && have == 0)
      d.reason = "no peer reachable";
    else
      d.reason = std::to_string(have) + " of " + std::to_string(d.required) + " required peer(s) hold the change";
  }
  return d;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string join_missing(const std::vector<MissingPeer>& missing) {
  std::string out;
  for (const auto& m : missing) out += (out.empty() ? "" : ", ") + m.name + " (" + m.reason + ")";
  return out;
}

}  // namespace hasup::upload_gate
