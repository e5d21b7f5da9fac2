// The quorum decision: "all-connected" with min_peers, a number of peers,
// peers dropping out mid-wait, and that nobody holding the change is never
// success. Also the verdict each outcome turns into.
#include <gtest/gtest.h>

#include "components/upload-gate/quorum.hpp"
#include "components/upload-gate/replication_wait.hpp"
#include "components/upload-gate/verdict.hpp"

namespace hasup::upload_gate {
namespace {

using Names = std::vector<std::string>;

const Peer n2{"ID-N2", "n2", true}, n3{"ID-N3", "n3", true};
Peer down(Peer p) {
  p.connected = false;
  return p;
}

TEST(GateQuorum, AllConnectedNeedsEveryConnectedPeer) {
  QuorumRule all;
  auto both = decide_quorum(all, {n2, n3}, {"ID-N2", "ID-N3"});
  EXPECT_TRUE(both.met);
  EXPECT_EQ(both.replicated_to, (Names{"n2", "n3"}));
  EXPECT_TRUE(both.missing.empty());

  auto one = decide_quorum(all, {n2, n3}, {"ID-N2"});
  EXPECT_FALSE(one.met);
  ASSERT_EQ(one.missing.size(), 1u);
  EXPECT_EQ(join_missing(one.missing), "n3 (not in sync yet)");
}

TEST(GateQuorum, APeerThatDisconnectsDropsOutButMinPeersStays) {
  QuorumRule all;
  auto n3_gone = decide_quorum(all, {n2, down(n3)}, {"ID-N2"});
  EXPECT_TRUE(n3_gone.met);
  EXPECT_EQ(join_names(n3_gone.replicated_to), "n2");
  EXPECT_EQ(join_missing(n3_gone.missing), "n3 (not connected)");

  auto everyone_gone = decide_quorum(all, {down(n2), down(n3)}, {});
  EXPECT_FALSE(everyone_gone.met);
  EXPECT_EQ(everyone_gone.reason, "no peer reachable");

  QuorumRule two_min = all;
  two_min.min_peers = 2;
  EXPECT_FALSE(decide_quorum(two_min, {n2, down(n3)}, {"ID-N2"}).met);
}

TEST(GateQuorum, AHolderThatDisconnectedStillCounts) {
  QuorumRule two;
  two.all_connected = false;
  two.count = 2;
  auto d = decide_quorum(two, {n2, down(n3)}, {"ID-N2", "ID-N3"});
  EXPECT_TRUE(d.met);
  EXPECT_EQ(d.replicated_to, (Names{"n2", "n3"}));
}

TEST(GateQuorum, ANumberOfPeers) {
  QuorumRule one;
  one.all_connected = false;
  one.count = 1;
  EXPECT_TRUE(decide_quorum(one, {n2, n3}, {"ID-N3"}).met);
  EXPECT_FALSE(decide_quorum(one, {n2, n3}, {}).met);
  QuorumRule two = one;
  two.count = 2;
  auto d = decide_quorum(two, {n2, n3}, {"ID-N3"});
  EXPECT_FALSE(d.met);
  EXPECT_EQ(d.required, 2u);
  EXPECT_EQ(d.reason, "1 of 2 required peer(s) hold the change");
  // Holders that are not the folder's peers do not count.
  EXPECT_FALSE(decide_quorum(one, {n2}, {"ID-STRANGER"}).met);
}

TEST(GateQuorum, NoPeersAtAllIsNeverMet) {
  EXPECT_FALSE(decide_quorum(QuorumRule{}, {}, {}).met);
  QuorumRule one;
  one.all_connected = false;
  one.count = 1;
  EXPECT_FALSE(decide_quorum(one, {}, {}).met);
}

ReplicationResult result(ReplicationResult::Kind kind, QuorumDecision d = {}) {
  ReplicationResult r;
  r.kind = kind;
  r.decision = std::move(d);
  r.waited = std::chrono::milliseconds(1234);
  r.bound = std::chrono::milliseconds(1200);
  r.error = "connect: Connection refused";
  return r;
}

std::string header(const Verdict& v, const std::string& name) {
  for (auto& [k, value] : v.headers)
    if (k == name) return value;
  return "";
}

TEST(GateVerdict, ReplicatedReleasesWithWhoHoldsIt) {
  auto d = decide_quorum(QuorumRule{}, {n2, down(n3)}, {"ID-N2"});
  auto v = decide_verdict(result(ReplicationResult::Kind::replicated, d), {.on_timeout = OnTimeout::fail});
  EXPECT_TRUE(v.release_upstream);
  EXPECT_EQ(header(v, "X-Replicated-To"), "n2");
  EXPECT_EQ(header(v, "X-Replication-Missing"), "n3 (not connected)");
}

TEST(GateVerdict, TimeoutFailsOrWarnsButNeverClaimsWhatIsNotThere) {
  QuorumRule two;
  two.all_connected = false;
  two.count = 2;
  auto partial = decide_quorum(two, {n2, down(n3)}, {"ID-N2"});
  auto fail = decide_verdict(result(ReplicationResult::Kind::timed_out, partial), {.on_timeout = OnTimeout::fail});
  EXPECT_FALSE(fail.release_upstream);
  EXPECT_EQ(fail.status, 503);
  EXPECT_EQ(header(fail, "Retry-After"), "5");
  EXPECT_EQ(header(fail, "X-Replicated-To"), "");
  EXPECT_NE(fail.body.find("\"replicated_to\":[\"n2\"]"), std::string::npos) << fail.body;
  EXPECT_NE(fail.body.find("\"missing\":[\"n3 (not connected)\"]"), std::string::npos) << fail.body;
  EXPECT_NE(fail.body.find("after 1234 ms (the bound for this write's size: 1200 ms)"), std::string::npos) << fail.body;

  auto warn = decide_verdict(result(ReplicationResult::Kind::timed_out, partial), {.on_timeout = OnTimeout::warn});
  EXPECT_TRUE(warn.release_upstream);
  EXPECT_EQ(header(warn, "X-Replicated-To"), "n2");
  EXPECT_EQ(header(warn, "Warning").rfind("199 ha-upload-gate \"", 0), 0u) << header(warn, "Warning");

  auto nobody = decide_quorum(two, {n2, n3}, {});
  auto warn_nobody = decide_verdict(result(ReplicationResult::Kind::timed_out, nobody), {.on_timeout = OnTimeout::warn});
  EXPECT_FALSE(warn_nobody.release_upstream) << "warn must not release a write no peer holds";
}

TEST(GateVerdict, NoPeerAndSyncthingDownAreSafeErrors) {
  auto no_peer = decide_verdict(result(ReplicationResult::Kind::no_peer), {.on_timeout = OnTimeout::warn});
  EXPECT_EQ(no_peer.status, 503);
  EXPECT_NE(no_peer.body.find("no peer is reachable"), std::string::npos);
  auto down_st = decide_verdict(result(ReplicationResult::Kind::unavailable), {.on_timeout = OnTimeout::warn});
  EXPECT_EQ(down_st.status, 503);
  EXPECT_NE(down_st.body.find("Connection refused"), std::string::npos) << down_st.body;
  auto nothing = decide_verdict(result(ReplicationResult::Kind::nothing_changed), {.on_timeout = OnTimeout::fail});
  EXPECT_TRUE(nothing.release_upstream);
  EXPECT_EQ(header(nothing, "X-Replication"), "no file changed");
  EXPECT_EQ(header(nothing, "X-Replicated-To"), "");
}

// Durability "available" (a node alone, e.g. two managers with one down):
// the write is released with one copy, and the answer says so; "strict"
// keeps the 503. syncthing down stays a 503 under both.
TEST(GateVerdict, AvailableReleasesANodeAlonesWriteWithOneCopyAndSaysSo) {
  auto alone = decide_quorum(QuorumRule{}, {down(n2)}, {});
  const VerdictRules available{.durability = Durability::available};
  auto released = decide_verdict(result(ReplicationResult::Kind::no_peer, alone), available);
  EXPECT_TRUE(released.release_upstream);
  EXPECT_EQ(header(released, "X-Replication"), "one copy: no peer is reachable");
  EXPECT_EQ(header(released, "X-Replication-Missing"), "n2 (not connected)");
  EXPECT_NE(header(released, "Warning").find("acknowledged with one copy (durability available)"), std::string::npos)
      << header(released, "Warning");

  auto strict = decide_verdict(result(ReplicationResult::Kind::no_peer, alone), VerdictRules{});
  EXPECT_FALSE(strict.release_upstream);
  EXPECT_EQ(strict.status, 503);

  auto syncthing_down = decide_verdict(result(ReplicationResult::Kind::unavailable, alone), available);
  EXPECT_FALSE(syncthing_down.release_upstream) << "available is about a node alone, not a broken syncthing";
}

// A peer syncthing still calls connected (a crashed one, until it notices)
// holds the wait to its bound; then "available" releases with one copy.
TEST(GateVerdict, AvailableReleasesATimedOutWriteThatNoPeerHoldsWithOneCopy) {
  auto nobody = decide_quorum(QuorumRule{}, {n2}, {});
  auto released = decide_verdict(result(ReplicationResult::Kind::timed_out, nobody),
                                 {.durability = Durability::available});
  EXPECT_TRUE(released.release_upstream);
  EXPECT_EQ(header(released, "X-Replication").rfind("one copy: connected peers still missing the change after 1234 ms", 0),
            0u)
      << header(released, "X-Replication");
  EXPECT_FALSE(decide_verdict(result(ReplicationResult::Kind::timed_out, nobody), {}).release_upstream);
}

// The wait grows with the write: a 2 GB upload gets the time its copy takes
// at the minimum rate, within the ceiling; a small one the base timeout.
TEST(GateReplicationWait, GrowsWithTheBodyUpToTheCeiling) {
  GateConfig c;
  c.timeout = std::chrono::milliseconds(10000);
  c.min_rate_kib_s = 10240;  // 10 MiB/s
  c.max_timeout = std::chrono::milliseconds(600000);
  EXPECT_EQ(replication_wait(c, 0), std::chrono::milliseconds(10000));
  EXPECT_EQ(replication_wait(c, 10u << 20), std::chrono::milliseconds(11000)) << "10 MiB: +1 s";
  EXPECT_EQ(replication_wait(c, 2048ull << 20), std::chrono::milliseconds(10000 + 204800)) << "2 GiB: +204.8 s";
  EXPECT_EQ(replication_wait(c, 100ull << 30), std::chrono::milliseconds(600000)) << "the ceiling";
  c.max_timeout = std::chrono::milliseconds(1000);
  EXPECT_EQ(replication_wait(c, 1u << 30), std::chrono::milliseconds(10000)) << "never below the base timeout";
}

}  // namespace
}  // namespace hasup::upload_gate
