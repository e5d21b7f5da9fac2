#include "components/rabbitmq/status.hpp"

#include "components/rabbitmq/decide.hpp"

namespace hasup::loop {

using nlohmann::json;

json broker_status(const Snapshot& s) {
  const BrokerView& b = s.broker;
  json nodes = json::array();
  json queues = json::array();
  if (b.facts) {
    for (const auto& n : b.facts->nodes)
      nodes.push_back({{"name", n.name}, {"running", n.running}, {"partitions", n.partitions},
                       {"memory_alarm", n.memory_alarm}, {"disk_alarm", n.disk_alarm}});
    for (const auto& q : b.facts->queues)
      queues.push_back({{"vhost", q.vhost}, {"name", q.name}, {"leader", q.leader}, {"members", q.members},
                        {"online", q.online}, {"messages", q.messages}});
  }
  return {{"state", broker_summary(s)},
          {"node", b.facts ? b.facts->node : ""},
          {"founder", b.seed ? b.seed->node + " (" + b.seed->broker + ")" : ""},
          {"founder_error", b.seed_error},
          {"nodes", nodes},
          {"quorum_queues", queues},
          {"read_error", b.read_error},
          {"facts_error", b.facts_error},
          {"queues_error", b.queues_error},
          {"local_alarm", b.local_alarm},
          {"silent_for_ms", b.read_error.empty() ? 0 : b.silent_for.count()},
          {"cookie_fingerprint", b.cookie_fingerprint},
          {"files_error", b.files_error},
          {"join_error", b.join_error},
          {"forget_error", b.forget_error},
          {"last_error", b.last_error}};
}

}  // namespace hasup::loop
