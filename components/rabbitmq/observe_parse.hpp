#pragma once
// The management API's answers (GET /api/nodes, /api/queues, with the
// ?columns= the client asks for) into BrokerFacts: whole or not at all, and an
// error naming what was wrong, never the value. The one parser set of the API:
// the driver and the tests use it. Not /api/overview: it asks every node of
// the cluster and waits seconds on one that just crashed (measured in the lab:
// 2.9 s, while /api/nodes answered in 2 ms); the broker's own name is known
// (rabbit@ADDRESS, install.sh names it).
#include <string>

#include "components/rabbitmq/model.hpp"

namespace hasup::rabbitmq {

struct FactsParse {
  BrokerFacts facts;
  std::string error;  // "" when every answer was whole
};
FactsParse parse_facts(const std::string& self, const std::string& nodes, const std::string& queues);
// The nodes' answer alone (no queues, no message count): the cluster's
// membership, all that forgetting a node needs. /api/queues waits seconds on
// a quorum queue's member whose host vanished (measured in the lab: 2.2-3.0 s
// every read for a minute after a node left, while /api/nodes answered in
// 5 ms): the membership must not wait for it.
FactsParse parse_nodes_only(const std::string& self, const std::string& nodes);
// The queues' answer into facts parse_nodes_only made: "" or why not (then
// `facts` is unchanged).
std::string parse_queues_into(const std::string& queues, BrokerFacts& facts);

// The targets whose answers parse_facts takes: only the fields it reads.
inline constexpr const char* kNodesTarget =
    "/api/nodes?columns=name,running,partitions,mem_alarm,disk_free_alarm";
inline constexpr const char* kQueuesTarget = "/api/queues?columns=vhost,name,type,leader,members,online,messages";
// Asks this node only: 200 when it runs without an alarm, 503 with an alarm.
inline constexpr const char* kLocalCheckTarget = "/api/health/checks/local-alarms";

}  // namespace hasup::rabbitmq
