#pragma once
// Which hosts may open a connection to this node's members-only TCP ports.
// Pure.
//
// The upload gate listens on the node's address: every node's nginx reaches
// every node's gate there (the floating IP's upstreams), so it cannot move to
// loopback. Anyone else on the LAN could call it directly, around nginx and
// its limits. The kernel drops a new connection to these ports from any
// address that is not one of the cluster's nodes (the same set keepalived's
// peers and pg_hba admit: cluster::node_addresses, this node included); what
// the node sends itself (the loopback interface) always passes.
#include <set>
#include <string>
#include <vector>

namespace hasup::members_only {

inline constexpr const char* kMembersOnlyTable = "ha_supervisor_members_only";

struct NftScript {
  std::string text;
  std::string error;
};

// The nft script that replaces the table whole; an error (nothing to load)
// for an address that is not IPv4 (the table is `ip`), no address at all, or
// no port.
NftScript render_members_only(const std::string& node_name, const std::set<std::string>& members,
                              const std::vector<int>& ports);

// "8100,8101" -> {8100, 8101}; an error for anything else (config's check).
std::string ports_problem(std::string_view list);
std::vector<int> parse_ports(std::string_view list);  // of a list ports_problem accepted
// "8100, 8443": how the script, the log and the plan's reason name them.
std::string listed_ports(const std::vector<int>& ports);

}  // namespace hasup::members_only
