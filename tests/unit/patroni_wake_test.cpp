// decide_db()'s wake of this node's Patroni when the leader key names a new
// member (after a crash or a switchover), and of a switchover's candidate
// when the old primary let the key go: once per change, never the new leader
// itself, nothing at a supervisor's start.
#include <gtest/gtest.h>

#include <optional>

#include "components/postgres/decide.hpp"
#include "supervisor/loop/plan.hpp"

namespace hasup {
namespace {

using loop::WakePatroniForLeader;
using loop::WakePatroniForSyncKey;

loop::Snapshot patroni_running(const std::string& self, const std::string& leader_woken_for) {
  loop::Snapshot s;
  s.self = self;
  s.units_connected = true;
  s.units["ha-patroni.service"] = loop::UnitView{"active", "running", 0, 0};
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.unit = "ha-patroni.service";
  s.db.cluster_known = true;
  s.db.cluster.backend = "patroni";
  s.db.cluster.initialized = true;
  s.db.cluster.leader = s.db.cluster.primary = leader_woken_for;
  s.db.patroni.leader_woken_for = leader_woken_for;
  return s;
}

std::optional<WakePatroniForLeader> wake_of(const loop::Snapshot& s) {
  loop::Plan plan;
  loop::decide_db(plan, s);
  if (const auto* wake = plan.find<WakePatroniForLeader>()) return *wake;
  return std::nullopt;
}

// The crashed primary's session ends, Consul deletes the leader key: the
// standbys are left to race at their own loops (woken together, the lab's
// primary crashes cost more).
TEST(PatroniWake, AfterACrashTheStandbysAreNotWokenToRaceForTheKey) {
  for (const std::string self : {"n2", "n3"}) {
    auto s = patroni_running(self, "n1");
    EXPECT_EQ(wake_of(s), std::nullopt) << self << ": nothing changed";
    s.db.cluster.leader = s.db.cluster.primary = "";
    EXPECT_EQ(wake_of(s), std::nullopt) << self;
  }
}

// Commits on the new primary wait for a synchronous standby: the others
// follow it as soon as it holds the key, the old primary too if it lives.
TEST(PatroniWake, EveryOtherNodeWakesItsPatroniToFollowTheNewLeader) {
  for (const std::string self : {"n3", "n1"}) {
    auto s = patroni_running(self, "");
    s.db.cluster.leader = "n2";
    EXPECT_EQ(wake_of(s), (WakePatroniForLeader{"n2"})) << self;
    s.db.patroni.leader_woken_for = "n2";
    EXPECT_EQ(wake_of(s), std::nullopt) << self << ": once";
  }
  auto leader = patroni_running("n2", "");
  leader.db.cluster.leader = "n2";
  EXPECT_EQ(wake_of(leader), std::nullopt) << "the new leader wrote the key itself";

  auto missed = patroni_running("n3", "n1");  // Consul's answers went from n1 to n2 at once
  missed.db.cluster.leader = "n2";
  EXPECT_EQ(wake_of(missed), (WakePatroniForLeader{"n2"}));
}

// A switchover: the candidate is woken when the old primary lets the key go,
// every other node only once the candidate holds it.
TEST(PatroniWake, ASwitchoversCandidateAloneIsWokenWhenTheKeyIsGone) {
  for (const std::string self : {"n2", "n3"}) {
    auto s = patroni_running(self, "n1");
    s.db.cluster.leader = s.db.cluster.primary = "";
    s.db.cluster.failover_from = "n1";
    s.db.cluster.failover_to = "n2";
    if (self == "n2")
      EXPECT_EQ(wake_of(s), (WakePatroniForLeader{""}));
    else
      EXPECT_EQ(wake_of(s), std::nullopt) << "n3 does not race; woken, it asks the demoting n1 and waits";
    s.db.cluster.leader = "n2";
    s.db.cluster.failover_from = s.db.cluster.failover_to = "";
    if (self == "n3") EXPECT_EQ(wake_of(s), (WakePatroniForLeader{"n2"})) << "it follows n2 at once";
  }
}

TEST(PatroniWake, NothingIsWokenAtStartWithoutARunningPatroniOrTwiceAtOnce) {
  auto started = patroni_running("n2", "n1");
  started.db.patroni.leader_woken_for.reset();  // the keys not read yet since the supervisor started
  started.db.cluster.leader = "n3";
  EXPECT_EQ(wake_of(started), std::nullopt);

  auto stopped = patroni_running("n2", "n1");
  stopped.db.cluster.leader = "n3";
  stopped.units["ha-patroni.service"] = loop::UnitView{"inactive", "dead", 0, 0};
  EXPECT_EQ(wake_of(stopped), std::nullopt) << "no API to wake";
  stopped.units.erase("ha-patroni.service");
  EXPECT_EQ(wake_of(stopped), std::nullopt);

  auto busy = patroni_running("n2", "n1");
  busy.db.cluster.leader = "n3";
  busy.busy.insert(loop::Job::wake_patroni_for_leader);
  EXPECT_EQ(wake_of(busy), std::nullopt) << "the loop asks again once the wake in flight ends";

  auto unknown = patroni_running("n2", "n1");
  unknown.db.cluster.leader = "n3";
  unknown.db.cluster_known = false;
  EXPECT_EQ(wake_of(unknown), std::nullopt);

  auto other_backend = patroni_running("n2", "n1");
  other_backend.db.cluster.leader = "n3";
  other_backend.db.backend = "stolon";
  EXPECT_EQ(wake_of(other_backend), std::nullopt);
}

TEST(PatroniWake, TheDecisionsNoteSaysWhy) {
  auto s = patroni_running("n3", "n1");
  s.db.cluster.leader = "n2";
  loop::Plan plan;
  EXPECT_NE(loop::decide_db(plan, s).find("the leader key names n2: waking this node's Patroni to follow it now"),
            std::string::npos);
}

// The new primary's sync key still names its crashed predecessor: its
// Patroni is woken (again every 200 ms) until it drops it, so commits that
// wait for no standby left (two managers) go on sooner.
TEST(PatroniWakeForSyncKey, TheKeysHolderIsWokenWhileItsSyncKeyNamesAGoneMember) {
  auto s = patroni_running("n2", "n2");
  s.db.cluster.sync_key_names = {"n1", "n2"};  // n1 crashed: no member key
  s.db.cluster.members = {db::DbMember{"n2", db::DbRole::primary}};
  loop::Plan plan;
  auto reason = loop::decide_db(plan, s);
  ASSERT_NE(plan.find<WakePatroniForSyncKey>(), nullptr) << reason;
  EXPECT_EQ(*plan.find<WakePatroniForSyncKey>(), (WakePatroniForSyncKey{{"n1"}}));
  EXPECT_EQ(plan.wake_after, std::chrono::milliseconds(200)) << "asked again soon";
  EXPECT_NE(reason.find("its sync key still names n1, gone"), std::string::npos) << reason;

  s.db.cluster.members.push_back(db::DbMember{"n1", db::DbRole::sync_standby});
  loop::Plan alive;
  loop::decide_db(alive, s);
  EXPECT_EQ(alive.find<WakePatroniForSyncKey>(), nullptr) << "n1 alive: nothing to drop";

  s.db.cluster.members.pop_back();
  s.db.patroni.model.synchronous_mode_strict = true;
  loop::Plan strict;
  loop::decide_db(strict, s);
  EXPECT_EQ(strict.find<WakePatroniForSyncKey>(), nullptr) << "strict: commits wait anyway, the wakes would not end";
  s.db.patroni.model.synchronous_mode_strict = false;
  s.db.cluster.paused = true;
  loop::Plan paused;
  loop::decide_db(paused, s);
  EXPECT_EQ(paused.find<WakePatroniForSyncKey>(), nullptr) << "paused: Patroni leaves its sync key alone";

  auto standby = patroni_running("n3", "n2");
  standby.db.cluster.sync_key_names = {"n1", "n2"};
  loop::Plan other;
  loop::decide_db(other, standby);
  EXPECT_EQ(other.find<WakePatroniForSyncKey>(), nullptr) << "only the leader key's holder writes the sync key";
}

}  // namespace
}  // namespace hasup
