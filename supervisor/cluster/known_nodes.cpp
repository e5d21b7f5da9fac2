#include "supervisor/cluster/known_nodes.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/node_name.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::cluster {

using nlohmann::json;

loop::KnownNodes known_nodes(const loop::KvView& kv, const NodeMap& remembered, const std::string& self) {
  loop::KnownNodes known;
  known.remembered = remembered;
  if (!kv.known) return known;
  for (const auto& [name, address] : kv.registered) {
    NodeRegistration node{name, address, {}};
    if (auto device = kv.registered_devices.find(name); device != kv.registered_devices.end())
      node.syncthing_device_id = device->second;
    known.nodes[name] = std::move(node);
  }
  for (const auto& [name, node] : remembered) {
    if (known.nodes.count(name) || kv.forgotten.count(name)) continue;
    known.nodes[name] = node;
    if (name != self) known.kept.insert(name);
  }
  return known;
}

std::set<std::string> node_addresses(const loop::KnownNodes& known, const loop::KvView& kv) {
  std::set<std::string> addresses;
  for (const auto& [name, node] : known.nodes) addresses.insert(node.address);
  for (const auto& [name, member] : kv.members) addresses.insert(member.address);
  return addresses;
}

std::string encode_remembered(const NodeMap& nodes) {
  json list = json::array();
  for (const auto& [name, node] : nodes) list.push_back(json::parse(encode(node)));
  return json_text(json{{"schema", 1}, {"nodes", list}}) + "\n";
}

RememberedDecode decode_remembered(const std::string& text) {
  RememberedDecode out;
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  auto schema = parsed.find("schema");
  if (schema == parsed.end() || !schema->is_number_integer() || schema->get<long long>() != 1) {
    out.error = "schema is not 1";
    return out;
  }
  auto list = parsed.find("nodes");
  if (list == parsed.end() || !list->is_array()) {
    out.error = "\"nodes\" is not a list";
    return out;
  }
  NodeMap nodes;
  for (const auto& item : *list) {
    auto node = item.is_object() ? decode_node(item.dump()) : std::nullopt;
    if (!node) {
      out.error = "a node is not {schema 1, name, address}";
      return out;
    }
    if (auto why = node_name_problem(node->name); !why.empty()) {
      out.error = "node name " + quoted_printable(node->name) + " " + why;
      return out;
    }
    if (auto why = host_problem(node->address); !why.empty()) {
      out.error = "address " + quoted_printable(node->address) + " " + why;
      return out;
    }
    if (nodes.count(node->name)) {
      out.error = "node " + node->name + " is listed twice";
      return out;
    }
    nodes[node->name] = std::move(*node);
  }
  out.nodes = std::move(nodes);
  return out;
}

}  // namespace hasup::cluster
