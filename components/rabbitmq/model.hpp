#pragma once
// The broker cluster as the supervisor knows it: plain facts read from the
// local broker's management API, the cluster's founder (the seed) as kept in
// Consul, and the rules that name brokers. No I/O here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hasup::rabbitmq {

// One node of the local broker's cluster (GET /api/nodes).
struct BrokerNode {
  std::string name;  // rabbit@ADDRESS
  bool running = false;
  std::vector<std::string> partitions;  // nodes it cannot reach (a partition RabbitMQ saw)
  bool memory_alarm = false;
  bool disk_alarm = false;
  bool operator==(const BrokerNode&) const = default;
};

// A quorum queue (GET /api/queues): its Raft members and leader.
struct QuorumQueue {
  std::string vhost;
  std::string name;
  std::string leader;                // "" while it has none
  std::vector<std::string> members;  // its replicas
  std::vector<std::string> online;   // the replicas that answer
  std::uint64_t messages = 0;
  bool operator==(const QuorumQueue&) const = default;
};

// One whole read of the local broker; never a partial one.
struct BrokerFacts {
  std::string node;          // this broker's name, rabbit@ADDRESS
  std::vector<BrokerNode> nodes;     // every node of its cluster, itself included
  std::vector<QuorumQueue> queues;   // quorum queues only
  std::uint64_t messages = 0;        // in every queue, of any type
  bool operator==(const BrokerFacts&) const = default;

  const BrokerNode* find(const std::string& name) const;
  const BrokerNode* self() const { return find(node); }
  // The names of its cluster's nodes that run, sorted.
  std::vector<std::string> running() const;
};

// The node whose broker founded the cluster, written once (create-only) at
// PREFIX/broker/seed; every other node's broker joins it.
struct BrokerSeed {
  std::string node;    // the supervisor's node name
  std::string broker;  // rabbit@ADDRESS
  bool operator==(const BrokerSeed&) const = default;
};
std::string encode(const BrokerSeed& seed);
// The seed, or why the value is not one (it is reported, never acted on).
struct SeedDecode {
  std::optional<BrokerSeed> seed;
  std::string error;
};
SeedDecode decode_seed(const std::string& json_text);

// rabbit@ADDRESS: the node names are addresses (long names), so no node
// depends on host name resolution to reach another.
std::string broker_name_of(const std::string& address);
// The address in rabbit@ADDRESS when it is an IPv4 literal; nullopt otherwise.
std::optional<std::string> address_of_broker(const std::string& name);

}  // namespace hasup::rabbitmq
