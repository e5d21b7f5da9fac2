// cluster::known_nodes: a node leaves the cluster only through a tombstone
// (hactl forget); a registration merely missing from Consul keeps its peer.
// And the memory file those nodes are kept in: all of it or none.
#include <gtest/gtest.h>

#include "supervisor/cluster/known_nodes.hpp"

namespace hasup::cluster {
namespace {

NodeMap three_nodes() {
  return {{"n1", {"n1", "198.18.0.11", ""}}, {"n2", {"n2", "198.18.0.12", "DEV2"}}, {"n3", {"n3", "198.18.0.13", "DEV3"}}};
}

loop::KvView view_of(const NodeMap& nodes) {
  loop::KvView kv;
  kv.known = true;
  for (const auto& [name, node] : nodes) {
    kv.registered[name] = node.address;
    if (!node.syncthing_device_id.empty()) kv.registered_devices[name] = node.syncthing_device_id;
  }
  return kv;
}

TEST(NodeAddresses, KnownNodesAliveOrNotAndMembersNotRegisteredYet) {
  auto kv = view_of(three_nodes());
  kv.registered.erase("n3");  // missing from Consul, remembered: kept
  cluster::MemberRecord newcomer;
  newcomer.name = "n4";
  newcomer.address = "198.18.0.14";
  kv.members["n4"] = newcomer;  // live, not registered yet
  auto known = known_nodes(kv, three_nodes(), "n1");
  EXPECT_EQ(node_addresses(known, kv),
            (std::set<std::string>{"198.18.0.11", "198.18.0.12", "198.18.0.13", "198.18.0.14"}));
  kv.forgotten.insert("n3");  // forgotten by an operator: gone
  EXPECT_EQ(node_addresses(known_nodes(kv, three_nodes(), "n1"), kv),
            (std::set<std::string>{"198.18.0.11", "198.18.0.12", "198.18.0.14"}));
}

TEST(KnownNodes, InStepWithConsulNothingIsKept) {
  auto known = known_nodes(view_of(three_nodes()), three_nodes(), "n1");
  EXPECT_EQ(known.nodes, three_nodes());
  EXPECT_TRUE(known.kept.empty());
  EXPECT_EQ(known.remembered, three_nodes());
}

// Consul's data lost (every key gone), or an ACL token that cannot read
// nodes/: the view is empty, and no node has left.
TEST(KnownNodes, AnEmptyConsulViewKeepsEveryRememberedNode) {
  loop::KvView empty;
  empty.known = true;
  auto known = known_nodes(empty, three_nodes(), "n1");
  EXPECT_EQ(known.nodes, three_nodes()) << "addresses and device ids as remembered";
  EXPECT_EQ(known.kept, (std::set<std::string>{"n2", "n3"})) << "this node registers itself again: never 'kept'";
}

TEST(KnownNodes, ATombstoneLetsARememberedNodeGo) {
  auto nodes = three_nodes();
  nodes.erase("n3");
  auto kv = view_of(nodes);
  auto known = known_nodes(kv, three_nodes(), "n1");
  EXPECT_EQ(known.kept, std::set<std::string>{"n3"}) << "missing, not forgotten";
  kv.forgotten.insert("n3");
  known = known_nodes(kv, three_nodes(), "n1");
  EXPECT_EQ(known.nodes, nodes);
  EXPECT_TRUE(known.kept.empty());
}

// The node's new address or device id is Consul's; and a node that registers
// after it was forgotten (provisioned again) is a node again.
TEST(KnownNodes, ARegistrationWinsOverTheMemoryAndOverATombstone) {
  auto kv = view_of(three_nodes());
  kv.registered["n2"] = "198.18.0.22";
  kv.registered_devices["n2"] = "DEV2-NEW";
  kv.forgotten.insert("n3");
  auto known = known_nodes(kv, three_nodes(), "n1");
  EXPECT_EQ(known.nodes.at("n2"), (NodeRegistration{"n2", "198.18.0.22", "DEV2-NEW"}));
  EXPECT_EQ(known.nodes.count("n3"), 1u);
  EXPECT_TRUE(known.kept.empty());
}

TEST(KnownNodes, NewRegistrationsJoinTheMemoryUnasked) {
  auto nodes = three_nodes();
  nodes["n4"] = {"n4", "198.18.0.14", ""};
  auto known = known_nodes(view_of(nodes), three_nodes(), "n1");
  EXPECT_EQ(known.nodes, nodes);
  EXPECT_NE(known.nodes, known.remembered) << "decide_cluster remembers the difference";
}

TEST(KnownNodes, NothingIsKnownBeforeTheFirstReadOfConsul) {
  loop::KvView unread;
  auto known = known_nodes(unread, three_nodes(), "n1");
  EXPECT_TRUE(known.nodes.empty());
  EXPECT_TRUE(known.kept.empty());
}

TEST(RememberedNodes, TheFileRoundTrips) {
  auto decoded = decode_remembered(encode_remembered(three_nodes()));
  ASSERT_TRUE(decoded.nodes) << decoded.error;
  EXPECT_EQ(*decoded.nodes, three_nodes());
  auto none = decode_remembered(encode_remembered({}));
  ASSERT_TRUE(none.nodes) << none.error;
  EXPECT_TRUE(none.nodes->empty());
}

// A damaged memory is not half-used: one bad entry and none of it counts.
TEST(RememberedNodes, ABadFileIsRefusedWholeWithAReason) {
  const std::string good = R"({"schema":1,"name":"n2","address":"198.18.0.12"})";
  struct Case {
    std::string text;
    std::string error_has;
  } cases[] = {
      {"", "not a JSON object"},
      {"{\"schema\":1,\"nodes\":[" + good, "not a JSON object"},  // cut short by a crash
      {"[]", "not a JSON object"},
      {R"({"schema":2,"nodes":[]})", "schema"},
      {R"({"schema":1})", "\"nodes\""},
      {"{\"schema\":1,\"nodes\":[" + good + ",42]}", "a node is not"},
      {R"({"schema":1,"nodes":[{"schema":1,"name":"n2"}]})", "a node is not"},
      {R"({"schema":1,"nodes":[{"schema":1,"name":"N2\r\nX: y","address":"198.18.0.12"}]})", "node name"},
      {R"({"schema":1,"nodes":[{"schema":1,"name":"n2","address":"198.18.0.12 }"}]})", "address"},
      {"{\"schema\":1,\"nodes\":[" + good + "," + good + "]}", "twice"},
  };
  for (const auto& c : cases) {
    auto decoded = decode_remembered(c.text);
    EXPECT_FALSE(decoded.nodes) << c.text;
    EXPECT_NE(decoded.error.find(c.error_has), std::string::npos) << c.text << " -> " << decoded.error;
  }
}

}  // namespace
}  // namespace hasup::cluster
