// Dead peers (components/dead-peers): which peers this node stops waiting
// for, the kernel table that does it, and the decision that keeps the table
// equal to what the local agent's gossip says now.
#include <gtest/gtest.h>

#include "components/dead-peers/decide.hpp"
#include "components/pause/record.hpp"
#include "components/dead-peers/rule.hpp"
#include "known_nodes_helper.hpp"
#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/status_table.hpp"
#include "supervisor/consul/parse.hpp"

namespace hasup::loop {
namespace {

using dead_peers::failed_peers;
using dead_peers::render_dead_peers;
using Peers = std::map<std::string, std::string>;

Snapshot three_nodes() {
  Snapshot s;
  s.self = "n1";
  s.kv.known = true;
  s.kv.registered = {{"n1", "198.18.0.11"}, {"n2", "198.18.0.12"}, {"n3", "198.18.0.13"}};
  testing_support::derive_known_nodes(s);
  s.dead_peers.enabled = true;
  s.consul.gossip_known = true;
  s.consul.gossip = {{"198.18.0.11", "alive"}, {"198.18.0.12", "alive"}, {"198.18.0.13", "alive"},
                         {"198.18.0.19", "alive"}};
  // The empty table is loaded, as after the first cycle.
  s.dead_peers.applied = render_dead_peers("n1", {}, {}).text;
  return s;
}

TEST(DeadPeersRule, OnlyClusterNodesGossipCallsFailedAreRefused) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  s.consul.gossip["198.18.0.13"] = "left";   // a clean leave closes its connections itself
  s.consul.gossip["198.18.0.19"] = "failed";  // a Consul-only witness: not a node this one talks to
  s.consul.gossip["198.18.0.20"] = s.consul.gossip["198.18.0.21"] = "alive";  // so this side is the majority
  EXPECT_EQ(failed_peers(s.known.nodes, s.consul.gossip, "n1"), (Peers{{"n2", "198.18.0.12"}}));
}

TEST(DeadPeersRule, ANodeWhoseGossipSeesOnlyAMinorityAliveRefusesNobody) {
  // n1 cut off: its agent calls every other agent failed. Refusing them would
  // keep its own Consul agent from the servers until gossip heals.
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  s.consul.gossip["198.18.0.13"] = "failed";
  s.consul.gossip["198.18.0.19"] = "failed";
  EXPECT_TRUE(failed_peers(s.known.nodes, s.consul.gossip, "n1").empty());
  // Two of four alive is not a majority either.
  s.consul.gossip["198.18.0.19"] = "alive";
  EXPECT_TRUE(failed_peers(s.known.nodes, s.consul.gossip, "n1").empty());
  // Three of four is: both managers gossip calls failed are refused.
  s.consul.gossip["198.18.0.12"] = "alive";
  EXPECT_EQ(failed_peers(s.known.nodes, s.consul.gossip, "n1"), (Peers{{"n3", "198.18.0.13"}}));
}

TEST(DeadPeersRule, TwoManagersAndAWitnessRefuseTheCrashedManager) {
  Snapshot s;
  s.self = "n1";
  s.kv.known = true;
  s.kv.registered = {{"n1", "198.18.0.11"}, {"n2", "198.18.0.12"}};
  testing_support::derive_known_nodes(s);
  // The witness w1 (Consul only) makes the survivor's side a majority.
  std::map<std::string, std::string> gossip{{"198.18.0.11", "alive"}, {"198.18.0.12", "failed"}, {"198.18.0.19", "alive"}};
  EXPECT_EQ(failed_peers(s.known.nodes, gossip, "n1"), (Peers{{"n2", "198.18.0.12"}}));
  gossip["198.18.0.19"] = "left";  // a witness that left cleanly counts for neither side
  EXPECT_TRUE(failed_peers(s.known.nodes, gossip, "n1").empty());
}

TEST(DeadPeersRule, ThisNodeIsNeverRefusedEvenWhenItsOwnAgentCallsItFailed) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.11"] = "failed";
  EXPECT_TRUE(failed_peers(s.known.nodes, s.consul.gossip, "n1").empty());
}

TEST(DeadPeersRule, APeerWhoseGossipAddressIsNotItsRegisteredOneIsNotMatched) {
  auto s = three_nodes();
  s.consul.gossip.erase("198.18.0.12");
  s.consul.gossip["198.18.0.112"] = "failed";  // n2 gossips from another address
  EXPECT_TRUE(failed_peers(s.known.nodes, s.consul.gossip, "n1").empty());
}

TEST(DeadPeersRule, TheTableRefusesOnlyConnectionsThisNodeOpensAndNeverConsulsGossipOrRaftPort) {
  auto script = render_dead_peers("n1", {{"n2", "198.18.0.12"}, {"n3", "198.18.0.13"}}, {8301, 8300});
  ASSERT_EQ(script.error, "");
  EXPECT_NE(script.text.find("elements = { 198.18.0.12, 198.18.0.13 }"), std::string::npos) << script.text;
  EXPECT_NE(script.text.find("hook output"), std::string::npos) << script.text;
  EXPECT_NE(script.text.find("ip daddr @failed tcp dport != { 8301, 8300 } ct direction original counter reject with tcp reset"),
            std::string::npos)
      << script.text;
  // Replaced whole: the table is made to exist, deleted, and written again in one script.
  EXPECT_EQ(script.text.find("table ip ha_supervisor_dead_peers\ndelete table ip ha_supervisor_dead_peers\n") !=
                std::string::npos,
            true)
      << script.text;
}

TEST(DeadPeersRule, AnEmptySetIsAValidTable) {
  auto script = render_dead_peers("n1", {}, {});
  ASSERT_EQ(script.error, "");
  EXPECT_EQ(script.text.find("elements"), std::string::npos) << script.text;
}

TEST(DeadPeersRule, AnAddressThatIsNotIPv4IsRefusedWhole) {
  auto script = render_dead_peers("n1", {{"n2", "198.18.0.12"}, {"n3", "fd00::13"}}, {});
  EXPECT_EQ(script.text, "");
  EXPECT_NE(script.error.find("n3's address"), std::string::npos) << script.error;
  script = render_dead_peers("n1", {{"n2", "198.18.0.12 } ; flush ruleset"}}, {});
  EXPECT_EQ(script.text, "");
  EXPECT_NE(script.error.find("not an IPv4 address"), std::string::npos) << script.error;
}

TEST(DecideDeadPeers, NothingToDoWhileEveryPeerIsAlive) {
  auto s = three_nodes();
  Plan plan;
  EXPECT_EQ(decide_dead_peers(plan, s), "");
  EXPECT_TRUE(plan.actions.empty());
}

TEST(DecideDeadPeers, APeerGossipCallsFailedIsRefusedAndTheReasonNamesIt) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  Plan plan;
  auto note = decide_dead_peers(plan, s);
  const auto* apply = plan.find<ApplyDeadPeers>();
  ASSERT_NE(apply, nullptr);
  EXPECT_EQ(apply->peers, (Peers{{"n2", "198.18.0.12"}}));
  EXPECT_EQ(apply->script, render_dead_peers("n1", apply->peers, {}).text);
  EXPECT_NE(note.find("n2 (198.18.0.12) is refused at once"), std::string::npos) << note;

  // Loaded: nothing more to do.
  s.dead_peers.applied = apply->script;
  Plan after;
  EXPECT_EQ(decide_dead_peers(after, s), "");
  EXPECT_TRUE(after.actions.empty());
}

TEST(DecideDeadPeers, APeerGossipCallsAliveAgainIsLetThroughAgain) {
  auto s = three_nodes();
  s.dead_peers.applied = render_dead_peers("n1", {{"n2", "198.18.0.12"}}, {}).text;
  Plan plan;
  decide_dead_peers(plan, s);
  const auto* apply = plan.find<ApplyDeadPeers>();
  ASSERT_NE(apply, nullptr);
  EXPECT_TRUE(apply->peers.empty());
}

// Paused (work on Consul: a stopped agent makes its live node "failed" in
// the gossip): nobody is refused, and a refusal in force is lifted.
TEST(DecideDeadPeers, WhileTheClusterIsPausedNobodyIsRefused) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  s.dead_peers.applied = render_dead_peers("n1", {{"n2", "198.18.0.12"}}, {}).text;
  pause::PauseRecord paused{true, "api@n3", "2026-12-06T03:12:10Z", "Consul upgrade"};
  s.kv.pause = KvView::StoredValue{pause::encode(paused), 9};
  Plan plan;
  decide_dead_peers(plan, s);
  const auto* apply = plan.find<ApplyDeadPeers>();
  ASSERT_NE(apply, nullptr);
  EXPECT_TRUE(apply->peers.empty());
  EXPECT_TRUE(dead_peers_status(s)["failed_peers"].empty());
}

TEST(DecideDeadPeers, WithoutAnAnswerFromTheLocalAgentNothingIsRefused) {
  auto s = three_nodes();
  s.dead_peers.applied = render_dead_peers("n1", {{"n2", "198.18.0.12"}}, {}).text;
  s.consul.gossip["198.18.0.12"] = "failed";  // as last read, before the agent stopped answering
  s.consul.gossip_known = false;
  Plan plan;
  decide_dead_peers(plan, s);
  const auto* apply = plan.find<ApplyDeadPeers>();
  ASSERT_NE(apply, nullptr);
  EXPECT_TRUE(apply->peers.empty());
}

TEST(DecideDeadPeers, ATableNftRefusedIsNotAskedForAgainUntilItChanges) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  s.dead_peers.refused = render_dead_peers("n1", {{"n2", "198.18.0.12"}}, {}).text;
  s.dead_peers.error = "nft: Operation not permitted";
  Plan plan;
  auto note = decide_dead_peers(plan, s);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_NE(note.find("Operation not permitted"), std::string::npos) << note;

  s.consul.gossip["198.18.0.13"] = "failed";
  s.consul.gossip["198.18.0.20"] = "alive";  // three of five alive: still the majority
  Plan changed;
  decide_dead_peers(changed, s);
  EXPECT_TRUE(changed.has<ApplyDeadPeers>());
}

TEST(DecideDeadPeers, ALoadStillRunningIsNotAskedForTwice) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  s.busy.insert(Job::apply_dead_peers);
  Plan plan;
  decide_dead_peers(plan, s);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(DecideDeadPeers, ANodeForgottenOrNeverRegisteredIsNotRefused) {
  auto s = three_nodes();
  s.kv.registered.erase("n3");
  s.kv.forgotten.insert("n3");
  testing_support::derive_known_nodes(s);
  s.consul.gossip["198.18.0.13"] = "failed";
  Plan plan;
  EXPECT_EQ(decide_dead_peers(plan, s), "");
  EXPECT_TRUE(plan.actions.empty());
}

TEST(DeadPeersStatus, SaysWhichPeersAreRefusedAndWhetherTheTableHoldsThem) {
  auto s = three_nodes();
  s.consul.gossip["198.18.0.12"] = "failed";
  auto status = dead_peers_status(s);
  EXPECT_EQ(status["failed_peers"], (nlohmann::json{{"n2", "198.18.0.12"}}));
  EXPECT_EQ(status["table_current"], false);
  s.dead_peers.applied = render_dead_peers("n1", {{"n2", "198.18.0.12"}}, {}).text;
  EXPECT_EQ(dead_peers_status(s)["table_current"], true);
}

TEST(DeadPeersStatus, HactlStatusSaysWhichPeersAreRefusedOnlyWhenThereAreSome) {
  auto s = three_nodes();
  Plan plan;
  std::string table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_EQ(table.find("dead peers"), std::string::npos) << table;
  s.consul.gossip["198.18.0.12"] = "failed";
  s.dead_peers.applied = render_dead_peers("n1", {{"n2", "198.18.0.12"}}, {}).text;
  table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_NE(table.find("dead peers: this node's TCP to n2 (198.18.0.12) is refused at once (Consul's gossip: failed)\n"),
            std::string::npos)
      << table;
  s.dead_peers.error = "nft: Operation not permitted";
  table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_NE(table.find("dead peers: nft refused the table: nft: Operation not permitted"), std::string::npos) << table;
}

TEST(ConsulParse, AgentMembersGiveEachNodesGossipStatus) {
  const std::string body = R"([
    {"Name":"consul-n1","Addr":"198.18.0.11","Port":8301,"Tags":{"role":"consul"},"Status":1,"ProtocolMin":1},
    {"Name":"consul-n2","Addr":"198.18.0.12","Port":8301,"Tags":{},"Status":4},
    {"Name":"consul-n3","Addr":"198.18.0.13","Port":8301,"Tags":{},"Status":3},
    {"Name":"odd","Addr":"198.18.0.14","Port":8301,"Tags":{},"Status":9}])";
  auto members = consul::parse_agent_members(body);
  ASSERT_TRUE(members) << members.error().to_string();
  ASSERT_EQ(members.value().size(), 4u);
  EXPECT_EQ(members.value()[0].name, "consul-n1");
  EXPECT_EQ(members.value()[0].address, "198.18.0.11");
  EXPECT_EQ(members.value()[0].status, "alive");
  EXPECT_EQ(members.value()[1].status, "failed");
  EXPECT_EQ(members.value()[2].status, "left");
  EXPECT_EQ(members.value()[3].status, "unknown 9");
}

TEST(ConsulParse, AgentMembersHalfReadAreRefusedWhole) {
  EXPECT_FALSE(consul::parse_agent_members(R"({"Name":"n1"})"));
  EXPECT_FALSE(consul::parse_agent_members(R"([{"Name":"n1","Addr":"198.18.0.11","Status":1},{"Name":"n2"}])"));
  EXPECT_FALSE(consul::parse_agent_members(R"([{"Name":"n1","Addr":"198.18.0.11","Status":"alive"}])"));
  EXPECT_FALSE(consul::parse_agent_members("[{"));
}

}  // namespace
}  // namespace hasup::loop
