#include "components/members-only/rule.hpp"


#include "supervisor/util/nft_script.hpp"
#include "supervisor/util/host_name.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::members_only {

namespace {

template <class Each>
std::string each_port(std::string_view list, Each each) {
  if (list.empty()) return "no port";
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    const auto item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto port = port_number(item);
    if (!port) return "'" + std::string(item) + "' is not a TCP port (1..65535)";
    each(*port);
    if (comma == std::string_view::npos) return {};
    start = comma + 1;
  }
}

}  // namespace

std::string ports_problem(std::string_view list) {
  return each_port(list, [](int) {});
}

std::vector<int> parse_ports(std::string_view list) {
  std::vector<int> ports;
  each_port(list, [&](int port) { ports.push_back(port); });
  return ports;
}

std::string listed_ports(const std::vector<int>& ports) {
  std::string out;
  for (int port : ports) out += (out.empty() ? "" : ", ") + std::to_string(port);
  return out;
}

NftScript render_members_only(const std::string& node_name, const std::set<std::string>& members,
                              const std::vector<int>& ports) {
  NftScript out;
  if (ports.empty()) return out.error = "no port to keep for members", out;
  if (members.empty()) return out.error = "no member address (not even this node's)", out;
  std::string set;
  for (const auto& address : members) {
    if (!is_ipv4_literal(address)) {
      out.error = "refusing member address " + quoted_printable(address) + ": not an IPv4 address";
      return out;
    }
    set += (set.empty() ? "" : ", ") + address;
  }
  const std::string port_set = listed_ports(ports);
  out.text = nft_replace_table_script(
      "Rendered by ha-supervisor on " + node_name + ": TCP " + port_set + " from the cluster's nodes only.",
      kMembersOnlyTable,
      "  chain input {\n"
      "    type filter hook input priority filter - 10; policy accept;\n"
      "    iifname \"lo\" accept\n"
      "    tcp dport { " + port_set + " } ip saddr != { " + set + " } counter drop\n"
      "  }\n");
  return out;
}

}  // namespace hasup::members_only
