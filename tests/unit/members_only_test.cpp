// Members-only ports (components/members-only): the kernel table that lets
// only the cluster's nodes reach the upload gate on a node's address, and the
// decision that keeps it equal to the nodes the cluster knows.
#include <gtest/gtest.h>

#include "components/members-only/decide.hpp"
#include "components/members-only/rule.hpp"
#include "known_nodes_helper.hpp"
#include "supervisor/config/config.hpp"

namespace hasup::loop {
namespace {

using members_only::parse_ports;
using members_only::ports_problem;
using members_only::render_members_only;
using Addresses = std::set<std::string>;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Snapshot three_nodes() {
  Snapshot s;
  s.self = "n1";
  s.self_address = "198.18.0.11";
  s.kv.known = true;
  s.kv.registered = {{"n1", "198.18.0.11"}, {"n2", "198.18.0.12"}, {"n3", "198.18.0.13"}};
  testing_support::derive_known_nodes(s);
  s.members_only.enabled = true;
  s.members_only.ports = {8100};
  return s;
}

const ApplyMembersOnly* planned(const Plan& plan) {
  for (const auto& a : plan.actions)
    if (auto apply = std::get_if<ApplyMembersOnly>(&a)) return apply;
  return nullptr;
}

TEST(MembersOnlyRule, DropsNewConnectionsToThePortsFromAnyoneButTheNodesAndNeverLoopback) {
  auto script = render_members_only("n1", {"198.18.0.12", "198.18.0.11"}, {8100, 8443});
  ASSERT_EQ(script.error, "");
  EXPECT_TRUE(contains(script.text, "table ip ha_supervisor_members_only\ndelete table ip ha_supervisor_members_only\n"))
      << "replaced whole, in one transaction";
  EXPECT_TRUE(contains(script.text, "    iifname \"lo\" accept\n"
                                    "    tcp dport { 8100, 8443 } ip saddr != { 198.18.0.11, 198.18.0.12 } counter drop\n"))
      << script.text;
  EXPECT_TRUE(contains(script.text, "policy accept;")) << "every other port is left alone";
}

TEST(MembersOnlyRule, NothingIsLoadedForAnAddressThatIsNotIPv4OrWithoutAnyAddressOrPort) {
  auto v6 = render_members_only("n1", {"198.18.0.11", "fd00::2"}, {8100});
  EXPECT_TRUE(v6.text.empty());
  EXPECT_TRUE(contains(v6.error, "\"fd00::2\": not an IPv4 address")) << v6.error;
  auto injected = render_members_only("n1", {"198.18.0.11 } accept; #"}, {8100});
  EXPECT_TRUE(injected.text.empty()) << "an address is never spliced into the script unchecked";
  EXPECT_FALSE(render_members_only("n1", {}, {8100}).error.empty());
  EXPECT_FALSE(render_members_only("n1", {"198.18.0.11"}, {}).error.empty());
}

TEST(MembersOnlyRule, PortListsAreCheckedWhole) {
  EXPECT_EQ(ports_problem("8100"), "");
  EXPECT_EQ(ports_problem("8100,8443"), "");
  EXPECT_EQ(parse_ports("8100,8443"), (std::vector<int>{8100, 8443}));
  EXPECT_NE(ports_problem(""), "");
  EXPECT_NE(ports_problem("8100,"), "");
  EXPECT_NE(ports_problem("0"), "");
  EXPECT_NE(ports_problem("65536"), "");
  EXPECT_NE(ports_problem("81 00"), "");
  EXPECT_NE(ports_problem("8100;drop"), "");
}

TEST(DecideMembersOnly, LoadsTheTableOfEveryKnownNodeThisOneIncluded) {
  auto s = three_nodes();
  Plan plan;
  auto note = decide_members_only(plan, s);
  const auto* apply = planned(plan);
  ASSERT_NE(apply, nullptr) << note;
  EXPECT_EQ(apply->script, render_members_only("n1", {"198.18.0.11", "198.18.0.12", "198.18.0.13"}, {8100}).text);
  EXPECT_TRUE(contains(note, "TCP 8100 from the cluster's nodes only")) << note;
  // Loaded: nothing more to do.
  s.members_only.applied = apply->script;
  Plan again;
  EXPECT_EQ(decide_members_only(again, s), "");
  EXPECT_EQ(planned(again), nullptr);
}

TEST(DecideMembersOnly, ANodeThatJoinsIsAdmittedAndOneForgottenIsNot) {
  auto s = three_nodes();
  s.members_only.applied = render_members_only("n1", {"198.18.0.11", "198.18.0.12", "198.18.0.13"}, {8100}).text;
  s.kv.registered["n4"] = "198.18.0.14";
  testing_support::derive_known_nodes(s);
  Plan joined;
  decide_members_only(joined, s);
  ASSERT_NE(planned(joined), nullptr);
  EXPECT_TRUE(contains(planned(joined)->script, "198.18.0.14"));

  auto f = three_nodes();
  f.kv.registered.erase("n3");
  f.kv.forgotten.insert("n3");
  testing_support::derive_known_nodes(f);
  Plan forgotten;
  decide_members_only(forgotten, f);
  ASSERT_NE(planned(forgotten), nullptr);
  EXPECT_FALSE(contains(planned(forgotten)->script, "198.18.0.13")) << "hactl forget closes the door too";
}

TEST(DecideMembersOnly, CutOffFromConsulItKeepsAdmittingTheNodesItKnows) {
  auto s = three_nodes();
  const auto loaded = render_members_only("n1", {"198.18.0.11", "198.18.0.12", "198.18.0.13"}, {8100}).text;
  s.members_only.applied = loaded;
  s.kv = {};  // no current view of Consul's keys: only the memory of known nodes
  Plan plan;
  EXPECT_EQ(decide_members_only(plan, s), "");
  EXPECT_EQ(planned(plan), nullptr) << "the peers' nginx still reach this gate";
}

TEST(DecideMembersOnly, ATableNftRefusedIsNotAskedForAgainUntilItChangesNorWhileALoadRuns) {
  auto s = three_nodes();
  s.members_only.refused = render_members_only("n1", {"198.18.0.11", "198.18.0.12", "198.18.0.13"}, {8100}).text;
  s.members_only.error = "nft: Operation not permitted";
  Plan plan;
  auto note = decide_members_only(plan, s);
  EXPECT_EQ(planned(plan), nullptr);
  EXPECT_TRUE(contains(note, "Operation not permitted")) << note;
  s.kv.registered["n4"] = "198.18.0.14";
  testing_support::derive_known_nodes(s);
  Plan changed;
  decide_members_only(changed, s);
  EXPECT_NE(planned(changed), nullptr);
  s.busy.insert(Job::apply_members_only);
  Plan busy;
  decide_members_only(busy, s);
  EXPECT_EQ(planned(busy), nullptr);
}

TEST(MembersOnlyStatus, SaysThePortsAndWhetherTheKernelHoldsTheCurrentTable) {
  auto s = three_nodes();
  auto status = members_only_status(s);
  EXPECT_EQ(status["ports"], nlohmann::json::array({8100}));
  EXPECT_EQ(status["table_current"], false);
  s.members_only.applied = render_members_only("n1", {"198.18.0.11", "198.18.0.12", "198.18.0.13"}, {8100}).text;
  EXPECT_EQ(members_only_status(s)["table_current"], true);
}

TEST(MembersOnlyConfig, APortListThatIsNotOneIsRefused) {
  auto loaded = config::load_string("node: { name = \"n1\"; address = \"198.18.0.11\"; };\n"
                                    "members_only: { enabled = true; ports = \"8100;x\"; };\n",
                                    "test");
  ASSERT_FALSE(loaded.config);
  ASSERT_FALSE(loaded.errors.empty());
  EXPECT_EQ(loaded.errors.front().key, "members_only.ports");
}

}  // namespace
}  // namespace hasup::loop
