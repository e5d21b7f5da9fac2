// The founder an operator accepts after a whole-cluster power loss
// (components/cold-start): the stored record, the dry run's rule, and the
// steps decide() takes from snapshots.
#include <gtest/gtest.h>

#include "components/cold-start/decide.hpp"
#include "components/cold-start/record.hpp"
#include "components/patroni/keys_copy.hpp"
#include "supervisor/loop/components.hpp"

namespace hasup::loop {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

db::DbMember member(const char* name, std::uint64_t wal) {
  db::DbMember m;
  m.name = name;
  m.role = db::DbRole::replica;
  m.wal_position = wal;
  return m;
}

// After the power loss: Patroni waits for n1 (its sync key's leader), n1 is
// down; n2 and n3 are up, n2 1500 bytes behind the primary's last record.
Snapshot waiting_for_n1(const std::string& self = "n2") {
  Snapshot s;
  s.self = self;
  s.consul.quorum_reachable = true;
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.cluster_known = true;
  s.db.cluster.initialized = true;
  s.db.cluster.promotable = {"n1"};
  s.db.cluster.primary_wal_position = 10000;
  s.db.cluster.members = {member("n2", 8500), member("n3", 10000)};
  s.cold_start.enabled = true;
  return s;
}

void accept(Snapshot& s, const std::string& node, std::uint64_t index = 42) {
  s.kv.cold_start = KvView::StoredValue{cold_start::encode({node, "api@n2", "2026-12-05T16:00:00Z"}), index};
}

TEST(ColdStartRecord, RoundTripsAndRefusesAnythingHalfRight) {
  cold_start::AcceptRecord r{"n2", "api@n3", "2026-12-05T16:00:00Z"};
  auto back = cold_start::decode_accept(cold_start::encode(r));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(*back.record, r);
  EXPECT_FALSE(cold_start::decode_accept("[]").record);
  EXPECT_FALSE(cold_start::decode_accept("{\"schema\":2,\"node\":\"n2\"}").record);
  auto no_node = cold_start::decode_accept(R"({"schema":1,"requested_by":"x","requested_at":"t"})");
  EXPECT_TRUE(contains(no_node.error, "missing node")) << no_node.error;
  auto bad_name = cold_start::decode_accept(R"({"schema":1,"node":"N2; rm","requested_by":"x","requested_at":"t"})");
  EXPECT_FALSE(bad_name.record);
  EXPECT_TRUE(contains(bad_name.error, "node")) << bad_name.error;
  auto escape = cold_start::decode_accept("{\"schema\":1,\"node\":\"n2\",\"requested_by\":\"\\u001b[2J\",\"requested_at\":\"t\"}");
  EXPECT_FALSE(escape.record) << "a terminal escape is not shown to the operator";
}

TEST(ColdStartPreview, AllowsAMemberThatIsUpWhenNoneOfThoseItWaitsForIs) {
  auto s = waiting_for_n1();
  auto p = preview_accept(s, "n2");
  EXPECT_EQ(p.refusal, "");
  EXPECT_EQ(p.waits_for, std::vector<std::string>{"n1"});
  EXPECT_TRUE(contains(p.loses, "at least 1500 bytes of WAL")) << p.loses;
  EXPECT_TRUE(contains(preview_accept(s, "n3").loses, "at least 0 bytes")) << "0 is still a lower bound";
}

TEST(ColdStartPreview, RefusesWheneverPatroniCanDecideOrNothingIsKnown) {
  auto refusal = [](Snapshot s, const std::string& node = "n2") { return preview_accept(s, node).refusal; };
  auto s = waiting_for_n1();
  EXPECT_TRUE(contains(refusal(s, "n4"), "n4 is not up as a member")) << refusal(s, "n4");
  auto up = s;
  up.db.cluster.members.push_back(member("n1", 10000));
  EXPECT_TRUE(contains(refusal(up), "n1 is up and may hold every acknowledged commit")) << refusal(up);
  auto primary = s;
  primary.db.cluster.primary = "n3";
  EXPECT_TRUE(contains(refusal(primary), "has a primary (n3)"));
  auto no_sync = s;
  no_sync.db.cluster.promotable.clear();
  EXPECT_TRUE(contains(refusal(no_sync), "its own election decides"));
  auto cut_off = s;
  cut_off.consul.quorum_reachable = false;
  EXPECT_TRUE(contains(refusal(cut_off), "no quorum"));
  auto unread = s;
  unread.db.cluster_known = false;
  EXPECT_TRUE(contains(refusal(unread), "not read yet"));
  auto uninitialised = s;
  uninitialised.db.cluster.initialized = false;
  EXPECT_TRUE(contains(refusal(uninitialised), "no initialize key"));
  auto stolon = s;
  stolon.db.backend = "stolon";
  EXPECT_TRUE(contains(refusal(stolon), "Patroni backend"));
}

// Consul's data lost, and the copies of Patroni's records on fewer than a
// majority of the nodes: n2 holds one (index 77), n1 and n3 none.
Snapshot records_lost_copy_on_n2(const std::string& self = "n2") {
  Snapshot s = waiting_for_n1(self);
  s.db.cluster = {};
  s.db.cluster.initialized = false;
  for (const char* n : {"n1", "n2", "n3"}) s.known.nodes[n] = {n, std::string("198.18.0.1") + n[1], ""};
  cluster::MemberRecord n2;
  n2.name = "n2";
  n2.patroni_keys_index = 77;
  if (self == "n2")
    s.db.patroni.keys_copy = patroni::KeysCopy{77, "7390000000000000001", "{}", std::nullopt};
  else
    s.kv.members["n2"] = n2;
  return s;
}

TEST(ColdStartPreview, WithConsulsDataLostOnlyANodeHoldingACopyOfAMinorityMayBeAccepted) {
  Snapshot s = records_lost_copy_on_n2();
  auto p = preview_accept(s, "n2");
  EXPECT_EQ(p.refusal, "");
  EXPECT_TRUE(contains(p.loses, "newer than n2's copy of Patroni's records (index 77) on n1, n3")) << p.loses;

  auto none = preview_accept(s, "n3");
  EXPECT_TRUE(contains(none.refusal, "n3, holds none")) << none.refusal;

  cluster::MemberRecord n3;
  n3.name = "n3";
  n3.patroni_keys_index = 70;
  s.kv.members["n3"] = n3;  // a majority holds copies: the rule decides, not the operator
  EXPECT_TRUE(contains(preview_accept(s, "n2").refusal, "a majority of the nodes hold copies"));

  Snapshot bare = records_lost_copy_on_n2("n1");
  bare.kv.members.clear();
  EXPECT_TRUE(contains(preview_accept(bare, "n1").refusal, "no node holds a copy"));
}

TEST(ColdStartDecide, WithConsulsDataLostTheAcceptedNodeWritesItsCopyBackInsteadOfAskingPatroni) {
  Snapshot s = records_lost_copy_on_n2();
  accept(s, "n2");
  Plan plan;
  auto note = decide_cold_start(plan, s);
  EXPECT_EQ(plan.find<AcceptColdStart>(), nullptr) << "Patroni is held stopped: nothing to ask it yet";
  EXPECT_TRUE(contains(note, "written back from this node's copy first")) << note;

  Snapshot other = records_lost_copy_on_n2("n1");
  accept(other, "n2");
  Plan theirs;
  EXPECT_TRUE(contains(decide_cold_start(theirs, other), "its supervisor writes Patroni's records back from its copy"));
  EXPECT_TRUE(theirs.actions.empty());
}

TEST(ColdStartDecide, OnlyTheAcceptedNodeAsksPatroniAndNotAgainUntilItsAnswerAged) {
  auto s = waiting_for_n1("n2");
  accept(s, "n2");
  Plan plan;
  auto note = decide_cold_start(plan, s);
  const auto* ask = plan.find<AcceptColdStart>();
  ASSERT_NE(ask, nullptr) << note;
  EXPECT_EQ(ask->node, "n2");
  EXPECT_TRUE(contains(note, "accepted as founder by api@n2")) << note;
  EXPECT_TRUE(contains(note, "1500 bytes")) << note;

  auto other = waiting_for_n1("n3");
  accept(other, "n2");
  Plan elsewhere;
  EXPECT_TRUE(contains(decide_cold_start(elsewhere, other), "its supervisor asks Patroni"));
  EXPECT_TRUE(elsewhere.actions.empty());

  s.busy.insert(Job::accept_cold_start);
  Plan busy;
  decide_cold_start(busy, s);
  EXPECT_TRUE(busy.actions.empty());
  s.busy.clear();
  s.cold_start.last_attempt = ColdStartView::Attempt{"n2", std::chrono::milliseconds(1000), false, "HTTP 412 \"no\""};
  Plan soon;
  EXPECT_TRUE(contains(decide_cold_start(soon, s), "Patroni answered: HTTP 412"));
  EXPECT_TRUE(soon.actions.empty());
  ASSERT_TRUE(soon.wake_after);
  EXPECT_EQ(*soon.wake_after, kColdStartRetry - std::chrono::milliseconds(1000));
  s.cold_start.last_attempt->ago = kColdStartRetry;
  Plan again;
  decide_cold_start(again, s);
  EXPECT_NE(again.find<AcceptColdStart>(), nullptr);
}

TEST(ColdStartDecide, AMemberItWaitedForThatCameBackFirstStopsTheAsking) {
  auto s = waiting_for_n1("n2");
  accept(s, "n2");
  s.db.cluster.members.push_back(member("n1", 10000));
  Plan plan;
  auto note = decide_cold_start(plan, s);
  EXPECT_TRUE(plan.actions.empty()) << note;
  EXPECT_TRUE(contains(note, "not now: n1 is up")) << note;
}

TEST(ColdStartDecide, ThePrimarysNodeDropsTheAcceptanceOnceThereIsOne) {
  auto s = waiting_for_n1("n2");
  accept(s, "n2", 77);
  s.db.cluster.primary = "n2";
  Plan plan;
  decide_cold_start(plan, s);
  const auto* drop = plan.find<DropColdStartAccept>();
  ASSERT_NE(drop, nullptr);
  EXPECT_EQ(drop->index, 77u) << "a check-and-set: a newer acceptance is not dropped";
  EXPECT_TRUE(contains(drop->said, "it is primary, the acceptance is done")) << drop->said;

  auto overtaken = waiting_for_n1("n1");
  accept(overtaken, "n2");
  overtaken.db.cluster.primary = "n1";
  Plan first;
  decide_cold_start(first, overtaken);
  ASSERT_NE(first.find<DropColdStartAccept>(), nullptr);
  EXPECT_TRUE(contains(first.find<DropColdStartAccept>()->said, "dropped, n1 is primary"));

  auto replica = waiting_for_n1("n3");
  accept(replica, "n2");
  replica.db.cluster.primary = "n2";
  Plan none;
  decide_cold_start(none, replica);
  EXPECT_TRUE(none.actions.empty()) << "one node drops it: the primary's";
}

TEST(ColdStartDecide, AnUnreadableAcceptanceIsNamedAndNeverActedOn) {
  auto s = waiting_for_n1("n2");
  s.kv.cold_start = KvView::StoredValue{"{\"schema\":1,\"node\":\"n2\"}", 5};
  Plan plan;
  auto note = decide_cold_start(plan, s);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(contains(note, "unreadable")) << note;
  EXPECT_TRUE(contains(cold_start_status(s).dump(), "accepted_unreadable"));
}

TEST(ColdStartDecide, StolonNodesDoNothingWithIt) {
  auto s = waiting_for_n1("n2");
  accept(s, "n2");
  s.cold_start.enabled = false;
  Plan plan;
  EXPECT_EQ(decide_cold_start(plan, s), "");
  EXPECT_TRUE(plan.actions.empty());
}

}  // namespace
}  // namespace hasup::loop
