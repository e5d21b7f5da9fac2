// The cluster's pause (components/pause): the stored record, the one rule
// "paused" every component asks, the leader pausing Patroni, the floating IP
// kept where it is, the operations refused, and what status tells the operator.
#include <gtest/gtest.h>

#include "components/keepalived/decide.hpp"
#include "components/pause/decide.hpp"
#include "components/pause/record.hpp"
#include "components/switchover/decide.hpp"
#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/hactl_args.hpp"
#include "supervisor/cli/pause_text.hpp"
#include "supervisor/cli/status_table.hpp"
#include "supervisor/loop/decide.hpp"
#include "tests/unit/cluster_snapshots.hpp"

namespace hasup::loop {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

pause::PauseRecord paused_record(bool paused = true) {
  pause::PauseRecord r;
  r.paused = paused;
  r.by = "api@n3";
  r.at = "2026-12-06T02:30:00Z";
  r.reason = paused ? "Consul servers upgraded" : "";
  return r;
}

void store(Snapshot& s, const pause::PauseRecord& r, std::uint64_t index = 70) {
  s.kv.pause = KvView::StoredValue{pause::encode(r), index};
}

// n1 primary and floating-IP holder, n2 its synchronous standby and the
// supervisors' leader, n3 a replica; this node is `self`.
Snapshot whole(const std::string& self = "n2") {
  Snapshot s = sample::three_node_cluster(self);
  s.pause.patroni = true;
  s.switchover.enabled = true;
  return s;
}

Plan with_role(cluster::Role role) {
  Plan p;
  p.role = role;
  return p;
}

// n1 holds the floating IP and its database endpoint has failed past the
// unfit grace: unpaused, it gives the address up to a fit node (n2, n3).
Snapshot unfit_holder() {
  auto s = whole("n1");
  s.vip.enabled = true;
  s.vip.fault_now = false;
  s.vip.holds_address = true;
  s.vip.vrrp_state = "MASTER";
  s.vip.problem_for = 5000ms;
  s.vip.unfit_grace = 3000ms;
  s.db.endpoint_failing_for = 6000ms;
  s.db.unfit_after = 1000ms;
  s.db.endpoint = db::EndpointProbe{};
  s.db.endpoint->error = "no writable server";
  return s;
}

TEST(PauseRecord, RoundTripsAndRefusesAnythingHalfRight) {
  for (bool paused : {true, false}) {
    auto back = pause::decode_pause(pause::encode(paused_record(paused)));
    ASSERT_TRUE(back.record) << back.error;
    EXPECT_EQ(*back.record, paused_record(paused));
  }
  const auto text = pause::encode(paused_record());
  for (auto [from, to] : {std::pair{"true", "\"yes\""}, {"\"by\":\"api@n3\"", "\"by\":\"\""},
                          {"Consul servers upgraded", "line\\nbreak"}, {"\"at\":", "\"when\":"}}) {
    auto bad = text;
    bad.replace(bad.find(from), std::string(from).size(), to);
    EXPECT_FALSE(pause::decode_pause(bad).record) << bad;
  }
  auto long_reason = paused_record();
  long_reason.reason = std::string(pause::kReasonLimit + 1, 'x');
  EXPECT_FALSE(pause::decode_pause(pause::encode(long_reason)).record);
  EXPECT_FALSE(pause::decode_pause("{\"schema\":2,\"paused\":true}").record);
  EXPECT_FALSE(pause::decode_pause("paused").record);
}

TEST(ClusterPause, NoRecordOrAResumeIsNotPausedAndAnUnreadableRecordCountsAsPaused) {
  auto s = whole();
  EXPECT_FALSE(cluster_paused(s));
  store(s, paused_record(false));
  EXPECT_FALSE(cluster_paused(s));
  store(s, paused_record(true));
  EXPECT_TRUE(cluster_paused(s));
  s.kv.pause->text = "{\"schema\":1,\"paused\":";
  auto p = cluster_pause(s.kv);
  EXPECT_TRUE(p.paused) << "nothing moves on a record half understood";
  EXPECT_TRUE(contains(p.error, "unreadable")) << p.error;
  EXPECT_TRUE(contains(pause_status(s).value("error", ""), "counted as paused"));
}

TEST(PauseLeader, PatronisPauseFollowsTheRecordOnlyWhenHactlWroteOne) {
  auto s = whole();
  store(s, paused_record(true));
  auto plan = with_role(cluster::Role::leader);
  auto note = decide_pause(plan, s);
  ASSERT_TRUE(plan.find<SetPatroniPause>()) << note;
  EXPECT_TRUE(plan.find<SetPatroniPause>()->paused);
  EXPECT_TRUE(contains(note, "cluster paused (by api@n3 at 2026-12-06T02:30:00Z: Consul servers upgraded)")) << note;

  s.db.cluster.paused = true;
  auto done = with_role(cluster::Role::leader);
  decide_pause(done, s);
  EXPECT_FALSE(done.find<SetPatroniPause>()) << "Patroni is paused already";

  store(s, paused_record(false));
  auto resume = with_role(cluster::Role::leader);
  decide_pause(resume, s);
  ASSERT_TRUE(resume.find<SetPatroniPause>());
  EXPECT_FALSE(resume.find<SetPatroniPause>()->paused);

  EXPECT_TRUE(contains(cli::render_pause(pause_status(s)), "pause: Patroni is not resumed yet (the leader asks it)"))
      << "right after hactl resume, before the leader asked Patroni";
  auto follower = with_role(cluster::Role::follower);
  decide_pause(follower, s);
  EXPECT_FALSE(follower.find<SetPatroniPause>()) << "the leader asks, no one else";

  s.kv.pause.reset();
  auto operators_own = with_role(cluster::Role::leader);
  decide_pause(operators_own, s);
  EXPECT_FALSE(operators_own.find<SetPatroniPause>()) << "a patronictl pause without hactl's record is left alone";
  EXPECT_TRUE(contains(cli::render_pause(pause_status(s)), "Patroni is paused (patronictl pause?)"));
}

TEST(PauseLeader, ARefusedRequestIsAskedAgainAfterAPause) {
  auto s = whole();
  store(s, paused_record(true));
  s.pause.patroni_answer = PauseView::PatroniAnswer{true, false, "HTTP 503 no leader", 1000ms};
  auto plan = with_role(cluster::Role::leader);
  auto note = decide_pause(plan, s);
  EXPECT_FALSE(plan.find<SetPatroniPause>());
  EXPECT_TRUE(contains(note, "Patroni refused to pause (HTTP 503 no leader)")) << note;
  ASSERT_TRUE(plan.wake_after);
  EXPECT_EQ(*plan.wake_after, kPatroniPauseRetry - 1000ms);
  s.pause.patroni_answer->ago = kPatroniPauseRetry;
  auto later = with_role(cluster::Role::leader);
  decide_pause(later, s);
  EXPECT_TRUE(later.find<SetPatroniPause>());
}

TEST(PauseFloatingIp, AnUnfitHolderKeepsTheAddressWhilePaused) {
  auto s = unfit_holder();
  ASSERT_FALSE(local_problem(s).empty()) << "the test needs n1 unfit";
  auto moving = with_role(cluster::Role::follower);
  decide_vip(moving, s);
  ASSERT_TRUE(moving.find<SetVipFault>()) << "unpaused, the address goes to a fit node";
  EXPECT_TRUE(moving.find<SetVipFault>()->fault);

  store(s, paused_record());
  auto plan = with_role(cluster::Role::follower);
  auto note = decide_vip(plan, s);
  EXPECT_FALSE(plan.find<SetVipFault>()) << note;
  EXPECT_TRUE(contains(note, "the cluster is paused")) << note;
}

TEST(PauseFloatingIp, AHolderCutOffFromConsulKeepsTheAddressWhilePausedAndAFaultedNodeStaysFaulted) {
  auto s = whole("n1");
  s.vip.enabled = true;
  s.vip.fault_now = false;
  s.vip.holds_address = true;
  s.consul.quorum_reachable = false;
  auto cut = with_role(cluster::Role::cut_off);
  decide_vip(cut, s);
  ASSERT_TRUE(cut.find<SetVipFault>()) << "unpaused, a node cut off gives the address up";
  EXPECT_TRUE(cut.find<SetVipFault>()->fault);

  store(s, paused_record());
  auto kept = with_role(cluster::Role::cut_off);
  auto note = decide_vip(kept, s);
  EXPECT_FALSE(kept.find<SetVipFault>()) << note;
  EXPECT_TRUE(contains(note, "kept while cut off from Consul: the cluster is paused")) << note;

  s.vip.fault_now = true;  // a node that was not allowed to hold it
  auto faulted = with_role(cluster::Role::cut_off);
  decide_vip(faulted, s);
  EXPECT_FALSE(faulted.find<SetVipFault>()) << "a pause never lets a node cut off take the address";

  s.vip.fault_now = false;  // its agent back: the session opened again, the address kept
  auto rejoining = with_role(cluster::Role::starting);
  decide_vip(rejoining, s);
  EXPECT_FALSE(rejoining.find<SetVipFault>()) << "a holder opening its session again keeps the address while paused";

  // stopping is the operator's act: the address goes, paused or not
  auto stopping = with_role(cluster::Role::stopping);
  decide_vip(stopping, s);
  ASSERT_TRUE(stopping.find<SetVipFault>());
  EXPECT_TRUE(stopping.find<SetVipFault>()->fault);
}

TEST(PauseRefusals, ASwitchoverWaitsForTheResume) {
  auto s = whole();
  EXPECT_EQ(preview_switchover(s, "n2").refusal, "");
  store(s, paused_record());
  auto p = preview_switchover(s, "n2");
  EXPECT_TRUE(contains(p.refusal, "the cluster is paused (by api@n3")) << p.refusal;
  EXPECT_TRUE(contains(p.refusal, "no switchover until hactl resume")) << p.refusal;
  EXPECT_EQ(pause_blocker(s, "settings change").substr(0, 21), "the cluster is paused");
}

TEST(PauseStatus, APausedClusterThatLostItsPrimarySaysWhatTheOperatorMustDo) {
  auto s = whole();
  store(s, paused_record());
  s.db.cluster.paused = true;
  Plan plan;
  auto table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_TRUE(contains(table, "PAUSED by api@n3 at 2026-12-06T02:30:00Z (Consul servers upgraded): no failover")) << table;
  EXPECT_FALSE(contains(table, "ACTION NEEDED")) << "the primary is there";

  s.db.cluster.primary = "";
  s.db.cluster.switching = true;
  s.db.cluster.promotable = {"n1", "n2"};
  s.db.cluster.members.erase(s.db.cluster.members.begin());  // n1 is gone
  table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_TRUE(contains(table, "ACTION NEEDED: the database has no primary and the cluster is paused: nothing fails "
                              "over. Start the primary's PostgreSQL (or its node) again, or run `hactl resume` to let "
                              "patroni promote one of n2"))
      << table;
  auto note = decide_pause(plan, s);
  EXPECT_TRUE(contains(note, "the database has no primary and the cluster is paused")) << note;
  // Patroni names no primary, but this node's probe still writes on one (its
  // Patroni lost Consul and, paused, is not demoted): nothing to do.
  s.db.endpoint = db::EndpointProbe{};
  s.db.endpoint->writable = true;
  EXPECT_FALSE(pause_status(s).contains("advice"));
  s.db.endpoint.reset();

  // Unpaused (Patroni too), the same loss is the backend's to handle: no advice.
  store(s, paused_record(false));
  s.db.cluster.paused = false;
  EXPECT_FALSE(pause_status(s).contains("advice"));
  EXPECT_EQ(cli::render_pause(pause_status(s)), "");
}

TEST(PauseCommands, HactlPauseTakesAReasonAndResumeNothing) {
  auto p = cli::parse_hactl_args({"pause", "--reason", "Consul upgrade"});
  ASSERT_TRUE(p.command) << p.error;
  EXPECT_EQ(p.command->kind, cli::HactlCommand::Kind::pause);
  EXPECT_EQ(p.command->reason, "Consul upgrade");
  auto r = cli::parse_hactl_args({"resume"});
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->kind, cli::HactlCommand::Kind::resume);
  EXPECT_FALSE(cli::parse_hactl_args({"resume", "now"}).command);
  EXPECT_FALSE(cli::parse_hactl_args({"pause", "--reason"}).command);
  EXPECT_FALSE(cli::parse_hactl_args({"pause", "--force"}).command);
}

}  // namespace
}  // namespace hasup::loop
