#include "components/dead-peers/rule.hpp"

#include "supervisor/consul/gossip.hpp"
#include "supervisor/util/host_name.hpp"
#include "supervisor/util/nft_script.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::dead_peers {

std::map<std::string, std::string> failed_peers(const std::map<std::string, cluster::NodeRegistration>& nodes,
                                                const std::map<std::string, std::string>& gossip,
                                                const std::string& self) {
  std::map<std::string, std::string> failed;
  if (!consul::in_gossip_majority(gossip)) return failed;
  for (const auto& [name, node] : nodes) {
    if (name == self) continue;
    auto it = gossip.find(node.address);
    if (it != gossip.end() && it->second == "failed") failed[name] = node.address;
  }
  return failed;
}

std::string listed(const std::map<std::string, std::string>& peers) {
  std::string text;
  for (const auto& [name, address] : peers) text += (text.empty() ? "" : ", ") + name + " (" + address + ")";
  return text;
}

NftScript render_dead_peers(const std::string& node_name, const std::map<std::string, std::string>& peers,
                            ConsulPorts consul) {
  NftScript out;
  std::string set;
  for (const auto& [name, address] : peers) {
    if (!is_ipv4_literal(address)) {
      out.error = "refusing " + name + "'s address " + quoted_printable(address) + ": not an IPv4 address";
      return out;
    }
    set += (set.empty() ? "" : ", ") + address;
  }
  out.text = nft_replace_table_script(
      "Rendered by ha-supervisor on " + node_name +
          ": this node's own TCP to peers Consul's gossip calls failed gets a reset at once.",
      kDeadPeersTable,
      "  set failed {\n    type ipv4_addr\n" + (set.empty() ? "" : "    elements = { " + set + " }\n") + "  }\n" +
          "  chain output {\n"
          "    type filter hook output priority filter; policy accept;\n"
          "    ip daddr @failed tcp dport != { " +
          std::to_string(consul.serf) + ", " + std::to_string(consul.server) +
          " } ct direction original counter reject with tcp reset\n" + "  }\n");
  return out;
}

}  // namespace hasup::dead_peers
