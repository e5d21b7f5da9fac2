// The supervisor's /metrics (supervisor/metrics): the gauges follow the
// snapshot and plan, a node that left leaves no series, and the counters see
// every change between two scrapes.
#include <gtest/gtest.h>

#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include "supervisor/metrics/cluster_metrics.hpp"

namespace hasup {
namespace {

using cluster::MemberRecord;
using cluster::Role;
using loop::Plan;
using loop::Snapshot;

// The value of the sample SERIES (name and labels exactly as exposed), if any.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

MemberRecord record(const std::string& name, Role role, const std::string& health = "ok") {
  MemberRecord r;
  r.name = name;
  r.address = "198.18.0.1" + name.substr(1);
  r.role = role;
  r.health = health;
  return r;
}

// n1's view: n2 leads (epoch 7), n3 is unhealthy, n4 is known but down; the
// database's primary is n2, n1 a replica 4096 bytes behind, n3 on an old timeline.
Snapshot snapshot() {
  Snapshot s;
  s.self = "n1";
  s.consul.quorum_reachable = true;
  s.kv.members["n1"] = record("n1", Role::follower);
  s.kv.members["n2"] = record("n2", Role::leader);
  s.kv.members["n3"] = record("n3", Role::follower, "REST service failing");
  s.kv.leader = loop::LeaderLock{"s2", 7, "n2"};
  for (const char* n : {"n1", "n2", "n3", "n4"}) s.known.nodes[n] = cluster::NodeRegistration{n, "198.18.0.1", ""};
  s.vip.enabled = true;
  s.vip.holds_address = false;
  s.nginx.enabled = true;
  s.nginx.generation = 12;
  s.db.enabled = true;
  s.db.cluster.initialized = true;
  s.db.cluster.primary = "n2";
  s.db.cluster.primary_timeline = 3;
  s.db.cluster.primary_wal_position = 10000;
  s.db.cluster.members = {{"n1", db::DbRole::replica, "", 5432, true, "streaming", 5904, 3},
                          {"n2", db::DbRole::primary, "", 5432, true, "running", 10000, 3},
                          {"n3", db::DbRole::replica, "", 5432, true, "streaming", 10000, 2}};
  s.files.enabled = true;
  s.files.folder_status["ha-opt-manager-resources"].need_items = 5;
  s.files.peers["DEV2"].connected = true;
  s.files.peers["DEV3"].connected = false;
  return s;
}

Plan plan(Role role) {
  Plan p;
  p.role = role;
  return p;
}

TEST(ClusterMetrics, GaugesFollowTheSnapshotAndPlan) {
  metrics::ClusterMetrics m;
  std::string text = m.text(snapshot(), plan(Role::follower));
  EXPECT_EQ(sample(text, "ha_supervisor_role{role=\"follower\"}"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_healthy"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_quorum_reachable"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_leader_epoch"), 7);
  EXPECT_EQ(sample(text, "ha_supervisor_member_up{node=\"n2\"}"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_member_up{node=\"n4\"}"), 0) << "known but without a record: down";
  EXPECT_EQ(sample(text, "ha_supervisor_member_healthy{node=\"n3\"}"), 0);
  EXPECT_EQ(sample(text, "ha_supervisor_member_healthy{node=\"n2\"}"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_member_role{node=\"n2\",role=\"leader\"}"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_vip_held"), 0);
  EXPECT_EQ(sample(text, "ha_supervisor_nginx_config_generation"), 12);
  EXPECT_EQ(sample(text, "ha_supervisor_db_primary{node=\"n2\"}"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_db_primary{node=\"n1\"}"), 0);
  EXPECT_EQ(sample(text, "ha_supervisor_db_replication_lag_bytes{node=\"n1\"}"), 4096);
  EXPECT_FALSE(sample(text, "ha_supervisor_db_replication_lag_bytes{node=\"n3\"}"))
      << "a replica on another timeline replicates nothing: no lag to show";
  EXPECT_FALSE(sample(text, "ha_supervisor_db_replication_lag_bytes{node=\"n2\"}")) << "the primary has no lag";
  EXPECT_EQ(sample(text, "ha_supervisor_files_need_items{folder=\"ha-opt-manager-resources\"}"), 5);
  EXPECT_EQ(sample(text, "ha_supervisor_files_peers_connected"), 1);
  EXPECT_NE(text.find("# TYPE ha_supervisor_loop_cycle_seconds histogram"), std::string::npos) << text;
}

TEST(ClusterMetrics, ThisNodeCutOffIsUnhealthyInItsOwnRow) {
  metrics::ClusterMetrics m;
  std::string text = m.text(snapshot(), plan(Role::cut_off));
  EXPECT_EQ(sample(text, "ha_supervisor_healthy"), 0);
  EXPECT_EQ(sample(text, "ha_supervisor_member_healthy{node=\"n1\"}"), 0);
  EXPECT_EQ(sample(text, "ha_supervisor_member_role{node=\"n1\",role=\"cut-off\"}"), 1)
      << "its own row says what it knows now, not its last published record";
}

TEST(ClusterMetrics, ANodeThatLeftLeavesNoSeries) {
  metrics::ClusterMetrics m;
  Snapshot s = snapshot();
  EXPECT_TRUE(sample(m.text(s, plan(Role::follower)), "ha_supervisor_member_up{node=\"n3\"}"));
  s.kv.members.erase("n3");
  s.known.nodes.erase("n3");
  std::string text = m.text(s, plan(Role::follower));
  EXPECT_EQ(text.find("node=\"n3\",role"), std::string::npos) << text;
  EXPECT_FALSE(sample(text, "ha_supervisor_member_up{node=\"n3\"}"));
}

TEST(ClusterMetrics, CountersSeeEveryChangeBetweenScrapes) {
  metrics::ClusterMetrics m;
  Snapshot s = snapshot();
  m.cycle_done(s, plan(Role::follower), std::chrono::microseconds(300));
  // A failover: no primary for a while, then n1; the leader changes; nginx reloads twice.
  s.db.cluster.primary = "";
  s.kv.leader = loop::LeaderLock{"s1", 8, "n1"};
  s.nginx.reloads = 2;
  m.cycle_done(s, plan(Role::leader), std::chrono::microseconds(300));
  s.db.cluster.primary = "n1";
  m.cycle_done(s, plan(Role::leader), std::chrono::milliseconds(30));
  std::string text = m.text(s, plan(Role::leader));
  EXPECT_EQ(sample(text, "ha_supervisor_db_primary_changes_total"), 1) << "n2 -> (none) -> n1 is one change";
  EXPECT_EQ(sample(text, "ha_supervisor_leader_changes_total"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_role_changes_total"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_nginx_reloads_total"), 2);
  EXPECT_EQ(sample(text, "ha_supervisor_loop_cycle_seconds_count"), 3);
  EXPECT_EQ(sample(text, "ha_supervisor_loop_cycle_seconds_bucket{le=\"0.0005\"}"), 2);
}

TEST(ClusterMetrics, NothingCountsAtTheFirstCycle) {
  metrics::ClusterMetrics m;
  Snapshot s = snapshot();
  s.nginx.reloads = 0;
  m.cycle_done(s, plan(Role::leader), std::chrono::microseconds(1));
  std::string text = m.text(s, plan(Role::leader));
  EXPECT_EQ(sample(text, "ha_supervisor_role_changes_total"), 0) << "starting -> leader at start is no change";
  EXPECT_EQ(sample(text, "ha_supervisor_leader_changes_total"), 0);
}

TEST(ClusterMetrics, AnEndedIncidentCountsOnceWithEachPhaseInItsHistogram) {
  metrics::ClusterMetrics m;
  events::Incident incident;
  incident.id = "n2-1";
  for (auto [name, ms] : {std::pair{"detection", 0}, {"decision", 1200}, {"first write", 2600}}) {
    events::Phase phase;
    phase.name = name;
    phase.after = std::chrono::milliseconds(ms);
    incident.phases.push_back(phase);
  }
  m.incident_over(incident);
  Snapshot s = snapshot();
  std::string text = m.text(s, plan(Role::leader));
  EXPECT_EQ(sample(text, "ha_supervisor_incidents_total"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_incident_phase_seconds_count{phase=\"decision\"}"), 1);
  EXPECT_EQ(sample(text, "ha_supervisor_incident_phase_seconds_sum{phase=\"first write\"}"), 2.6);
  EXPECT_EQ(sample(text, "ha_supervisor_incident_phase_seconds_bucket{phase=\"first write\",le=\"2\"}"), 0);
  EXPECT_EQ(sample(text, "ha_supervisor_incident_phase_seconds_bucket{phase=\"first write\",le=\"3\"}"), 1);
  EXPECT_FALSE(sample(text, "ha_supervisor_incident_phase_seconds_count{phase=\"detection\"}")) << "always 0: not observed";
}

}  // namespace
}  // namespace hasup
