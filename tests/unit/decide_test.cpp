// decide(): the supervisor's every decision, a pure function Snapshot -> Plan.
// Each test starts from a healthy, settled snapshot and changes one thing.
#include <gtest/gtest.h>

#include "tests/unit/known_nodes_helper.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "components/keepalived/render.hpp"
#include "supervisor/loop/decide.hpp"

namespace hasup::loop {
namespace {

using cluster::ClusterState;
using cluster::MemberRecord;
using cluster::Role;

const std::string kSince = "2024-05-01T12:00:00Z";
const std::string kNow = "2024-05-02T08:30:00Z";
const std::uint64_t kEpoch = 42;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

std::string jobs_of(const Plan& plan) {
  std::string out;
  for (const auto& a : plan.actions) out += (out.empty() ? "" : ",") + to_string(job_of(a));
  return out.empty() ? "(none)" : out;
}

bool has_job(const Plan& plan, Job job) {
  for (const auto& a : plan.actions)
    if (job_of(a) == job) return true;
  return false;
}

MemberRecord record(const std::string& name, Role role, std::uint64_t leader_epoch = 0) {
  MemberRecord r;
  r.name = name;
  r.address = "198.18.0." + name.substr(1);
  r.role = role;
  r.health = "ok";
  r.versions = {{"supervisor", "0.1.0"}, {"consul", "1.8.7"}};
  r.since = kSince;
  r.leader_epoch = leader_epoch;
  return r;
}

// A healthy follower n1 (session s1) in a 3-node cluster led by n2 (session s2,
// epoch 42). Its own member record is exactly what decide() would publish.
Snapshot follower_snapshot() {
  Snapshot s;
  s.self = "n1";
  s.self_address = "198.18.0.1";
  s.versions = {{"supervisor", "0.1.0"}, {"consul", "1.8.7"}};
  s.wall_time = kNow;
  s.consul.agent_known = true;
  s.consul.agent_node = "n1";
  s.consul.agent_version = "1.8.7";
  s.consul.ever_reached_quorum = true;
  s.consul.quorum_reachable = true;
  s.consul.since_quorum_contact = std::chrono::milliseconds(120);
  s.consul.quorum_loss_timeout = std::chrono::milliseconds(5000);
  s.service_registered = true;
  s.session = SessionView{"s1", true};
  s.kv.known = true;
  s.kv.members["n1"] = record("n1", Role::follower);
  s.kv.members["n2"] = record("n2", Role::leader, kEpoch);
  s.kv.members["n3"] = record("n3", Role::follower);
  s.kv.member_sessions = {{"n1", "s1"}, {"n2", "s2"}, {"n3", "s3"}};
  s.kv.registered = {{"n1", "198.18.0.1"}, {"n2", "198.18.0.2"}, {"n3", "198.18.0.3"}};
  s.kv.registered_reads_schema = {{"n1", 1}, {"n2", 1}, {"n3", 1}};
  testing_support::derive_known_nodes(s);
  s.kv.leader = LeaderLock{"s2", kEpoch, "n2"};
  s.kv.cluster_state = ClusterState{"n2", kEpoch, {"n1", "n2", "n3"}, kSince};
  return s;
}

// Applies decide()'s publish_member the way the engine would after a successful write.
void settle_member(Snapshot& s) {
  for (int i = 0; i < 3; ++i) {
    Plan plan = decide(s);
    const PublishMember* publish = plan.find<PublishMember>();
    if (!publish) return;
    s.kv.members[s.self] = publish->record;
  }
  FAIL() << "member record never settles";
}

// n1 holds the leader lock (epoch 42) and has published both its member record
// and a current cluster view.
Snapshot leader_snapshot() {
  Snapshot s = follower_snapshot();
  s.kv.leader = LeaderLock{"s1", kEpoch, "n1"};
  s.kv.members["n2"] = record("n2", Role::follower);
  s.kv.cluster_state = ClusterState{"n1", kEpoch, {"n1", "n2", "n3"}, kSince};
  settle_member(s);
  return s;
}

// ---------------------------------------------------------------- steady states

TEST(Decide, HelperSnapshotIsASettledFollower) {
  Snapshot s = follower_snapshot();
  Snapshot settled = s;
  settle_member(settled);
  EXPECT_EQ(settled.kv.members.at("n1"), s.kv.members.at("n1"))
      << "the helper's own record is not what decide() publishes";
}

TEST(Decide, HealthyFollowerDoesNothing) {
  Plan plan = decide(follower_snapshot());
  EXPECT_EQ(plan.role, Role::follower);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "follower of n2 (epoch 42)"));
}

TEST(Decide, FollowerOfAnUnnamedLeaderNamesItsSession) {
  Snapshot s = follower_snapshot();
  s.kv.leader->name = "";
  s.kv.leader->session = "0123456789abcdef";
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::follower);
  EXPECT_TRUE(contains(plan.reason, "follower of session 01234567 (epoch 42)"));
}

TEST(Decide, LeaderWithCurrentClusterViewDoesNothing) {
  Snapshot s = leader_snapshot();
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::leader);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "leader (epoch 42)"));
  EXPECT_TRUE(contains(plan.reason, "n1,n2,n3"));
}

void expect_single_cluster_state_publish(const Snapshot& s, const std::vector<std::string>& members) {
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::leader);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  const auto* a = std::get_if<PublishClusterState>(&plan.actions[0]);
  ASSERT_NE(a, nullptr) << jobs_of(plan);
  EXPECT_EQ(a->epoch, s.kv.leader->epoch);
  EXPECT_EQ(a->session, s.kv.leader->session);
  EXPECT_EQ(a->session, "s1");
  EXPECT_EQ(a->state.leader, "n1");
  EXPECT_EQ(a->state.epoch, s.kv.leader->epoch);
  EXPECT_EQ(a->state.members, members);
  EXPECT_EQ(a->state.changed_at, kNow);
  EXPECT_TRUE(contains(plan.reason, "leader (epoch " + std::to_string(s.kv.leader->epoch) + ")"));
}

TEST(Decide, LeaderPublishesClusterViewWhenAMemberIsMissingFromIt) {
  Snapshot s = leader_snapshot();
  s.kv.cluster_state->members = {"n1", "n2"};
  expect_single_cluster_state_publish(s, {"n1", "n2", "n3"});
}

TEST(Decide, LeaderPublishesClusterViewWhenAMemberLeft) {
  Snapshot s = leader_snapshot();
  s.kv.members.erase("n3");
  s.kv.member_sessions.erase("n3");
  expect_single_cluster_state_publish(s, {"n1", "n2"});
}

TEST(Decide, LeaderPublishesClusterViewWithSortedNames) {
  Snapshot s = leader_snapshot();
  s.kv.members["a0"] = record("a0", Role::follower);
  s.kv.members["z9"] = record("z9", Role::follower);
  expect_single_cluster_state_publish(s, {"a0", "n1", "n2", "n3", "z9"});
}

TEST(Decide, LeaderPublishesClusterViewWhenItsEpochIsOld) {
  Snapshot s = leader_snapshot();
  s.kv.cluster_state->epoch = 17;
  expect_single_cluster_state_publish(s, {"n1", "n2", "n3"});
}

TEST(Decide, LeaderPublishesClusterViewWrittenByTheOldLeader) {
  Snapshot s = leader_snapshot();
  s.kv.cluster_state->leader = "n2";
  expect_single_cluster_state_publish(s, {"n1", "n2", "n3"});
}

TEST(Decide, LeaderPublishesClusterViewWhenThereIsNone) {
  Snapshot s = leader_snapshot();
  s.kv.cluster_state.reset();
  expect_single_cluster_state_publish(s, {"n1", "n2", "n3"});
}

TEST(Decide, LeaderWithNewEpochPublishesBothItsRecordAndTheView) {
  Snapshot s = leader_snapshot();
  s.kv.leader->epoch = 50;  // re-acquired: new fencing token
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::leader);
  const auto* member = plan.find<PublishMember>();
  ASSERT_NE(member, nullptr) << jobs_of(plan);
  EXPECT_EQ(member->record.leader_epoch, 50u);
  const auto* view = plan.find<PublishClusterState>();
  ASSERT_NE(view, nullptr) << jobs_of(plan);
  EXPECT_EQ(view->epoch, 50u);
  EXPECT_EQ(view->state.epoch, 50u);
}

// ---------------------------------------------------------------- running for leader

TEST(Decide, FreeLockWithPublishedMemberAcquiresLeadership) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::follower);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::acquire_leadership);
  EXPECT_EQ(std::get<AcquireLeadership>(plan.actions[0]).session, "s1");
  EXPECT_TRUE(contains(plan.reason, "leader lock is free"));
}

TEST(Decide, FreeLockWithoutOwnMemberRecordPublishesItFirst) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  s.kv.members.erase("n1");
  s.kv.member_sessions.erase("n1");
  Plan plan = decide(s);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::publish_member);
  EXPECT_EQ(plan.find<AcquireLeadership>(), nullptr);
  EXPECT_EQ(std::get<PublishMember>(plan.actions[0]).record.name, "n1");
  EXPECT_EQ(std::get<PublishMember>(plan.actions[0]).record.role, Role::follower);
  EXPECT_TRUE(contains(plan.reason, "publishing the member record before running for leader"));
}

// Within Consul's lock-delay every acquire is refused: the next try waits
// kLockRetry instead of writing again at once (a node wrote ~200 times a
// second for the whole lock-delay before).
TEST(Decide, RefusedMemberKeyIsAskedForAgainOnlyAfterTheRetryInterval) {
  Snapshot s = follower_snapshot();
  s.kv.members.erase("n1");
  s.kv.member_sessions.erase("n1");
  s.refused.member_ago = std::chrono::milliseconds(40);
  Plan plan = decide(s);
  EXPECT_EQ(plan.find<PublishMember>(), nullptr) << jobs_of(plan);
  ASSERT_TRUE(plan.wake_after.has_value());
  EXPECT_EQ(*plan.wake_after, kLockRetry - std::chrono::milliseconds(40));
  EXPECT_TRUE(contains(plan.reason, "Consul refused the member key")) << plan.reason;

  s.refused.member_ago = kLockRetry;
  Plan later = decide(s);
  EXPECT_NE(later.find<PublishMember>(), nullptr) << jobs_of(later);
  EXPECT_FALSE(contains(later.reason, "refused")) << later.reason;
}

TEST(Decide, RefusedLeaderLockIsAskedForAgainOnlyAfterTheRetryInterval) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  s.refused.leader_ago = std::chrono::milliseconds(100);
  Plan plan = decide(s);
  EXPECT_EQ(plan.find<AcquireLeadership>(), nullptr) << jobs_of(plan);
  ASSERT_TRUE(plan.wake_after.has_value());
  EXPECT_EQ(*plan.wake_after, kLockRetry - std::chrono::milliseconds(100));
  EXPECT_TRUE(contains(plan.reason, "Consul refused it")) << plan.reason;

  s.refused.leader_ago = kLockRetry + std::chrono::milliseconds(1);
  EXPECT_TRUE(decide(s).has<AcquireLeadership>());
}

// A refusal of the member key does not hold back the leader lock's own try,
// nor the other way round: each waits on its own refusal only.
TEST(Decide, ARefusalOfOneLockDoesNotDelayTheOther) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  s.kv.members["n1"].health = "changed";  // the published record is out of date
  s.refused.leader_ago = std::chrono::milliseconds(10);
  EXPECT_TRUE(decide(s).has<PublishMember>());
}

TEST(Decide, FreeLockButSelfInMaintenanceDoesNotRun) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  s.kv.maintenance.insert("n1");
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::maintenance);
  EXPECT_EQ(plan.find<AcquireLeadership>(), nullptr) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "maintenance"));
  EXPECT_TRUE(contains(plan.reason, "not running for leader"));
}

TEST(Decide, FreeLockOtherNodeInMaintenanceStillRuns) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  s.kv.maintenance.insert("n2");
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::follower);
  EXPECT_NE(plan.find<AcquireLeadership>(), nullptr) << jobs_of(plan);
}

// ---------------------------------------------------------------- maintenance

TEST(Decide, LeaderInMaintenanceReleasesLeadership) {
  Snapshot s = leader_snapshot();
  s.kv.maintenance.insert("n1");
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::leader);
  const auto* release = plan.find<ReleaseLeadership>();
  ASSERT_NE(release, nullptr) << jobs_of(plan);
  EXPECT_EQ(release->epoch, kEpoch);
  EXPECT_EQ(release->session, "s1");
  EXPECT_EQ(plan.find<PublishClusterState>(), nullptr);
  EXPECT_TRUE(contains(plan.reason, "leader in maintenance"));
  EXPECT_TRUE(contains(plan.reason, "epoch 42"));
}

TEST(Decide, FollowerInMaintenanceHasRoleMaintenance) {
  Snapshot s = follower_snapshot();
  s.kv.maintenance.insert("n1");
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::maintenance);
  EXPECT_TRUE(contains(plan.reason, "in maintenance, follower of n2 (epoch 42)"));
  // Its member record changes role: published with the new role and a new "since".
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  EXPECT_EQ(publish->record.role, Role::maintenance);
  EXPECT_EQ(publish->record.since, kNow);
  EXPECT_EQ(plan.find<AcquireLeadership>(), nullptr);
  EXPECT_EQ(plan.find<ReleaseLeadership>(), nullptr);
}

// ---------------------------------------------------------------- cut off

Snapshot cut_off(Snapshot s) {
  s.consul.quorum_reachable = false;
  s.consul.ever_reached_quorum = true;
  s.consul.since_quorum_contact = std::chrono::milliseconds(7300);
  s.consul.quorum_loss_timeout = std::chrono::milliseconds(5000);
  return s;
}

TEST(Decide, CutOffFollowerWritesNothing) {
  Plan plan = decide(cut_off(follower_snapshot()));
  EXPECT_EQ(plan.role, Role::cut_off);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "cut off"));
  EXPECT_TRUE(contains(plan.reason, "5000 ms"));
}

TEST(Decide, CutOffReasonNamesTheBoundNotTheGrowingAge) {
  // The reason is logged when it changes: it must not change every cycle.
  Snapshot s = cut_off(follower_snapshot());
  Plan early = decide(s);
  s.consul.since_quorum_contact = std::chrono::milliseconds(64000);
  Plan later = decide(s);
  EXPECT_EQ(early.reason, later.reason);
  EXPECT_FALSE(contains(later.reason, "64000"));
  EXPECT_TRUE(contains(later.reason, "5000 ms"));
}

TEST(Decide, CutOffLeaderWithStaleViewIsCutOffNotLeader) {
  Snapshot s = cut_off(leader_snapshot());
  s.kv.cluster_state.reset();                // would otherwise ask for a publish
  s.kv.members.erase("n1");                  // would otherwise ask for a member publish
  s.kv.leader.reset();
  s.kv.leader = LeaderLock{"s1", kEpoch, "n1"};  // the stale view still says: we hold the lock
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::cut_off);
  EXPECT_EQ(derive_role(s), Role::cut_off);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "cut off"));
  EXPECT_TRUE(contains(plan.reason, "5000 ms"));
}

TEST(Decide, CutOffWithFreeLockDoesNotRunForLeader) {
  Snapshot s = cut_off(follower_snapshot());
  s.kv.leader.reset();
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::cut_off);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
}

TEST(Decide, CutOffReasonCarriesTheQuorumError) {
  Snapshot s = cut_off(follower_snapshot());
  s.consul.quorum_error = "consul timeout: read";
  Plan plan = decide(s);
  EXPECT_TRUE(contains(plan.reason, "consul timeout: read"));
}

TEST(Decide, NeverReachedQuorumIsStarting) {
  Snapshot s = follower_snapshot();
  s.consul.quorum_reachable = false;
  s.consul.ever_reached_quorum = false;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::starting);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "waiting for a Consul quorum"));
  EXPECT_FALSE(contains(plan.reason, "cut off"));
}

// ---------------------------------------------------------------- start-up steps

TEST(Decide, UnknownAgentIsIdentifiedFirst) {
  Snapshot s = follower_snapshot();
  s.consul.agent_known = false;
  s.consul.quorum_error = "connect: Connection refused";
  Plan plan = decide(s);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::identify_agent);
  EXPECT_TRUE(contains(plan.reason, "waiting for the local Consul agent"));
  EXPECT_TRUE(contains(plan.reason, "Connection refused"));
}

TEST(Decide, UnregisteredServiceIsRegistered) {
  Snapshot s = follower_snapshot();
  s.service_registered = false;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::starting);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::register_service);
}

TEST(Decide, InvalidSessionOpensOne) {
  Snapshot s = follower_snapshot();
  s.session.valid = false;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::starting);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::open_session);
  EXPECT_TRUE(contains(plan.reason, "no Consul session"));
}

TEST(Decide, InvalidSessionNeverActsAsLeader) {
  Snapshot s = leader_snapshot();
  s.session.valid = false;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::starting);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::open_session);
}

TEST(Decide, UnknownKvDoesNothing) {
  Snapshot s = follower_snapshot();
  s.kv.known = false;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::starting);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "waiting for the first read"));
}

// ---------------------------------------------------------------- busy

TEST(Decide, BusyAcquireIsNotAskedAgain) {
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  s.busy.insert(Job::acquire_leadership);
  Plan plan = decide(s);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  // The busy jobs are logged next to the reason (engine), not part of it.
  EXPECT_FALSE(contains(plan.reason, "busy"));
  EXPECT_TRUE(contains(plan.reason, "leader lock is free"));
}

TEST(Decide, BusyOpenSessionIsNotAskedAgain) {
  Snapshot s = follower_snapshot();
  s.session.valid = false;
  s.busy.insert(Job::open_session);
  Plan plan = decide(s);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "no Consul session"));
}

TEST(Decide, BusyPublishMemberIsNotAskedAgainButOtherWorkIs) {
  Snapshot s = leader_snapshot();
  s.kv.leader->epoch = 50;
  s.busy.insert(Job::publish_member);
  Plan plan = decide(s);
  EXPECT_EQ(plan.find<PublishMember>(), nullptr) << jobs_of(plan);
  EXPECT_NE(plan.find<PublishClusterState>(), nullptr) << jobs_of(plan);
}

TEST(Decide, BusyReleaseWhileShuttingDownIsNotAskedAgain) {
  Snapshot s = leader_snapshot();
  s.shutting_down = true;
  s.busy.insert(Job::release_leadership);
  Plan plan = decide(s);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_EQ(plan.role, Role::stopping);
  EXPECT_TRUE(contains(plan.reason, "releasing leadership"));
}

TEST(Decide, JobNames) {
  EXPECT_EQ(to_string(Job::identify_agent), "identify-agent");
  EXPECT_EQ(to_string(Job::register_service), "register-service");
  EXPECT_EQ(to_string(Job::open_session), "open-session");
  EXPECT_EQ(to_string(Job::publish_member), "publish-member");
  EXPECT_EQ(to_string(Job::acquire_leadership), "acquire-leadership");
  EXPECT_EQ(to_string(Job::release_leadership), "release-leadership");
  EXPECT_EQ(to_string(Job::publish_cluster_state), "publish-cluster-state");
  EXPECT_EQ(to_string(Job::close_session), "close-session");
}

TEST(Decide, BusySetNames) {
  EXPECT_EQ(to_string(std::set<Job>{}), "");
  EXPECT_EQ(to_string(std::set<Job>{Job::open_session}), "open-session");
  EXPECT_EQ(to_string(std::set<Job>{Job::publish_cluster_state, Job::publish_member}),
            "publish-member,publish-cluster-state");
}

TEST(Decide, BusyDoesNotChangeTheReason) {
  // The reason is logged when it changes; a job starting or ending must not change it.
  Snapshot s = follower_snapshot();
  s.kv.leader.reset();
  Plan idle = decide(s);
  s.busy.insert(Job::acquire_leadership);
  Plan busy = decide(s);
  EXPECT_EQ(idle.reason, busy.reason);
  EXPECT_EQ(idle.actions.size(), 1u);
  EXPECT_TRUE(busy.actions.empty()) << jobs_of(busy);
}

// ---------------------------------------------------------------- name conflict

TEST(Decide, MemberNameHeldByAnotherSessionDoesNothing) {
  Snapshot s = follower_snapshot();
  s.kv.member_sessions["n1"] = "deadbeef-0000-other";
  s.kv.leader.reset();  // even with a free lock: no run for leader
  Plan plan = decide(s);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "held by another session (deadbeef)"));
  EXPECT_TRUE(contains(plan.reason, "another supervisor configured with the same node.name"));
}

TEST(Decide, MemberNameHeldByAnotherSessionWithUnreadableRecordDoesNothing) {
  Snapshot s = follower_snapshot();
  s.kv.members.erase("n1");
  s.kv.member_sessions["n1"] = "s-other";
  s.kv.unreadable.push_back({"ha-supervisor/members/n1", "written with schema 2, this supervisor reads schema 1"});
  Plan plan = decide(s);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "same node.name"));
}

// ---------------------------------------------------------------- shutdown

TEST(Decide, ShuttingDownLeaderReleasesLeadershipFirst) {
  Snapshot s = leader_snapshot();
  s.shutting_down = true;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::stopping);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::release_leadership);
  EXPECT_EQ(std::get<ReleaseLeadership>(plan.actions[0]).epoch, kEpoch);
  EXPECT_EQ(std::get<ReleaseLeadership>(plan.actions[0]).session, "s1");
  EXPECT_EQ(plan.find<CloseSession>(), nullptr);
  EXPECT_TRUE(contains(plan.reason, "shutting down: releasing leadership (epoch 42)"));
}

TEST(Decide, ShuttingDownFollowerClosesItsSession) {
  Snapshot s = follower_snapshot();
  s.shutting_down = true;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::stopping);
  ASSERT_EQ(plan.actions.size(), 1u) << jobs_of(plan);
  EXPECT_EQ(job_of(plan.actions[0]), Job::close_session);
  EXPECT_EQ(std::get<CloseSession>(plan.actions[0]).session, "s1");
  EXPECT_TRUE(contains(plan.reason, "closing the session"));
}

TEST(Decide, ShuttingDownWithoutSessionHasNothingToDo) {
  Snapshot s = follower_snapshot();
  s.shutting_down = true;
  s.session.valid = false;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::stopping);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "nothing left to hand over"));
}

TEST(Decide, ShuttingDownWhileCutOffDoesNothing) {
  Snapshot s = cut_off(follower_snapshot());
  s.shutting_down = true;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::stopping);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
}

// Regression (was a bug): decide_shutdown asks for
// release_leadership whenever the (possibly stale) kv view says our session
// holds the lock, without checking quorum_reachable. A cut-off leader that is
// told to shut down therefore plans a write to Consul, although the cut-off
// rule is "nothing may be written" (the close_session branch does check the
// quorum; the release branch does not). Its stale epoch may also be long gone.
TEST(Decide, ShuttingDownWhileCutOffWithStaleLeaderViewDoesNothing) {
  Snapshot s = cut_off(leader_snapshot());
  s.shutting_down = true;
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::stopping);
  EXPECT_TRUE(plan.actions.empty()) << jobs_of(plan);
}

// ---------------------------------------------------------------- the member record

TEST(Decide, MemberRecordKeepsSinceWhenRoleAndHealthAreUnchanged) {
  Snapshot s = follower_snapshot();
  s.self_address = "198.18.0.100";  // something else changed: the record is republished
  Plan plan = decide(s);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  EXPECT_EQ(publish->record.address, "198.18.0.100");
  EXPECT_EQ(publish->record.role, Role::follower);
  EXPECT_EQ(publish->record.since, kSince);
}

TEST(Decide, MemberRecordSinceIsNowWhenTheRoleChanged) {
  Snapshot s = follower_snapshot();
  s.kv.members["n1"].role = Role::starting;
  Plan plan = decide(s);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  EXPECT_EQ(publish->record.role, Role::follower);
  EXPECT_EQ(publish->record.since, kNow);
}

TEST(Decide, MemberRecordSinceIsNowWhenTheHealthChanged) {
  Snapshot s = follower_snapshot();
  s.kv.members["n1"].health = "consul agent slow";
  Plan plan = decide(s);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  EXPECT_EQ(publish->record.health, "ok");
  EXPECT_EQ(publish->record.since, kNow);
}

TEST(Decide, MemberRecordCarriesEveryFieldAndKeepsTheSyncthingId) {
  Snapshot s = follower_snapshot();
  s.kv.members["n1"].syncthing_device_id = "DEVICE-ID";
  s.versions["supervisor"] = "0.2.0";
  Plan plan = decide(s);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  const MemberRecord& r = publish->record;
  EXPECT_EQ(r.name, "n1");
  EXPECT_EQ(r.address, "198.18.0.1");
  EXPECT_EQ(r.role, Role::follower);
  EXPECT_EQ(r.health, "ok");
  EXPECT_EQ(r.versions.at("supervisor"), "0.2.0");
  EXPECT_EQ(r.versions.at("consul"), "1.8.7");
  EXPECT_EQ(r.syncthing_device_id, "DEVICE-ID");
  EXPECT_EQ(r.since, kSince);
  EXPECT_EQ(r.leader_epoch, 0u);
}

TEST(Decide, MemberRecordLeaderEpochIsTheLockEpochWhenLeader) {
  Snapshot s = follower_snapshot();
  s.kv.leader = LeaderLock{"s1", 99, "n1"};  // just acquired
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::leader);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  EXPECT_EQ(publish->record.role, Role::leader);
  EXPECT_EQ(publish->record.leader_epoch, 99u);
  EXPECT_EQ(publish->record.since, kNow);
}

TEST(Decide, MemberRecordLeaderEpochIsZeroWhenNotLeader) {
  Snapshot s = leader_snapshot();
  ASSERT_EQ(s.kv.members.at("n1").leader_epoch, kEpoch);
  s.kv.leader = LeaderLock{"s2", 60, "n2"};  // lost the lock to n2
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::follower);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr) << jobs_of(plan);
  EXPECT_EQ(publish->record.role, Role::follower);
  EXPECT_EQ(publish->record.leader_epoch, 0u);
  EXPECT_EQ(publish->record.since, kNow);
  EXPECT_EQ(plan.find<PublishClusterState>(), nullptr);
  EXPECT_TRUE(contains(plan.reason, "publishing member record (follower: leader_epoch, role changed)"))
      << plan.reason;
}

// ---------------------------------------------------------------- derive_role

TEST(DeriveRole, EveryCase) {
  EXPECT_EQ(derive_role(follower_snapshot()), Role::follower);
  EXPECT_EQ(derive_role(leader_snapshot()), Role::leader);
  {
    Snapshot s = leader_snapshot();
    s.shutting_down = true;
    EXPECT_EQ(derive_role(s), Role::stopping);
  }
  {
    Snapshot s = cut_off(leader_snapshot());
    EXPECT_EQ(derive_role(s), Role::cut_off);
    s.shutting_down = true;
    EXPECT_EQ(derive_role(s), Role::stopping);
  }
  {
    Snapshot s = follower_snapshot();
    s.consul.quorum_reachable = false;
    s.consul.ever_reached_quorum = false;
    EXPECT_EQ(derive_role(s), Role::starting);
  }
  {
    Snapshot s = follower_snapshot();
    s.service_registered = false;
    EXPECT_EQ(derive_role(s), Role::starting);
  }
  {
    Snapshot s = leader_snapshot();
    s.session.valid = false;
    EXPECT_EQ(derive_role(s), Role::starting);
  }
  {
    Snapshot s = leader_snapshot();
    s.kv.known = false;
    EXPECT_EQ(derive_role(s), Role::starting);
  }
  {
    Snapshot s = follower_snapshot();
    s.kv.maintenance.insert("n1");
    EXPECT_EQ(derive_role(s), Role::maintenance);
  }
  {
    Snapshot s = leader_snapshot();  // a leader in maintenance stays leader until it has released
    s.kv.maintenance.insert("n1");
    EXPECT_EQ(derive_role(s), Role::leader);
  }
  {
    Snapshot s = follower_snapshot();  // another node's maintenance is not ours
    s.kv.maintenance.insert("n2");
    EXPECT_EQ(derive_role(s), Role::follower);
  }
  {
    Snapshot s = follower_snapshot();
    s.kv.leader.reset();
    EXPECT_EQ(derive_role(s), Role::follower);
  }
  {
    Snapshot s = follower_snapshot();
    s.kv.leader = LeaderLock{"s1-other", kEpoch, "n1"};  // same name, other session: not us
    EXPECT_EQ(derive_role(s), Role::follower);
  }
}

// ---------------------------------------------------------------- purity

bool same_plan(const Plan& a, const Plan& b) {
  if (a.role != b.role || a.reason != b.reason || a.actions.size() != b.actions.size()) return false;
  for (std::size_t i = 0; i < a.actions.size(); ++i) {
    if (a.actions[i] != b.actions[i]) return false;
  }
  return true;
}

TEST(Decide, IsPure) {
  std::vector<Snapshot> snapshots;
  snapshots.push_back(follower_snapshot());
  snapshots.push_back(leader_snapshot());
  snapshots.push_back(cut_off(leader_snapshot()));
  {
    Snapshot s = leader_snapshot();
    s.kv.cluster_state.reset();
    s.kv.leader->epoch = 77;
    snapshots.push_back(s);
  }
  {
    Snapshot s = follower_snapshot();
    s.kv.leader.reset();
    s.kv.members.erase("n1");
    snapshots.push_back(s);
  }
  for (const auto& s : snapshots) {
    const Snapshot copy = s;
    Plan first = decide(s);
    Plan second = decide(s);
    EXPECT_TRUE(same_plan(first, second)) << first.reason << " vs " << second.reason;
    EXPECT_EQ(s.kv.members, copy.kv.members);  // the snapshot is not touched
  }
}

}  // namespace
}  // namespace hasup::loop

// ---- node registry and the floating IP -------------------------------------

namespace hasup::loop {
namespace {

const char* kTemplate =
    "peers:{{#peers}} {{address}}{{/peers}}\nvip {{vip}} prio {{priority}} track {{track_file}}\n";

Snapshot vip_snapshot() {
  Snapshot s = follower_snapshot();
  settle_member(s);
  s.vip.enabled = true;
  s.vip.template_text = kTemplate;
  s.vip.fault_now = false;
  s.vip.unit = "keepalived.service";
  s.vip.base.node_name = "n1";
  s.vip.base.interface = "eth0";
  s.vip.base.virtual_router_id = 51;
  s.vip.base.priority = 150;
  s.vip.base.self_address = "198.18.0.1";
  s.vip.base.vip = "198.18.0.100/24";
  s.vip.base.track_file = "/run/ha-supervisor/vip-fault";
  s.vip.base.notify_fifo = "/run/ha-supervisor/vrrp-notify.fifo";
  s.units_connected = true;
  s.units["keepalived.service"] = UnitView{"active", "running", 0, 77};
  s.vip.current_conf = keepalived::render(kTemplate, [&] {
    auto m = s.vip.base;
    m.peers = {"198.18.0.2", "198.18.0.3"};
    return m;
  }()).text;
  settle_member(s);  // again: the record carries the floating IP's settings
  return s;
}

TEST(DecideRegistry, UnregisteredNodeRegistersItself) {
  Snapshot s = follower_snapshot();
  settle_member(s);
  s.kv.registered.erase("n1");
  testing_support::derive_known_nodes(s);
  EXPECT_TRUE(decide(s).has<RegisterNode>());
  s.kv.registered["n1"] = "198.18.0.99";  // moved: the registration follows the configured address
  testing_support::derive_known_nodes(s);
  EXPECT_TRUE(decide(s).has<RegisterNode>());
  s.kv.registered["n1"] = "198.18.0.1";
  EXPECT_FALSE(decide(s).has<RegisterNode>());
  s.kv.registered_reads_schema.erase("n1");  // registered by a supervisor from before the field (an upgrade)
  EXPECT_TRUE(decide(s).has<RegisterNode>()) << "the registration says which member schema this node reads";
}

// The memory follows what this node knows, and only once Consul was read.
TEST(DecideRegistry, TheClusterNodesAreRememberedWhenTheyChange) {
  Snapshot s = follower_snapshot();
  settle_member(s);
  EXPECT_FALSE(decide(s).has<RememberNodes>()) << "in step";
  s.known.remembered.erase("n3");
  Plan changed = decide(s);
  const auto* remember = changed.find<RememberNodes>();
  ASSERT_NE(remember, nullptr);
  EXPECT_EQ(remember->nodes, s.known.nodes);
  s.busy.insert(Job::remember_nodes);
  EXPECT_FALSE(decide(s).has<RememberNodes>()) << "one write at a time";
  s.busy.clear();
  s.kv.known = false;
  testing_support::derive_known_nodes(s);
  s.known.remembered = {{"n3", {"n3", "198.18.0.3", ""}}};
  EXPECT_FALSE(decide(s).has<RememberNodes>()) << "nothing is learnt before the first read of Consul";
}

TEST(DecideVip, SteadyHealthyNodeDoesNothing) {
  Plan plan = decide(vip_snapshot());
  EXPECT_TRUE(plan.actions.empty()) << plan.reason;
}

TEST(DecideVip, HealthyNodeInFaultIsReleasedFromIt) {
  Snapshot s = vip_snapshot();
  s.vip.fault_now = true;
  Plan plan = decide(s);
  const auto* a = plan.find<SetVipFault>();
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->fault);
  EXPECT_NE(plan.reason.find("may hold it"), std::string::npos);
}

TEST(DecideVip, MissingTrackFileCountsAsFault) {
  Snapshot s = vip_snapshot();
  s.vip.fault_now = std::nullopt;
  Plan plan_ = decide(s);
  const auto* a = plan_.find<SetVipFault>();
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->fault);
}

TEST(DecideVip, CutOffNodeGivesTheIpUpAndRendersNothing) {
  Snapshot s = cut_off(vip_snapshot());
  s.kv.registered["n4"] = "198.18.0.4";  // a change it must not act on from a stale view
  testing_support::derive_known_nodes(s);
  Plan plan = decide(s);
  const auto* a = plan.find<SetVipFault>();
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->fault);
  EXPECT_EQ(plan.find<ApplyKeepalivedConf>(), nullptr);
  EXPECT_EQ(plan.actions.size(), 1u) << "a local file write only: nothing goes to Consul";
  EXPECT_NE(plan.reason.find("giving it up"), std::string::npos);
}

// Every survivor loses the quorum while the Consul servers elect a leader
// (their old one crashed). One whose gossip still reaches a majority is not
// cut off: it keeps the IP (or its right to take it) through the election,
// for vip.election_grace_ms past the cut-off, and renders nothing meanwhile.
Snapshot electing(Snapshot s) {
  s = cut_off(std::move(s));  // 7300 ms without quorum, cut off at 5000
  s.vip.election_grace = std::chrono::milliseconds(6000);
  s.consul.gossip_known = true;
  s.consul.gossip = {{"198.18.0.1", "alive"}, {"198.18.0.2", "failed"}, {"198.18.0.3", "alive"}};
  return s;
}

TEST(DecideVip, CutOffInTheGossipMajorityKeepsTheIpThroughAConsulElection) {
  Snapshot s = electing(vip_snapshot());
  s.kv.registered["n4"] = "198.18.0.4";  // a change it must not act on from a stale view
  testing_support::derive_known_nodes(s);
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::cut_off);
  EXPECT_EQ(plan.find<SetVipFault>(), nullptr) << plan.reason;
  EXPECT_EQ(plan.find<ApplyKeepalivedConf>(), nullptr);
  EXPECT_TRUE(contains(plan.reason, "floating IP: kept while Consul elects a leader (gossip: 2 of 3 alive"));
  ASSERT_TRUE(plan.wake_after.has_value());
  EXPECT_LE(plan.wake_after->count(), 11000 - 7300) << "looks again when the grace ends";
  // A survivor in FAULT from before is not released by it: only a node in the cluster is.
  s.vip.fault_now = true;
  EXPECT_FALSE(decide(s).has<SetVipFault>());
}

TEST(DecideVip, TheElectionGraceEnds) {
  Snapshot s = electing(vip_snapshot());
  s.consul.since_quorum_contact = std::chrono::milliseconds(11000);  // 5000 + 6000
  Plan plan = decide(s);
  const auto* a = plan.find<SetVipFault>();
  ASSERT_NE(a, nullptr) << plan.reason;
  EXPECT_TRUE(a->fault);
  EXPECT_TRUE(contains(plan.reason, "giving it up (FAULT: this node is cut-off)"));
}

TEST(DecideVip, ANodeCutOffByGossipOrWithoutItGivesTheIpUpAtTheCutOff) {
  Snapshot minority = electing(vip_snapshot());
  minority.consul.gossip["198.18.0.3"] = "failed";  // 1 of 3 alive: this node is the one cut off
  const Plan cut = decide(minority);
  const auto* a = cut.find<SetVipFault>();
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->fault);

  Snapshot unknown = electing(vip_snapshot());
  unknown.consul.gossip_known = false;  // its agent does not answer
  EXPECT_TRUE(decide(unknown).has<SetVipFault>());

  Snapshot no_grace = electing(vip_snapshot());
  no_grace.vip.election_grace = std::chrono::milliseconds(0);
  EXPECT_TRUE(decide(no_grace).has<SetVipFault>());
}

// A stop is most often a restart: the track file keeps its word, and
// keepalived's heartbeat check gives the IP up if the supervisor stays away.
TEST(DecideVip, ShuttingDownLeavesTheIpToTheHeartbeatCheck) {
  Snapshot s = vip_snapshot();
  s.vip.base.heartbeat_file = "/run/ha-supervisor/alive";
  s.vip.base.heartbeat_max_age_s = 10;
  s.vip.holds_address = true;
  s.shutting_down = true;
  Plan plan = decide(s);
  EXPECT_FALSE(plan.has<SetVipFault>()) << plan.reason;
  EXPECT_TRUE(contains(plan.reason, "floating IP: left as it is through this supervisor's stop (keepalived gives "
                                    "it up if the supervisor is not back within 10 s)"));
}

TEST(DecideVip, ShuttingDownWithoutAHeartbeatCheckGivesTheIpUp) {
  Snapshot s = vip_snapshot();
  s.shutting_down = true;
  Plan plan_ = decide(s);
  const auto* a = plan_.find<SetVipFault>();
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->fault);
}

// Restarted on the holder, the supervisor finds the address here and "may
// hold" in the track file: it keeps both while it opens its session again.
Snapshot restarted_holder() {
  Snapshot s = vip_snapshot();
  s.vip.holds_address = true;
  s.vip.election_grace = std::chrono::milliseconds(6000);
  s.vip.up_for = std::chrono::milliseconds(1500);
  s.session = {};
  return s;
}

TEST(DecideVip, ARestartedHolderKeepsTheIpWhileItRejoins) {
  Snapshot s = restarted_holder();
  Plan plan = decide(s);
  EXPECT_EQ(plan.role, Role::starting);
  EXPECT_TRUE(plan.has<OpenSession>());
  EXPECT_FALSE(plan.has<SetVipFault>()) << plan.reason;
  EXPECT_TRUE(contains(plan.reason, "floating IP: kept while this supervisor rejoins the cluster after its start, "
                                    "for at most 6000 ms"));
  ASSERT_TRUE(plan.wake_after.has_value());
  EXPECT_LE(plan.wake_after->count(), 4500) << "looks again when the grace ends";
  // Before the first quorum probe has answered: kept as well.
  s.consul.quorum_reachable = false;
  s.consul.ever_reached_quorum = false;
  EXPECT_FALSE(decide(s).has<SetVipFault>());
}

TEST(DecideVip, ARestartedNodeGivesTheIpUpOnAFailedProbeAtTheGraceEndOrWhenItWasNotHolding) {
  auto gives_up = [](const Snapshot& s) {
    const Plan plan = decide(s);
    const auto* a = plan.find<SetVipFault>();
    return a && a->fault;
  };
  Snapshot probe_failed = restarted_holder();
  probe_failed.consul.quorum_reachable = false;
  probe_failed.consul.ever_reached_quorum = false;
  probe_failed.consul.quorum_error = "GET /v1/kv: timed out";  // it may be cut off
  EXPECT_TRUE(gives_up(probe_failed));
  Snapshot late = restarted_holder();
  late.vip.up_for = std::chrono::milliseconds(6000);
  EXPECT_TRUE(gives_up(late));
  Snapshot not_holding = restarted_holder();
  not_holding.vip.holds_address = false;
  EXPECT_TRUE(gives_up(not_holding));
  Snapshot in_fault = restarted_holder();  // its last word was FAULT: nothing releases it
  in_fault.vip.fault_now = true;
  EXPECT_FALSE(decide(in_fault).has<SetVipFault>());
}

TEST(DecideVip, MemberRecordCarriesTheVrrpStateAndWhetherTheAddressIsHere) {
  Snapshot s = vip_snapshot();
  s.vip.vrrp_state = "BACKUP";
  Plan backup = decide(s);
  const auto* publish = backup.find<PublishMember>();
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->record.vrrp_state, "BACKUP");
  EXPECT_FALSE(publish->record.holds_vip);
  // Before keepalived's first notify (a restarted supervisor), the address says it.
  s.vip.vrrp_state.clear();
  s.vip.holds_address = true;
  Plan holder = decide(s);
  publish = holder.find<PublishMember>();
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->record.vrrp_state, "MASTER");
  EXPECT_TRUE(publish->record.holds_vip);
  // Unchanged: nothing to publish.
  s.kv.members["n1"] = publish->record;
  EXPECT_FALSE(decide(s).has<PublishMember>());
}

// Placement: a node that cannot serve clients (its nginx down, its REST
// instance failing its Consul check) gives the IP up, but only to a fit node.
Snapshot vip_with_nginx() {
  Snapshot s = vip_snapshot();
  s.consul.agent_node = "consul-n1";
  s.nginx.enabled = true;
  s.nginx.current_body = "events {}\n";
  s.nginx.unit = "ha-nginx.service";
  s.units["ha-nginx.service"] = UnitView{"active", "running", 0, 88};
  WatchedService rest;
  rest.name = "rest-service";
  rest.known = true;
  s.nginx.services.push_back(rest);
  return s;
}

TEST(DecideVip, AnUnfitNodeGivesTheIpUpToAFitOne) {
  Snapshot s = vip_with_nginx();
  s.nginx.services[0].failing_nodes = {"consul-n1"};
  Plan plan = decide(s);
  const auto* fault = plan.find<SetVipFault>();
  ASSERT_NE(fault, nullptr) << plan.reason;
  EXPECT_TRUE(fault->fault);
  EXPECT_TRUE(contains(plan.reason, "giving it up to a fit node such as n2 (FAULT: rest-service failing its checks here)"));
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->record.health, "rest-service failing its checks here");

  Snapshot down = vip_with_nginx();
  down.units["ha-nginx.service"].active_state = "failed";
  Plan nginx_down = decide(down);
  ASSERT_NE(nginx_down.find<SetVipFault>(), nullptr);
  EXPECT_TRUE(contains(nginx_down.reason, "FAULT: nginx failed"));
  // A reload is not a failure.
  down.units["ha-nginx.service"].active_state = "reloading";
  EXPECT_FALSE(decide(down).has<SetVipFault>());
}

// A node whose replicated folders' filesystem is full takes every upload
// through the floating IP and fails it ("No space left on device"): it gives
// the IP up, and the member table says why. The lab's files-full fault
// (scripts/chaos) fills a real holder's filesystem.
TEST(DecideVip, ANodeWhoseFilesFilesystemIsFullGivesTheIpUp) {
  Snapshot s = vip_snapshot();
  s.files.enabled = true;
  s.files.space.space = util::FilesystemSpace{12ull << 20, 1ull << 30};
  Plan roomy = decide(s);
  EXPECT_FALSE(roomy.has<SetVipFault>()) << roomy.reason;
  ASSERT_NE(roomy.find<PublishMember>(), nullptr);
  EXPECT_EQ(roomy.find<PublishMember>()->record.files_state.find("FULL"), std::string::npos);

  s.files.full = true;
  Plan full = decide(s);
  const auto* fault = full.find<SetVipFault>();
  ASSERT_NE(fault, nullptr) << full.reason;
  EXPECT_TRUE(fault->fault);
  EXPECT_TRUE(contains(full.reason, "(FAULT: files: the folders' filesystem is full)")) << full.reason;
  const auto* publish = full.find<PublishMember>();
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->record.health, "files: the folders' filesystem is full");
  EXPECT_EQ(publish->record.files_state, "filesystem FULL");

  // The grace every problem gets holds here too.
  s.vip.unfit_grace = std::chrono::milliseconds(3000);
  s.vip.problem_for = std::chrono::milliseconds(1000);
  EXPECT_FALSE(decide(s).has<SetVipFault>());
}

TEST(DecideVip, AnUnfitNodeKeepsTheIpWhenNoOtherNodeIsFit) {
  Snapshot s = vip_with_nginx();
  s.nginx.services[0].failing_nodes = {"consul-n1"};
  for (const auto& other : {"n2", "n3"}) s.kv.members[other].health = "rest-service failing its checks here";
  Plan plan = decide(s);
  EXPECT_EQ(plan.find<SetVipFault>(), nullptr) << plan.reason;
  // Nor to a node in maintenance.
  s.kv.members["n3"].health = "ok";
  s.kv.maintenance.insert("n3");
  EXPECT_FALSE(decide(s).has<SetVipFault>());
}

TEST(DecideVip, FloatingIpSettingsThatDifferBetweenNodesAreReportedAsHealth) {
  Snapshot s = vip_snapshot();
  s.kv.members["n2"].vip_settings = "vrid 52 198.18.0.100/24";
  Plan plan = decide(s);
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->record.vip_settings, "vrid 51 198.18.0.100/24");
  EXPECT_EQ(publish->record.health,
            "floating IP settings (vrid 51 198.18.0.100/24) differ from n2's (vrid 52 198.18.0.100/24)");
  // A node without a floating IP (empty settings) is not a disagreement.
  s.kv.members["n2"].vip_settings.clear();
  EXPECT_EQ(s.kv.members["n1"].health, "ok");
  EXPECT_FALSE(decide(s).has<PublishMember>()) << "the published healthy record stands";
}

TEST(DecideVip, AFailingInstanceOnAnotherNodeDoesNotMoveTheIp) {
  Snapshot s = vip_with_nginx();
  s.nginx.services[0].failing_nodes = {"consul-n2"};
  EXPECT_FALSE(decide(s).has<SetVipFault>());
}

TEST(DecideVip, PeersAreEveryRegisteredNodeAliveOrNot) {
  Snapshot s = vip_snapshot();
  // n3 crashed: its member record is gone, its registration stays.
  s.kv.members.erase("n3");
  s.kv.member_sessions.erase("n3");
  EXPECT_FALSE(decide(s).has<ApplyKeepalivedConf>())
      << "a crashed node stays a peer: no re-render, no reload, no flap when it returns";
  // A fourth node registers: every node adds it.
  s.kv.registered["n4"] = "198.18.0.4";
  testing_support::derive_known_nodes(s);
  Plan with_n4 = decide(s);
  const auto* a = with_n4.find<ApplyKeepalivedConf>();
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->text.find("peers: 198.18.0.2 198.18.0.3 198.18.0.4\n"), std::string::npos) << a->text;
  EXPECT_EQ(a->after, AfterWrite::reload) << "keepalived runs: new peers by a reload, the IP stays";
  s.units["keepalived.service"].active_state = "inactive";
  Plan stopped = decide(s);
  ASSERT_NE(stopped.find<ApplyKeepalivedConf>(), nullptr);
  EXPECT_EQ(stopped.find<ApplyKeepalivedConf>()->after, AfterWrite::nothing) << "StartKeepalived starts it";
}

// Consul's data lost (or an ACL token that cannot read nodes/) while n3 is
// down: the view has no registration at all. Applying it would leave
// keepalived without peers (MASTER alone) and the VRRP filter dropping every
// advert; the remembered nodes keep both as they were.
TEST(DecideVip, AConsulViewWithoutTheRegistrationsKeepsThePeersAndTheFilter) {
  Snapshot s = vip_snapshot();
  s.vip.filter_enabled = true;
  Plan first = decide(s);
  ASSERT_NE(first.find<ApplyVrrpFilter>(), nullptr);
  s.vip.filter_applied = first.find<ApplyVrrpFilter>()->ruleset;
  ASSERT_FALSE(decide(s).has<ApplyKeepalivedConf>());
  s.kv.members.erase("n3");
  s.kv.member_sessions.erase("n3");
  s.kv.registered.clear();
  s.kv.registered_devices.clear();
  const auto remembered = s.known.remembered;
  s.known = cluster::known_nodes(s.kv, remembered, s.self);
  Plan plan = decide(s);
  EXPECT_FALSE(plan.has<ApplyKeepalivedConf>()) << plan.reason;
  EXPECT_FALSE(plan.has<ApplyVrrpFilter>()) << plan.reason;
  EXPECT_FALSE(plan.has<RememberNodes>()) << "nothing new to remember";
  EXPECT_NE(plan.reason.find("kept as peers, missing from Consul's registrations but never forgotten: n2, n3"),
            std::string::npos) << plan.reason;

  // The operator forgets n3: its tombstone lets it go, and the memory follows.
  s.kv.forgotten.insert("n3");
  s.known = cluster::known_nodes(s.kv, remembered, s.self);
  Plan forgotten = decide(s);
  const auto* conf = forgotten.find<ApplyKeepalivedConf>();
  ASSERT_NE(conf, nullptr) << forgotten.reason;
  EXPECT_NE(conf->text.find("peers: 198.18.0.2\n"), std::string::npos) << conf->text;
  const auto* remember = forgotten.find<RememberNodes>();
  ASSERT_NE(remember, nullptr) << forgotten.reason;
  EXPECT_EQ(remember->nodes.count("n3"), 0u);
  EXPECT_EQ(remember->nodes.count("n2"), 1u);
}

// The kernel's VRRP filter follows the same peers as keepalived.conf: loaded
// once per start (a boot empties the kernel's tables), again when the members
// change, and a ruleset nft refused is not asked for in a loop.
TEST(DecideVip, TheVrrpFilterIsLoadedAtStartAndFollowsThePeers) {
  Snapshot s = vip_snapshot();
  EXPECT_FALSE(decide(s).has<ApplyVrrpFilter>()) << "vip.vrrp_filter off: no filter";
  s.vip.filter_enabled = true;
  Plan first = decide(s);
  const auto* a = first.find<ApplyVrrpFilter>();
  ASSERT_NE(a, nullptr) << first.reason;
  EXPECT_NE(a->ruleset.find("ip protocol vrrp ip saddr != { 198.18.0.2, 198.18.0.3 } counter drop"), std::string::npos)
      << a->ruleset;
  EXPECT_FALSE(first.has<ApplyKeepalivedConf>()) << "keepalived.conf is unchanged: no reload for the filter";
  s.vip.filter_applied = a->ruleset;
  EXPECT_FALSE(decide(s).has<ApplyVrrpFilter>()) << "loaded: nothing to do";
  s.kv.registered["n4"] = "198.18.0.4";
  testing_support::derive_known_nodes(s);
  Plan with_n4 = decide(s);
  ASSERT_NE(with_n4.find<ApplyVrrpFilter>(), nullptr);
  EXPECT_NE(with_n4.find<ApplyVrrpFilter>()->ruleset.find("{ 198.18.0.2, 198.18.0.3, 198.18.0.4 }"), std::string::npos);
  s.vip.filter_refused = with_n4.find<ApplyVrrpFilter>()->ruleset;
  s.vip.filter_error = "nft: No such file or directory";
  Plan refused = decide(s);
  EXPECT_FALSE(refused.has<ApplyVrrpFilter>()) << "the same ruleset is not asked for again";
  EXPECT_NE(refused.reason.find("VRRP filter refused by nft"), std::string::npos) << refused.reason;
  EXPECT_NE(refused.reason.find("No such file"), std::string::npos) << refused.reason;
}

TEST(DecideVip, RenderErrorIsReportedAndNothingWritten) {
  Snapshot s = vip_snapshot();
  s.kv.registered["n9"] = "198.18.0.9\n}";
  testing_support::derive_known_nodes(s);
  Plan plan = decide(s);
  EXPECT_EQ(plan.find<ApplyKeepalivedConf>(), nullptr);
  EXPECT_NE(plan.reason.find("not rendered"), std::string::npos) << plan.reason;
}

TEST(DecideVip, KeepalivedIsStartedWhenItHasAConfigAndIsNotRunning) {
  Snapshot s = vip_snapshot();
  s.units["keepalived.service"].active_state = "failed";
  EXPECT_TRUE(decide(s).has<StartKeepalived>());
  s.units["keepalived.service"].active_state = "activating";
  EXPECT_FALSE(decide(s).has<StartKeepalived>());
  s.units["keepalived.service"].active_state = "inactive";
  s.vip.current_conf = std::nullopt;
  EXPECT_FALSE(decide(s).has<StartKeepalived>()) << "no config, nothing to start";
}

// keepalived.conf written, the supervisor gone before the reload: keepalived
// (unit active since before the file) runs the peers before it.
Snapshot vip_running_an_older_file() {
  Snapshot s = vip_snapshot();
  const WallTime reloaded = WallTime(std::chrono::seconds(1'800'000'000));
  s.units["keepalived.service"].state_changed = reloaded;
  s.vip.conf_file.written = reloaded + std::chrono::seconds(2);
  s.vip.vrrp_state = "BACKUP";
  return s;
}

TEST(DecideVip, AFileNewerThanKeepalivedsLastReloadIsReloadedFromASettledState) {
  Snapshot s = vip_running_an_older_file();
  Plan plan = decide(s);
  const auto* apply = plan.find<ApplyKeepalivedConf>();
  ASSERT_NE(apply, nullptr) << plan.reason;
  EXPECT_TRUE(apply->catch_up);
  EXPECT_EQ(apply->after, AfterWrite::reload);
  EXPECT_EQ(apply->text, *s.vip.current_conf) << "the file as it is";
  EXPECT_NE(plan.reason.find("floating IP: keepalived: the file was written after keepalived last (re)loaded "
                             "(the supervisor stopped between write and reload?): reloading"),
            std::string::npos)
      << plan.reason;
  s.vip.vrrp_state = "MASTER";
  EXPECT_TRUE(decide(s).has<ApplyKeepalivedConf>());

  s.vip.conf_file.written = *s.units["keepalived.service"].state_changed - std::chrono::seconds(1);
  EXPECT_FALSE(decide(s).has<ApplyKeepalivedConf>()) << "keepalived (re)loaded after the write";
}

// A reload makes keepalived dump its instances' states to the FIFO; taken
// while the instance moves, the dump left the reported state at FAULT for
// good. Not from FAULT, an unknown state, a track file saying FAULT, or with
// a track file written in the same cycle.
TEST(DecideVip, KeepalivedIsNotReloadedForAnOlderFileUnlessSettled) {
  for (const char* state : {"FAULT", "", "STOP"}) {
    Snapshot s = vip_running_an_older_file();
    s.vip.vrrp_state = state;
    Plan plan = decide(s);
    EXPECT_FALSE(plan.has<ApplyKeepalivedConf>()) << state;
    EXPECT_NE(plan.reason.find("reloading once its instance is settled (BACKUP or MASTER"), std::string::npos)
        << plan.reason;
  }
  Snapshot s = vip_running_an_older_file();
  // This follower becomes a leader with a track file saying FAULT: the plan writes 0.
  s.vip.fault_now = true;
  Plan releasing = decide(s);
  ASSERT_TRUE(releasing.has<SetVipFault>()) << releasing.reason;
  EXPECT_FALSE(releasing.has<ApplyKeepalivedConf>()) << releasing.reason;
  s.vip.fault_now = false;
  s.vip.base.preference_file = "/run/ha-supervisor/vip-preferred";
  s.vip.base.preference_weight = 10;
  // Rendered with the preference: the file as it is holds it too.
  s.vip.current_conf = keepalived::render(kTemplate, [&] {
    auto m = s.vip.base;
    m.peers = {"198.18.0.2", "198.18.0.3"};
    return m;
  }()).text;
  s.vip.preferred_now = true;  // no database primary here: the plan writes 0
  Plan preferring = decide(s);
  ASSERT_TRUE(preferring.has<SetVipPreference>()) << preferring.reason;
  EXPECT_FALSE(preferring.has<ApplyKeepalivedConf>()) << preferring.reason;
  EXPECT_NE(preferring.reason.find("reloading once the track files are written"), std::string::npos)
      << preferring.reason;
  s.vip.preferred_now = false;
  s.busy.insert(Job::set_vip_fault);
  EXPECT_FALSE(decide(s).has<ApplyKeepalivedConf>()) << "a track file being written";
  s.busy = {Job::start_keepalived};
  EXPECT_FALSE(decide(s).has<ApplyKeepalivedConf>());
  s.busy.clear();
  s.vip.conf_file.since_catch_up = std::chrono::milliseconds(2000);
  s.vip.conf_file.catch_up_error = "reload of keepalived.service: failed";
  Plan failed = decide(s);
  EXPECT_FALSE(failed.has<ApplyKeepalivedConf>());
  EXPECT_NE(failed.reason.find("the reload failed (reload of keepalived.service: failed); next try 10 s"),
            std::string::npos)
      << failed.reason;
  ASSERT_TRUE(failed.wake_after);
  EXPECT_LE(*failed.wake_after, std::chrono::milliseconds(8000));
}

TEST(DecideVip, DisabledVipDecidesNothing) {
  Snapshot s = vip_snapshot();
  s.vip.enabled = false;
  s.vip.fault_now = true;
  Plan plan = decide(s);
  for (Job job : {Job::set_vip_fault, Job::apply_keepalived_conf, Job::start_keepalived})
    EXPECT_FALSE(has_job(plan, job)) << to_string(job);
}

}  // namespace
}  // namespace hasup::loop

namespace hasup::loop {
namespace {

// Placement with the database: a node whose local endpoint has not taken a
// write for unfit_after gives the IP up to a fit node; a short failure (every
// node sees one during a failover) does not move it.
Snapshot vip_with_db(bool writable, std::chrono::milliseconds failing_for) {
  Snapshot s = vip_snapshot();
  s.db.enabled = true;
  s.db.backend = "stolon";  // nothing rendered: only the probes count here
  s.db.unfit_after = std::chrono::milliseconds(3000);
  db::EndpointProbe probe;
  probe.connected = writable;
  probe.writable = writable;
  probe.error = writable ? "" : "connection refused";
  s.db.endpoint = probe;
  s.db.endpoint_failing_for = failing_for;
  return s;
}

TEST(DecideVip, ANodeWhoseEndpointTakesNoWritesGivesTheIpUp) {
  Snapshot s = vip_with_db(false, std::chrono::milliseconds(3500));
  Plan plan = decide(s);
  const auto* fault = plan.find<SetVipFault>();
  ASSERT_NE(fault, nullptr) << plan.reason;
  EXPECT_TRUE(fault->fault);
  EXPECT_TRUE(contains(plan.reason, "FAULT: database not writable through the local endpoint"));
  const auto* publish = plan.find<PublishMember>();
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->record.health, "database not writable through the local endpoint")
      << "stable words: the error text would change the record with every probe";
}

TEST(DecideVip, AShortDatabaseOutageDoesNotMoveTheIp) {
  EXPECT_FALSE(decide(vip_with_db(false, std::chrono::milliseconds(2900))).has<SetVipFault>());
  EXPECT_FALSE(decide(vip_with_db(true, std::chrono::milliseconds(0))).has<SetVipFault>());
  // Before the first probe has finished, nothing is known: no judgement.
  Snapshot unknown = vip_with_db(true, std::chrono::milliseconds(0));
  unknown.db.endpoint.reset();
  EXPECT_FALSE(decide(unknown).has<SetVipFault>());
}

TEST(DecideVip, EveryNodeWithoutTheDatabaseKeepsTheIpWhereItIs) {
  Snapshot s = vip_with_db(false, std::chrono::milliseconds(10000));
  for (const auto& other : {"n2", "n3"}) s.kv.members[other].health = "database not writable through the local endpoint";
  EXPECT_FALSE(decide(s).has<SetVipFault>());
}

}  // namespace
}  // namespace hasup::loop

namespace hasup::loop {
namespace {

// A problem must last the grace before the IP moves: during a database
// failover every node's REST check fails within a second or so of the
// others', and a node that acted at once would hand the IP to a node whose
// own failure is not published yet.
TEST(DecideVip, AProblemYoungerThanTheGraceKeepsTheIpAndWakesWhenItRunsOut) {
  Snapshot s = vip_with_nginx();
  s.nginx.services[0].failing_nodes = {"consul-n1"};
  s.vip.unfit_grace = std::chrono::milliseconds(3000);
  s.vip.problem_for = std::chrono::milliseconds(1000);
  Plan young = decide(s);
  EXPECT_EQ(young.find<SetVipFault>(), nullptr) << young.reason;
  ASSERT_TRUE(young.wake_after.has_value());
  EXPECT_EQ(*young.wake_after, std::chrono::milliseconds(2000));
  EXPECT_TRUE(contains(young.reason, "kept while rest-service failing its checks here"));
  s.vip.problem_for = std::chrono::milliseconds(3000);
  Plan old = decide(s);
  const auto* fault = old.find<SetVipFault>();
  ASSERT_NE(fault, nullptr);
  EXPECT_TRUE(fault->fault);
}

}  // namespace
}  // namespace hasup::loop

namespace hasup::loop {
namespace {

// Among healthy nodes the database primary's is preferred as the next holder:
// its preference track file says 1, every other node's 0.
TEST(DecideVip, TheDatabasePrimarysNodeIsPreferredAsTheNextHolder) {
  Snapshot s = vip_snapshot();
  s.vip.base.preference_file = "/run/ha-supervisor/vip-db-primary";
  s.vip.base.preference_weight = 20;
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.cluster_known = true;
  s.db.cluster.initialized = true;
  s.db.cluster.primary = "n1";
  Plan plan = decide(s);
  const auto* pref = plan.find<SetVipPreference>();
  ASSERT_NE(pref, nullptr) << plan.reason;
  EXPECT_TRUE(pref->preferred);
  EXPECT_TRUE(contains(plan.reason, "preferred as the next holder"));
  s.vip.preferred_now = true;
  EXPECT_FALSE(decide(s).has<SetVipPreference>());
  // A failover elsewhere: the preference goes with the primary.
  s.db.cluster.primary = "n2";
  Plan moved = decide(s);
  pref = moved.find<SetVipPreference>();
  ASSERT_NE(pref, nullptr);
  EXPECT_FALSE(pref->preferred);
  // No primary (failover in progress): no node is preferred.
  s.vip.preferred_now = false;
  s.db.cluster.primary.clear();
  EXPECT_FALSE(decide(s).has<SetVipPreference>());
}

// ---------------------------------------------------------------- the catalog and the local agent

// A check the local agent runs passing that the catalog shows critical: the
// agent's push of the change was lost (the fault suite's kill-consul-leader).
Snapshot drifted(std::chrono::milliseconds lasted) {
  Snapshot s = follower_snapshot();
  s.consul.catalog_drift.push_back({"rest-service-status", "passing", "critical", lasted});
  return s;
}

TEST(DecideCatalogSync, ALastingDisagreementAsksTheAgentForAFullSync) {
  Plan plan = decide(drifted(std::chrono::milliseconds(5000)));
  const ResyncConsulAgent* resync = plan.find<ResyncConsulAgent>();
  ASSERT_NE(resync, nullptr) << jobs_of(plan);
  EXPECT_TRUE(contains(resync->disagreements, "\"rest-service-status\" (agent passing, catalog \"critical\")"));
  EXPECT_TRUE(contains(plan.reason, "Consul's catalog disagrees with the local agent for more than 5 s on"));
  EXPECT_TRUE(contains(plan.reason, "asking the agent for a full sync (reload)"));
  EXPECT_TRUE(contains(plan.reason, "follower of n2")) << "the cluster's part is still said";
}

TEST(DecideCatalogSync, TheUsualLagOfAPushIsLeftAloneAndLookedAtAgainWhenItWouldCount) {
  Plan plan = decide(drifted(std::chrono::milliseconds(1200)));
  EXPECT_FALSE(plan.has<ResyncConsulAgent>());
  EXPECT_FALSE(contains(plan.reason, "catalog"));
  ASSERT_TRUE(plan.wake_after.has_value());
  EXPECT_EQ(*plan.wake_after, std::chrono::milliseconds(3800));
}

TEST(DecideCatalogSync, AsksAtMostOnceEvery30Seconds) {
  Snapshot s = drifted(std::chrono::milliseconds(20000));
  s.consul.agent_resync_ago = std::chrono::milliseconds(12000);
  Plan plan = decide(s);
  EXPECT_FALSE(plan.has<ResyncConsulAgent>()) << jobs_of(plan);
  EXPECT_TRUE(contains(plan.reason, "asked for a full sync less than 30 s ago"));
  ASSERT_TRUE(plan.wake_after.has_value());
  EXPECT_LE(*plan.wake_after, std::chrono::milliseconds(18000));
  s.consul.agent_resync_ago = std::chrono::milliseconds(900);
  plan = decide(s);
  EXPECT_FALSE(plan.has<ResyncConsulAgent>());
  EXPECT_FALSE(contains(plan.reason, "catalog")) << "the sync just asked for is under way: nothing to say yet";
  s.consul.agent_resync_ago = std::chrono::milliseconds(30000);
  EXPECT_TRUE(decide(s).has<ResyncConsulAgent>());
}

TEST(DecideCatalogSync, NotWithoutAQuorumNorWhileShuttingDownNorWhileOneRuns) {
  Snapshot cut_off = drifted(std::chrono::milliseconds(9000));
  cut_off.consul.quorum_reachable = false;
  EXPECT_FALSE(decide(cut_off).has<ResyncConsulAgent>()) << "a full sync needs a Raft leader";
  Snapshot stopping = drifted(std::chrono::milliseconds(9000));
  stopping.shutting_down = true;
  EXPECT_FALSE(decide(stopping).has<ResyncConsulAgent>());
  Snapshot busy = drifted(std::chrono::milliseconds(9000));
  busy.busy.insert(Job::resync_consul_agent);
  EXPECT_FALSE(decide(busy).has<ResyncConsulAgent>());
}

TEST(DecideCatalogSync, ACheckIdFromConsulIsQuotedInTheReason) {
  Snapshot s = follower_snapshot();
  s.consul.catalog_drift.push_back({"evil\nid", "passing", "missing", std::chrono::milliseconds(6000)});
  Plan plan = decide(s);
  EXPECT_FALSE(contains(plan.reason, "evil\nid"));
  EXPECT_TRUE(contains(plan.reason, "\"evil\\x0aid\""));
}


// ---------------------------------------------------------------- the cluster's settings

TEST(Decide, LeaderRestoresTheSettingsTheStoreLost) {
  Snapshot s = leader_snapshot();
  s.settings.applied_index = 40;
  s.settings.applied_text = R"({"vip.unfit_grace_ms":2500})";
  s.kv.members["n2"].settings_index = 40;
  Plan plan = decide(s);
  const RestoreSettings* restore = plan.find<RestoreSettings>();
  ASSERT_TRUE(restore) << jobs_of(plan);
  EXPECT_EQ(restore->text, R"({"vip.unfit_grace_ms":2500})");
  EXPECT_EQ(restore->index, 40u);
}

TEST(Decide, NoRestoreWhenTheStoreHasSettingsOrAMemberHasNewer) {
  Snapshot s = leader_snapshot();
  s.settings.applied_index = 40;
  s.settings.applied_text = "{}";
  s.kv.members["n3"].settings_index = 41;  // n3 applied a change this node missed
  EXPECT_FALSE(has_job(decide(s), Job::restore_settings));
  s.kv.members["n3"].settings_index = 40;
  s.kv.settings = KvView::StoredValue{"{}", 50};
  EXPECT_FALSE(has_job(decide(s), Job::restore_settings));
  s.kv.settings.reset();
  s.settings.applied_index = 0;  // never had settings: nothing to restore
  EXPECT_FALSE(has_job(decide(s), Job::restore_settings));
}

TEST(Decide, OnlyTheLeaderRestoresSettings) {
  Snapshot s = follower_snapshot();
  s.settings.applied_index = 40;
  EXPECT_FALSE(has_job(decide(s), Job::restore_settings));
}

TEST(Decide, MemberRecordCarriesTheSettingsState) {
  Snapshot s = follower_snapshot();
  s.settings.applied_index = 40;
  s.settings.pending = {"consul.session_ttl_s"};
  s.settings.error = "refused";
  const Plan plan = decide(s);
  const PublishMember* publish = plan.find<PublishMember>();
  ASSERT_TRUE(publish) << jobs_of(plan);
  EXPECT_EQ(publish->record.settings_index, 40u);
  EXPECT_EQ(publish->record.settings_pending, std::vector<std::string>{"consul.session_ttl_s"});
  EXPECT_EQ(publish->record.settings_error, "refused");
}

}  // namespace
}  // namespace hasup::loop
