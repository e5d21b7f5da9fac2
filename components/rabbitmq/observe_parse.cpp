#include "components/rabbitmq/observe_parse.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace hasup::rabbitmq {

using nlohmann::json;

namespace {

// A name from the broker: printable ASCII, bounded. Anything else is refused
// whole: it would reach logs, Consul and the status page.
bool plain_name(const json& value) {
  if (!value.is_string()) return false;
  const auto& text = value.get_ref<const std::string&>();
  return !text.empty() && text.size() <= 255 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool names(const json& value, std::vector<std::string>& out) {
  if (!value.is_array()) return false;
  for (const auto& item : value) {
    if (!plain_name(item)) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}

// A field that the API leaves out while its statistics are not collected yet
// (the first seconds of a node) reads as `fallback`; one of the wrong type is an error.
bool optional_bool(const json& o, const char* key, bool& out, bool fallback) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return out = fallback, true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

std::string parse_nodes(const std::string& text, BrokerFacts& f) {
  auto list = json::parse(text, nullptr, false);
  if (list.is_discarded() || !list.is_array()) return "nodes: not a JSON list";
  for (const auto& o : list) {
    if (!o.is_object()) return "nodes: an entry is not an object";
    BrokerNode n;
    auto name = o.find("name");
    if (name == o.end() || !plain_name(*name)) return "nodes: an entry has no name";
    n.name = name->get<std::string>();
    auto running = o.find("running");
    if (running == o.end() || !running->is_boolean()) return "nodes: " + n.name + ": running is not true or false";
    n.running = running->get<bool>();
    if (!optional_bool(o, "mem_alarm", n.memory_alarm, false) ||
        !optional_bool(o, "disk_free_alarm", n.disk_alarm, false))
      return "nodes: " + n.name + ": an alarm is not true or false";
    if (auto it = o.find("partitions"); it != o.end() && !it->is_null() && !names(*it, n.partitions))
      return "nodes: " + n.name + ": partitions is not a list of names";
    f.nodes.push_back(std::move(n));
  }
  if (!f.find(f.node)) return "nodes: the list does not hold this node (" + f.node + ")";
  return {};
}

std::string parse_queues(const std::string& text, BrokerFacts& f) {
  auto list = json::parse(text, nullptr, false);
  if (list.is_discarded() || !list.is_array()) return "queues: not a JSON list";
  for (const auto& o : list) {
    if (!o.is_object()) return "queues: an entry is not an object";
    auto name = o.find("name");
    auto vhost = o.find("vhost");
    if (name == o.end() || !name->is_string() || vhost == o.end() || !vhost->is_string())
      return "queues: an entry has no name or vhost";
    std::uint64_t messages = 0;
    if (auto it = o.find("messages"); it != o.end() && !it->is_null()) {
      if (!it->is_number_unsigned()) return "queues: messages is not a count";
      messages = it->get<std::uint64_t>();
    }
    f.messages += messages;
    auto type = o.find("type");
    if (type == o.end() || !type->is_string() || type->get_ref<const std::string&>() != "quorum") continue;
    QuorumQueue q;
    q.vhost = vhost->get<std::string>();
    q.name = name->get<std::string>();
    q.messages = messages;
    if (auto it = o.find("leader"); it != o.end() && !it->is_null()) {
      if (!plain_name(*it)) return "queues: " + q.name + ": leader is not a name";
      q.leader = it->get<std::string>();
    }
    auto members = o.find("members");
    auto online = o.find("online");
    if (members == o.end() || !names(*members, q.members)) return "queues: " + q.name + ": members is not a list of names";
    if (online != o.end() && !online->is_null() && !names(*online, q.online))
      return "queues: " + q.name + ": online is not a list of names";
    f.queues.push_back(std::move(q));
  }
  return {};
}

}  // namespace

FactsParse parse_nodes_only(const std::string& self, const std::string& nodes) {
  FactsParse out;
  out.facts.node = self;
  out.error = parse_nodes(nodes, out.facts);
  if (!out.error.empty()) out.facts = {};
  return out;
}

std::string parse_queues_into(const std::string& queues, BrokerFacts& facts) {
  BrokerFacts read = facts;
  read.queues.clear();
  read.messages = 0;
  auto error = parse_queues(queues, read);
  if (error.empty()) facts = std::move(read);
  return error;
}

FactsParse parse_facts(const std::string& self, const std::string& nodes, const std::string& queues) {
  FactsParse out = parse_nodes_only(self, nodes);
  if (out.error.empty()) out.error = parse_queues_into(queues, out.facts);
  if (!out.error.empty()) out.facts = {};
  return out;
}

}  // namespace hasup::rabbitmq
