#include "components/rabbitmq/model.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/node_name.hpp"

namespace hasup::rabbitmq {

namespace {
constexpr std::string_view kBrokerPrefix = "rabbit@";
}

const BrokerNode* BrokerFacts::find(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

std::vector<std::string> BrokerFacts::running() const {
  std::vector<std::string> names;
  for (const auto& n : nodes)
    if (n.running) names.push_back(n.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string broker_name_of(const std::string& address) { return std::string(kBrokerPrefix) + address; }

std::optional<std::string> address_of_broker(const std::string& name) {
  if (name.compare(0, kBrokerPrefix.size(), kBrokerPrefix) != 0) return std::nullopt;
  std::string address = name.substr(kBrokerPrefix.size());
  if (!is_ipv4_literal(address)) return std::nullopt;
  return address;
}

std::string encode(const BrokerSeed& seed) {
  return json_text(nlohmann::json{{"node", seed.node}, {"broker", seed.broker}});
}

SeedDecode decode_seed(const std::string& text) {
  SeedDecode out;
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  auto node = parsed.find("node");
  auto broker = parsed.find("broker");
  if (node == parsed.end() || !node->is_string() || !is_node_name(node->get<std::string>())) {
    out.error = "node is not a node name";
    return out;
  }
  if (broker == parsed.end() || !broker->is_string() || !address_of_broker(broker->get<std::string>())) {
    out.error = "broker is not rabbit@ADDRESS";
    return out;
  }
  out.seed = BrokerSeed{node->get<std::string>(), broker->get<std::string>()};
  return out;
}

}  // namespace hasup::rabbitmq
