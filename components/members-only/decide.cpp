#include "components/members-only/decide.hpp"

#include "components/members-only/rule.hpp"
#include "supervisor/cluster/known_nodes.hpp"

namespace hasup::loop {

namespace {

// The nodes' addresses from the memory of known nodes and the last view of
// Consul's keys: a node cut off from Consul keeps admitting the nodes it knew
// (its peers' nginx still reach its gate), and this node's own address is in
// even before it has registered.
members_only::NftScript wanted(const Snapshot& s) {
  std::set<std::string> members = cluster::node_addresses(s.known, s.kv);
  if (!s.self_address.empty()) members.insert(s.self_address);
  return members_only::render_members_only(s.self, members, s.members_only.ports);
}

}  // namespace

std::string decide_members_only(Plan& plan, const Snapshot& s) {
  const MembersOnlyView& v = s.members_only;
  if (!v.enabled) return {};
  const auto script = wanted(s);
  if (!script.error.empty()) return "members-only ports: not loaded: " + script.error;
  if (script.text == v.applied) return {};
  if (script.text == v.refused)
    return "members-only ports: nft refused the table (asked again when the nodes change, or on SIGHUP): " + v.error;
  if (!want(plan, s, ApplyMembersOnly{script.text})) return {};
  return "members-only ports: loading the table (TCP " + members_only::listed_ports(v.ports) + " from the cluster's nodes only)";
}

std::string members_only_problem(const Snapshot&) { return {}; }

nlohmann::json members_only_status(const Snapshot& s) {
  const MembersOnlyView& v = s.members_only;
  const auto script = wanted(s);
  nlohmann::json out{{"ports", v.ports},
                     {"table_current", !v.applied.empty() && script.error.empty() && v.applied == script.text}};
  if (!script.error.empty()) out["render_error"] = script.error;
  if (!v.error.empty()) out["error"] = v.error;
  return out;
}

}  // namespace hasup::loop
