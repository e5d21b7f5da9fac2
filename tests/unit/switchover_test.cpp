// A planned switchover (components/switchover): the stored record, the dry
// run's rules, and every phase the leader takes from snapshots, with the
// write hold each node keeps for its upload gate and the floating IP's rule.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "components/keepalived/decide.hpp"
#include "components/keepalived/tcp_connections.hpp"
#include "components/switchover/decide.hpp"
#include "components/switchover/record.hpp"
#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/status_table.hpp"
#include "supervisor/cli/switchover_text.hpp"
#include "supervisor/loop/decide.hpp"
#include "tests/unit/cluster_snapshots.hpp"

namespace hasup::loop {
namespace {

using switchover::Phase;
using switchover::SwitchoverRecord;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

constexpr std::int64_t kNow = 1'765'000'000'000;

using sample::db_member;
using sample::live_member;

// n1 primary and floating-IP holder, n2 its synchronous standby, n3 a replica;
// this node (n2 by default) leads the supervisors.
Snapshot whole(const std::string& self = "n2") {
  Snapshot s = sample::three_node_cluster(self);
  s.wall_ms = kNow;
  s.switchover.enabled = true;
  s.switchover.hold_writes = true;
  s.vip.enabled = true;
  return s;
}

SwitchoverRecord requested(Phase phase = Phase::hold, std::int64_t started = kNow) {
  SwitchoverRecord r;
  r.id = "so-0a1b2c3d";
  r.from = "n1";
  r.to = "n2";
  r.requested_by = "api@n3";
  r.requested_at = "2026-12-05T23:00:00Z";
  r.phase = phase;
  r.phase_started_ms = started;
  r.hold_until_ms = kNow + 15000;
  return r;
}

void store(Snapshot& s, const SwitchoverRecord& r, std::uint64_t index = 50) {
  s.kv.switchover = KvView::StoredValue{switchover::encode(r), index};
}

Plan leading() {
  Plan p;
  p.role = cluster::Role::leader;
  return p;
}

// The record the plan writes, decoded; fails the test when none.
SwitchoverRecord written(const Plan& plan) {
  const auto* w = plan.find<WriteSwitchover>();
  if (!w) {
    ADD_FAILURE() << "no WriteSwitchover in the plan";
    return {};
  }
  auto decoded = switchover::decode_switchover(w->text);
  EXPECT_TRUE(decoded.record) << decoded.error;
  EXPECT_EQ(w->index, 50u) << "check-and-set on the index it was read at";
  return decoded.record.value_or(SwitchoverRecord{});
}

TEST(SwitchoverRecord, RoundTripsAndRefusesAnythingHalfRight) {
  auto r = requested(Phase::failed);
  r.steps = {{"hold", 120}, {"database", 2400}};
  r.outcome = "step floating-ip failed: x";
  auto back = switchover::decode_switchover(switchover::encode(r));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(*back.record, r);
  auto text = switchover::encode(requested());
  for (auto [from, to] : {std::pair{"\"hold\"", "\"holding\""}, {"so-0a1b2c3d", "so-0A1B"}, {"\"n2\"", "\"N2;x\""},
                          {"\"hold_until_ms\":", "\"hold_until\":"}}) {
    auto bad = text;
    bad.replace(bad.find(from), std::string(from).size(), to);
    EXPECT_FALSE(switchover::decode_switchover(bad).record) << bad;
  }
  EXPECT_FALSE(switchover::decode_switchover("{\"schema\":2}").record);
  EXPECT_FALSE(switchover::decode_switchover("not json").record);
}

TEST(SwitchoverPreview, ChoosesTheSynchronousStandbyAndSaysEachStep) {
  auto p = preview_switchover(whole(), "");
  EXPECT_EQ(p.refusal, "");
  EXPECT_EQ(p.from, "n1");
  EXPECT_EQ(p.to, "n2");
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_TRUE(contains(p.steps[0], "floating-ip: every other node gives the floating IP up to n2")) << p.steps[0];
  EXPECT_TRUE(contains(p.steps[2], "Patroni switches n1 over to n2")) << p.steps[2];
  EXPECT_TRUE(contains(cli::render_switchover_preview(to_json(p)), "3. database"));
}

TEST(SwitchoverPreview, RefusesATargetThatCouldLoseSomethingOrCannotServe) {
  auto refusal = [](const Snapshot& s, const std::string& to) { return preview_switchover(s, to).refusal; };
  auto s = whole();
  EXPECT_TRUE(contains(refusal(s, "n3"), "n3 is not a synchronous standby")) << refusal(s, "n3");
  EXPECT_TRUE(contains(refusal(s, "n1"), "n1 is the primary already"));
  EXPECT_TRUE(contains(refusal(s, "n9"), "n9 is not a live member"));
  auto behind = s;
  behind.kv.members["n2"].files_state = "receiving, 2/2 peers";
  EXPECT_TRUE(contains(refusal(behind, "n2"), "files are not complete")) << refusal(behind, "n2");
  auto sick = s;
  sick.kv.members["n2"].health = "nginx not serving";
  EXPECT_TRUE(contains(refusal(sick, "n2"), "not healthy (nginx not serving)"));
  auto maintenance = s;
  maintenance.kv.maintenance = {"n2"};
  EXPECT_TRUE(contains(refusal(maintenance, "n2"), "in maintenance"));
  auto stopped = s;
  stopped.db.cluster.members[1].healthy = false;
  EXPECT_TRUE(contains(refusal(stopped, "n2"), "PostgreSQL is not running"));
  EXPECT_TRUE(contains(refusal(stopped, ""), "no member can take over")) << refusal(stopped, "");
}

TEST(SwitchoverPreview, RefusesDuringAFailoverAnotherSwitchoverOrWithoutPatroni) {
  auto refusal = [](const Snapshot& s) { return preview_switchover(s, "n2").refusal; };
  auto failover = whole();
  failover.db.cluster.primary = "";
  EXPECT_TRUE(contains(refusal(failover), "a failover is under way")) << refusal(failover);
  auto twice = whole();
  store(twice, requested(Phase::database));
  EXPECT_TRUE(contains(refusal(twice), "a switchover to n2 is under way (phase database")) << refusal(twice);
  auto after = whole();
  store(after, requested(Phase::done));
  EXPECT_EQ(refusal(after), "") << "an ended switchover is replaced";
  auto stolon = whole();
  stolon.db.backend = "stolon";
  EXPECT_TRUE(contains(refusal(stolon), "not built yet"));
  auto cut_off = whole();
  cut_off.consul.quorum_reachable = false;
  EXPECT_TRUE(contains(refusal(cut_off), "no quorum"));
  auto no_leader = whole();
  no_leader.kv.leader.reset();
  EXPECT_TRUE(contains(refusal(no_leader), "no supervisor leads"));
  auto cold = whole();
  cold.kv.cold_start = KvView::StoredValue{"{}", 3};
  EXPECT_TRUE(contains(refusal(cold), "cold-start acceptance"));
}

TEST(SwitchoverHold, EveryNodeHoldsWritesWhileTheRecordSaysSoAndNeverPastItsBound) {
  auto s = whole("n3");
  store(s, requested());
  Plan plan;
  decide_switchover(plan, s);
  const auto* hold = plan.find<SetWriteHold>();
  ASSERT_TRUE(hold);
  EXPECT_EQ(hold->id, "so-0a1b2c3d");
  EXPECT_EQ(hold->until_ms, kNow + 15000);
  ASSERT_TRUE(plan.wake_after);
  EXPECT_EQ(*plan.wake_after, std::chrono::milliseconds(15000)) << "a cycle when the bound passes";

  s.switchover.hold_written = "so-0a1b2c3d";
  Plan kept;
  decide_switchover(kept, s);
  EXPECT_FALSE(kept.has<SetWriteHold>()) << "written once";

  for (auto phase : {Phase::floating_ip, Phase::done, Phase::failed}) {
    auto later = s;
    store(later, requested(phase));
    Plan released;
    decide_switchover(released, later);
    const auto* r = released.find<SetWriteHold>();
    ASSERT_TRUE(r) << to_string(phase);
    EXPECT_EQ(r->id, "") << "removed in phase " << to_string(phase);
  }
  auto past = s;
  past.wall_ms = kNow + 15000;
  Plan bounded;
  decide_switchover(bounded, past);
  ASSERT_TRUE(bounded.find<SetWriteHold>());
  EXPECT_EQ(bounded.find<SetWriteHold>()->id, "") << "never past hold_until_ms";

  auto no_gate = whole("n3");
  no_gate.switchover.hold_writes = false;
  store(no_gate, requested());
  Plan none;
  decide_switchover(none, no_gate);
  EXPECT_FALSE(none.has<SetWriteHold>());
}

TEST(SwitchoverLeader, WaitsForEveryGateThenAsksForTheDatabase) {
  auto s = whole();
  store(s, requested());
  s.kv.members["n1"].writes_held = "so-0a1b2c3d";
  s.kv.members["n2"].writes_held = "so-0a1b2c3d";
  s.wall_ms = kNow + 300;
  auto plan = leading();
  auto note = decide_switchover(plan, s);
  EXPECT_FALSE(plan.has<WriteSwitchover>());
  EXPECT_TRUE(contains(note, "waiting for the writes at the REST service on n3")) << note;

  s.kv.members["n3"].writes_held = "so-0a1b2c3d";
  auto next = leading();
  decide_switchover(next, s);
  auto r = written(next);
  EXPECT_EQ(r.phase, Phase::database);
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0], (switchover::Step{"hold", 300}));

  auto follower = s;
  Plan not_leader;
  not_leader.role = cluster::Role::follower;
  decide_switchover(not_leader, follower);
  EXPECT_FALSE(not_leader.has<WriteSwitchover>()) << "only the leader moves the record";

  auto without_gate = s;
  without_gate.kv.members["n3"].writes_held.reset();
  without_gate.kv.members["n1"].writes_held = "so-0a1b2c3d";
  auto plan2 = leading();
  decide_switchover(plan2, without_gate);
  EXPECT_EQ(written(plan2).phase, Phase::database) << "a node with no gate is not waited for";
}

TEST(SwitchoverLeader, AGateThatNeverDrainsFailsTheHoldAndReleasesEverything) {
  auto s = whole();
  store(s, requested());
  s.wall_ms = kNow + kSwitchoverDrainLimit.count();
  auto plan = leading();
  decide_switchover(plan, s);
  auto r = written(plan);
  EXPECT_EQ(r.phase, Phase::failed);
  EXPECT_TRUE(contains(r.outcome, "step hold failed: writes still at the REST service on n1, n2, n3 after 5 s") ||
              contains(r.outcome, "step hold failed: writes still at the REST service on n1, n2 and n3 after 5 s"))
      << r.outcome;
  EXPECT_TRUE(contains(r.outcome, "nothing switched, n1 stays primary")) << r.outcome;

  auto moved = whole();
  store(moved, requested());
  moved.db.cluster.primary = "n3";
  auto plan2 = leading();
  decide_switchover(plan2, moved);
  EXPECT_TRUE(contains(written(plan2).outcome, "the primary is n3 now, not n1")) << written(plan2).outcome;
}

// Patroni acts on a switchover at its next HA loop; the old primary wakes
// its Patroni as soon as Consul shows its step is due.
Snapshot asked_of_patroni(const std::string& self) {
  auto s = whole(self);
  store(s, requested(Phase::database));
  s.db.cluster.leader = "n1";
  s.db.cluster.failover_from = "n1";
  s.db.cluster.failover_to = "n2";
  return s;
}

std::optional<WakePatroni> wake_of(const Snapshot& s) {
  Plan plan;
  plan.role = cluster::Role::follower;
  decide_switchover(plan, s);
  if (const auto* wake = plan.find<WakePatroni>()) return *wake;
  return std::nullopt;
}

TEST(SwitchoverPatroniWake, TheOldPrimaryWakesItsPatroniOnceTheFailoverKeyIsWritten) {
  auto s = asked_of_patroni("n1");
  EXPECT_EQ(wake_of(s), (WakePatroni{"so-0a1b2c3d", "demote"}));
  s.switchover.patroni_woken = "so-0a1b2c3d demote";
  EXPECT_EQ(wake_of(s), std::nullopt) << "once per step";

  auto not_yet = asked_of_patroni("n1");
  not_yet.db.cluster.failover_from = not_yet.db.cluster.failover_to = "";
  EXPECT_EQ(wake_of(not_yet), std::nullopt) << "before Patroni was asked, a wake does nothing";
  auto another = asked_of_patroni("n1");
  another.db.cluster.failover_to = "n3";
  EXPECT_EQ(wake_of(another), std::nullopt) << "a failover key for another switchover";
  auto holding = asked_of_patroni("n1");
  store(holding, requested(Phase::hold));
  EXPECT_EQ(wake_of(holding), std::nullopt) << "not before the database step";
  EXPECT_EQ(wake_of(asked_of_patroni("n3")), std::nullopt) << "a node with no step to take";
  auto other_backend = asked_of_patroni("n1");
  other_backend.switchover.enabled = false;
  EXPECT_EQ(wake_of(other_backend), std::nullopt);
}

// The steps after the demotion are leader key changes: patroni_wake_test.cpp.
TEST(SwitchoverPatroniWake, OnlyTheOldPrimaryHasAStepOfItsOwn) {
  for (const std::string self : {"n2", "n3"}) {
    auto s = asked_of_patroni(self);
    EXPECT_EQ(wake_of(s), std::nullopt) << self;
    s.db.cluster.primary = s.db.cluster.leader = "";
    EXPECT_EQ(wake_of(s), std::nullopt) << self;
  }
}

TEST(SwitchoverLeader, AsksPatroniOnceAndMovesOnWhenTheTargetIsPrimary) {
  auto s = whole();
  store(s, requested(Phase::database));
  auto plan = leading();
  decide_switchover(plan, s);
  const auto* ask = plan.find<AskPatroniSwitchover>();
  ASSERT_TRUE(ask);
  EXPECT_EQ(*ask, (AskPatroniSwitchover{"so-0a1b2c3d", "n1", "n2"}));
  EXPECT_FALSE(plan.has<WriteSwitchover>());

  s.switchover.patroni_answer = SwitchoverView::PatroniAnswer{"so-0a1b2c3d", true, "HTTP 200"};
  auto again = leading();
  decide_switchover(again, s);
  EXPECT_FALSE(again.has<AskPatroniSwitchover>()) << "asked once per switchover";

  s.db.cluster.primary = "n2";
  s.db.cluster.members = {db_member("n1", db::DbRole::replica), db_member("n2", db::DbRole::primary),
                          db_member("n3", db::DbRole::replica)};
  s.wall_ms = kNow + 2100;
  auto stored = requested(Phase::database);
  stored.steps = {{"floating-ip", 900}, {"hold", 300}};
  store(s, stored);
  s.kv.members["n2"].holds_vip = true;
  auto done = leading();
  decide_switchover(done, s);
  auto r = written(done);
  EXPECT_EQ(r.phase, Phase::done);
  EXPECT_EQ(r.steps.back(), (switchover::Step{"database", 2100}));
  EXPECT_TRUE(contains(r.outcome, "n2 serves writes and holds the floating IP; writes waited at most 2400 ms"))
      << "the hold and the database step: " << r.outcome;
}

TEST(SwitchoverLeader, TheEndpointTakingWritesOnTheTargetEndsTheDatabaseStepBeforePatronisKeysSaySo) {
  auto s = whole();
  store(s, requested(Phase::database));
  s.switchover.patroni_answer = SwitchoverView::PatroniAnswer{"so-0a1b2c3d", true, "HTTP 200"};
  s.db.endpoint = db::EndpointProbe{};
  s.db.endpoint->connected = s.db.endpoint->writable = true;
  s.db.endpoint->server = "198.18.0.11:5432";  // the old primary, before its demotion
  auto before = leading();
  decide_switchover(before, s);
  EXPECT_FALSE(before.has<WriteSwitchover>()) << "a write on the old primary says nothing";
  s.db.endpoint->server = "198.18.0.12:5432";
  s.db.cluster.primary = "";  // Patroni's keys: between leaders
  auto after = leading();
  decide_switchover(after, s);
  EXPECT_EQ(written(after).phase, Phase::done) << "n2 committed the probe's write: it is primary";
  EXPECT_TRUE(switchover::database_phase(s.kv.switchover->text));
  store(s, requested(Phase::hold));
  EXPECT_FALSE(switchover::database_phase(s.kv.switchover->text));
}

TEST(SwitchoverLeader, PatronisRefusalOrAnotherPrimaryFailsTheDatabaseStep) {
  auto s = whole();
  store(s, requested(Phase::database));
  s.switchover.patroni_answer = SwitchoverView::PatroniAnswer{"so-0a1b2c3d", false, "HTTP 412 candidate not healthy"};
  auto plan = leading();
  decide_switchover(plan, s);
  auto r = written(plan);
  EXPECT_EQ(r.phase, Phase::failed);
  EXPECT_TRUE(contains(r.outcome, "step database failed: Patroni refused: HTTP 412")) << r.outcome;
  EXPECT_TRUE(contains(r.outcome, "n1 stays primary")) << r.outcome;

  auto other = whole();
  store(other, requested(Phase::database));
  other.db.cluster.primary = "n3";
  auto plan2 = leading();
  decide_switchover(plan2, other);
  EXPECT_TRUE(contains(written(plan2).outcome, "Patroni made n3 primary, not n2")) << written(plan2).outcome;

  auto slow = whole();
  store(slow, requested(Phase::database));
  slow.db.cluster.primary = "";
  slow.wall_ms = kNow + kSwitchoverDatabaseLimit.count();
  auto plan3 = leading();
  decide_switchover(plan3, slow);
  EXPECT_TRUE(contains(written(plan3).outcome, "no new primary after 40 s")) << written(plan3).outcome;
}

TEST(SwitchoverFloatingIp, EveryOtherHolderGivesItUpToAFitTargetThenTheHoldBegins) {
  auto s = whole("n1");
  store(s, requested(Phase::floating_ip));
  EXPECT_TRUE(vip_leaves_for_switchover(s));
  auto target = whole("n2");
  store(target, requested(Phase::floating_ip));
  EXPECT_FALSE(vip_leaves_for_switchover(target)) << "the target keeps or takes it";
  auto unfit = s;
  unfit.kv.members["n2"].health = "broker not answering";
  EXPECT_FALSE(vip_leaves_for_switchover(unfit)) << "never to a node that cannot serve";
  auto ended = s;
  store(ended, requested(Phase::done));
  EXPECT_FALSE(vip_leaves_for_switchover(ended)) << "the address may come back once it ended";

  auto leader = whole();
  store(leader, requested(Phase::floating_ip));
  auto waiting = leading();
  decide_switchover(waiting, leader);
  EXPECT_FALSE(waiting.has<WriteSwitchover>());
  leader.kv.members["n1"].holds_vip = false;
  leader.kv.members["n2"].holds_vip = true;
  auto r0 = requested(Phase::floating_ip, kNow);
  r0.hold_until_ms = 0;
  store(leader, r0);
  EXPECT_TRUE(contains(cli::render_switchover_step(switchover_status(leader)["last"]), "floating-ip"));
  leader.wall_ms = kNow + 400;
  auto held = leading();
  decide_switchover(held, leader);
  auto r = written(held);
  EXPECT_EQ(r.phase, Phase::hold);
  EXPECT_EQ(r.hold_until_ms, kNow + 400 + kSwitchoverHoldLimit.count()) << "the hold's bound counts from its start";
  EXPECT_EQ(r.steps, (std::vector<switchover::Step>{{"floating-ip", 400}}));

  auto failover = whole();
  store(failover, requested(Phase::floating_ip));
  failover.db.cluster.primary = "";
  auto plan3 = leading();
  decide_switchover(plan3, failover);
  EXPECT_TRUE(contains(written(plan3).outcome, "step floating-ip failed: the primary is none now, not n1"))
      << written(plan3).outcome;

  auto stuck = whole();
  store(stuck, requested(Phase::floating_ip));
  stuck.wall_ms = kNow + kSwitchoverFloatingIpLimit.count();
  auto failed = leading();
  decide_switchover(failed, stuck);
  EXPECT_TRUE(contains(written(failed).outcome, "the floating IP did not reach n2")) << written(failed).outcome;
  EXPECT_TRUE(contains(written(failed).outcome, "nothing switched, n1 stays primary")) << written(failed).outcome;
}

TEST(SwitchoverPublish, TheMemberRecordCarriesTheGatesAcknowledgementOnlyWithAGate) {
  auto s = whole();
  s.switchover.held_ack = "so-0a1b2c3d";
  cluster::MemberRecord r;
  r.name = "n2";
  publish_switchover(s, r);
  EXPECT_EQ(r.writes_held, std::optional<std::string>("so-0a1b2c3d"));
  auto back = cluster::decode_member(cluster::encode(r));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(back.record->writes_held, r.writes_held);
  s.switchover.hold_writes = false;
  cluster::MemberRecord none;
  publish_switchover(s, none);
  EXPECT_FALSE(none.writes_held);
}

}  // namespace
}  // namespace hasup::loop

namespace hasup::loop {
namespace {

// The holder (n1) in the floating-ip phase, its filter loaded without the drain.
Snapshot holder_in_floating_ip_phase() {
  auto s = whole("n1");
  store(s, requested(Phase::floating_ip));
  s.vip.fault_now = false;
  s.vip.holds_address = true;
  s.vip.vrrp_state = "MASTER";
  s.vip.filter_enabled = true;
  s.vip.base.vip = "198.18.0.100/24";
  s.self_address = "198.18.0.11";
  return s;
}

Plan follower_plan() {
  Plan p;
  p.role = cluster::Role::follower;
  return p;
}

TEST(SwitchoverDrain, TheHolderDropsNewConnectionsFirstAndLeavesOnceThoseInFlightEnded) {
  auto s = holder_in_floating_ip_phase();
  auto plan = follower_plan();
  decide_vip(plan, s);
  const auto* filter = plan.find<ApplyVrrpFilter>();
  ASSERT_TRUE(filter) << decide_vip(plan, s);
  EXPECT_TRUE(contains(filter->ruleset, "ip daddr 198.18.0.100 tcp flags & (syn | ack) == syn counter drop"))
      << filter->ruleset;
  EXPECT_FALSE(plan.has<SetVipFault>()) << "not before new connections wait";

  s.vip.drain_loaded = true;
  s.vip.filter_applied = filter->ruleset;
  s.vip.address_connections = 2;
  s.vip.drain_for = std::chrono::milliseconds(300);
  auto draining = follower_plan();
  auto note = decide_vip(draining, s);
  EXPECT_FALSE(draining.has<SetVipFault>()) << "two requests still in flight here";
  EXPECT_TRUE(contains(note, "new connections wait while 2 in flight end")) << note;

  s.vip.address_connections = 0;
  auto drained = follower_plan();
  decide_vip(drained, s);
  ASSERT_TRUE(drained.find<SetVipFault>());
  EXPECT_TRUE(drained.find<SetVipFault>()->fault);

  s.vip.address_connections = 1;  // a kept-alive idle connection never ends
  s.vip.drain_for = kVipDrainLimit;
  auto bounded = follower_plan();
  decide_vip(bounded, s);
  ASSERT_TRUE(bounded.find<SetVipFault>()) << "at most kVipDrainLimit";

  auto ended = holder_in_floating_ip_phase();
  store(ended, requested(Phase::done));
  ended.vip.filter_applied = filter->ruleset;
  ended.vip.drain_loaded = true;
  auto after = follower_plan();
  decide_vip(after, ended);
  ASSERT_TRUE(after.find<ApplyVrrpFilter>());
  EXPECT_FALSE(contains(after.find<ApplyVrrpFilter>()->ruleset, "daddr")) << "the drain is lifted once it ended";
  EXPECT_FALSE(after.has<SetVipFault>());
}

TEST(SwitchoverFloatingIp, TheNewPrimarysNodeKeepsItWhileWritesAreHeldThere) {
  // n2 took the address; the database is changing primary, n2 counts itself unfit.
  auto s = whole("n2");
  store(s, requested(Phase::database));
  s.vip.fault_now = false;
  s.vip.holds_address = true;
  s.vip.vrrp_state = "MASTER";
  s.vip.base.vip = "198.18.0.100/24";
  s.vip.problem_for = std::chrono::milliseconds(5000);
  s.vip.unfit_grace = std::chrono::milliseconds(3000);
  s.db.endpoint_failing_for = std::chrono::milliseconds(6000);
  s.db.unfit_after = std::chrono::milliseconds(1000);
  s.db.endpoint = db::EndpointProbe{};
  s.db.endpoint->error = "no writable server";
  s.self_address = "198.18.0.12";
  s.kv.members["n2"].holds_vip = true;
  s.kv.members["n2"].health = "database not writable";
  s.kv.members["n1"].holds_vip = false;
  ASSERT_FALSE(local_problem(s).empty()) << "the test needs n2 unfit";
  EXPECT_TRUE(switchover_keeps_vip_here(s));
  auto plan = follower_plan();
  auto note = decide_vip(plan, s);
  EXPECT_FALSE(plan.find<SetVipFault>() && plan.find<SetVipFault>()->fault)
      << "moved now, the address would strand the writes held here: " << note;
  auto after = s;
  store(after, requested(Phase::done));
  auto plan2 = follower_plan();
  decide_vip(plan2, after);
  ASSERT_TRUE(plan2.find<SetVipFault>()) << "once it ended, the usual rule";
  EXPECT_TRUE(plan2.find<SetVipFault>()->fault);

  // The others keep off it meanwhile, although n2 is unfit; not once n2 is gone.
  auto other = whole("n3");
  store(other, requested(Phase::hold));
  other.kv.members["n2"].health = "database not writable";
  EXPECT_TRUE(vip_leaves_for_switchover(other));
  other.kv.members.erase("n2");
  EXPECT_FALSE(vip_leaves_for_switchover(other));
}

TEST(SwitchoverLeader, ATargetThatIsGoneFailsTheDatabaseStepAtOnce) {
  auto s = whole();
  store(s, requested(Phase::database));
  s.kv.members.erase("n2");
  s.db.cluster.primary = "";
  auto plan = leading();
  decide_switchover(plan, s);
  auto r = written(plan);
  EXPECT_EQ(r.phase, Phase::failed);
  EXPECT_TRUE(contains(r.outcome, "step database failed: n2 is not a live member of the cluster any more")) << r.outcome;
}

TEST(SwitchoverDrain, CountsTheEstablishedConnectionsToTheAddressInTheKernelsTable) {
  // 198.18.0.100 as /proc/net/tcp prints it on this machine's byte order.
  in_addr a{};
  inet_pton(AF_INET, "198.18.0.100", &a);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08X", a.s_addr);
  const std::string table =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: " + std::string(hex) + ":0050 0B0012C6:A1B2 01 00000000:00000000 00:00000000 00000000  0 0 1\n"
      "   1: " + std::string(hex) + ":0050 0C0012C6:A1B3 01 00000000:00000000 00:00000000 00000000  0 0 2\n"
      "   2: " + std::string(hex) + ":0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 3\n"
      "   3: 0100007F:1F90 0100007F:B000 01 00000000:00000000 00:00000000 00000000  0 0 4\n";
  EXPECT_EQ(keepalived::established_to(table, "198.18.0.100"), 2) << "the listener and loopback do not count";
  EXPECT_EQ(keepalived::established_to(table, "198.18.0.101"), 0);
  EXPECT_EQ(keepalived::established_to(table, "not an address"), -1);
  EXPECT_EQ(keepalived::established_to("garbage", "198.18.0.100"), -1);
}

}  // namespace
}  // namespace hasup::loop

namespace hasup::loop {
namespace {

TEST(SwitchoverStatus, HactlStatusSaysTheLastSwitchoverAndItsSteps) {
  auto s = whole();
  auto r = requested(Phase::done);
  r.steps = {{"hold", 258}, {"database", 2089}, {"floating-ip", 703}};
  r.outcome = "n2 serves writes and holds the floating IP; writes waited at most 2347 ms";
  store(s, r);
  Plan plan;
  const std::string table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_TRUE(contains(table, "switchover so-0a1b2c3d to n2: done: n2 serves writes and holds the floating IP; writes "
                              "waited at most 2347 ms (hold 258 ms, database 2089 ms, floating-ip 703 ms)"))
      << table;
  EXPECT_FALSE(contains(table, "switchover: ")) << "no hold error, no line for it";
  s.switchover.hold_error = "cannot remove /run/ha-supervisor/write-hold: Permission denied";
  EXPECT_TRUE(contains(cli::render_status_table(api::cluster_document(s, plan)),
                       "switchover: cannot remove /run/ha-supervisor/write-hold: Permission denied"));
}

}  // namespace
}  // namespace hasup::loop
