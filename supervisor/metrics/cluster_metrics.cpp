#include "supervisor/metrics/cluster_metrics.hpp"

#include <prometheus/gauge.h>

#include "supervisor/api/status_json.hpp"
#include "supervisor/metrics/text.hpp"
#include "supervisor/version.hpp"

namespace hasup::metrics {

using cluster::Role;

namespace {

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

void set(prometheus::Family<prometheus::Gauge>& family, const prometheus::Labels& labels, double value) {
  family.Add(labels).Set(value);
}

prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

}  // namespace

void add_snapshot_gauges(prometheus::Registry& r, const loop::Snapshot& s, const loop::Plan& plan) {
  set(gauge(r, "ha_supervisor_info", "This supervisor: its node name and version (always 1)."),
      {{"node", s.self}, {"version", kVersion}}, 1);
  set(gauge(r, "ha_supervisor_role", "This node's role now (the series with value 1; role: starting, follower, "
                                     "leader, maintenance, cut-off, stopping)."),
      {{"role", cluster::to_string(plan.role)}}, 1);
  set(gauge(r, "ha_supervisor_healthy", "1 when this node takes part in the cluster (hactl health)."), {},
      api::is_healthy(plan) ? 1 : 0);
  set(gauge(r, "ha_supervisor_quorum_reachable", "1 when this node reaches Consul's quorum."), {},
      s.consul.quorum_reachable ? 1 : 0);
  if (s.kv.leader)
    set(gauge(r, "ha_supervisor_leader_epoch", "The leader's epoch, as this node last read it."), {},
        static_cast<double>(s.kv.leader->epoch));

  // Every node of the cluster, as this node sees it: live (a member record) or
  // down (known, no record), with its published role and health.
  auto& up = gauge(r, "ha_supervisor_member_up", "1 for a node with a live member record, 0 for a known node without.");
  auto& healthy = gauge(r, "ha_supervisor_member_healthy", "1 when the node's published health is ok.");
  auto& role = gauge(r, "ha_supervisor_member_role", "A node's published role (the series with value 1).");
  for (const auto& [name, m] : s.kv.members) {
    bool self = name == s.self;
    Role member_role = self ? plan.role : m.role;
    set(up, {{"node", name}}, 1);
    set(healthy, {{"node", name}}, (self ? api::is_healthy(plan) && m.health == "ok" : m.health == "ok") ? 1 : 0);
    set(role, {{"node", name}, {"role", cluster::to_string(member_role)}}, 1);
  }
  for (const auto& [name, node] : s.known.nodes) {
    if (s.kv.members.count(name)) continue;
    set(up, {{"node", name}}, 0);
    set(healthy, {{"node", name}}, 0);
  }

  if (s.vip.enabled)
    set(gauge(r, "ha_supervisor_vip_held", "1 while this node holds the floating IP."), {},
        s.vip.holds_address ? 1 : 0);
  if (s.nginx.enabled)
    set(gauge(r, "ha_supervisor_nginx_config_generation", "The generation of the nginx config this node serves."), {},
        static_cast<double>(s.nginx.generation));
  if (s.db.enabled && s.db.cluster.initialized) {
    const auto& v = s.db.cluster;
    auto& primary = gauge(r, "ha_supervisor_db_primary", "1 for the node whose PostgreSQL is the primary.");
    auto& lag = gauge(r, "ha_supervisor_db_replication_lag_bytes",
                      "How far a replica's WAL position is behind the primary's (same timeline only).");
    for (const auto& m : v.members) {
      set(primary, {{"node", m.name}}, m.name == v.primary ? 1 : 0);
      if (auto bytes = v.replication_lag_bytes(m.name)) set(lag, {{"node", m.name}}, static_cast<double>(*bytes));
    }
  }
  if (s.files.enabled) {
    auto& need = gauge(r, "ha_supervisor_files_need_items", "Items this node still has to receive, per replicated folder.");
    for (const auto& [folder, status] : s.files.folder_status)
      set(need, {{"folder", folder}}, static_cast<double>(status.need_items));
    int connected = 0;
    for (const auto& [id, peer] : s.files.peers) connected += peer.connected ? 1 : 0;
    set(gauge(r, "ha_supervisor_files_peers_connected", "Peers this node's syncthing is connected to."), {}, connected);
  }
}

ClusterMetrics::ClusterMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      cycle_seconds_(prometheus::BuildHistogram()
                         .Name("ha_supervisor_loop_cycle_seconds")
                         .Help("Time of one loop cycle: observe, decide, and start the plan's jobs.")
                         .Register(*registry_)
                         .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                          0.05, 0.1, 0.25, 1})),
      role_changes_(counter(*registry_, "ha_supervisor_role_changes_total", "Changes of this node's role.")),
      leader_changes_(counter(*registry_, "ha_supervisor_leader_changes_total", "New leader epochs seen by this node.")),
      primary_changes_(counter(*registry_, "ha_supervisor_db_primary_changes_total",
                               "Times the database's primary became another node, as seen by this node.")),
      nginx_reloads_(counter(*registry_, "ha_supervisor_nginx_reloads_total", "nginx reloads this supervisor made.")),
      incidents_(counter(*registry_, "ha_supervisor_incidents_total",
                         "Incidents of the event timeline that ended while this node led (hactl incidents).")),
      incident_phases_(prometheus::BuildHistogram()
                           .Name("ha_supervisor_incident_phase_seconds")
                           .Help("Each phase of an incident (decision, database promotion, floating-IP move, first "
                                 "write, nginx convergence) after its first sign, counted by the leader.")
                           .Register(*registry_)) {}

void ClusterMetrics::incident_over(const events::Incident& incident) {
  static const prometheus::Histogram::BucketBoundaries buckets{0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60};
  incidents_.Increment();
  for (const auto& phase : incident.phases)
    if (phase.name != "detection")  // always 0: the offsets count from it
      incident_phases_.Add({{"phase", phase.name}}, buckets)
          .Observe(std::chrono::duration<double>(phase.after).count());
}

void ClusterMetrics::cycle_done(const loop::Snapshot& s, const loop::Plan& plan,
                                std::chrono::steady_clock::duration took) {
  cycle_seconds_.Observe(std::chrono::duration<double>(took).count());
  std::uint64_t epoch = s.kv.leader ? s.kv.leader->epoch : last_epoch_;
  const std::string& primary = s.db.cluster.primary;
  if (!first_cycle_) {
    if (plan.role != last_role_) role_changes_.Increment();
    if (epoch != last_epoch_) leader_changes_.Increment();
    // "" while a failover runs: the change counts once the new primary is named.
    if (!primary.empty() && !last_primary_.empty() && primary != last_primary_) primary_changes_.Increment();
  }
  if (s.nginx.reloads > last_nginx_reloads_) nginx_reloads_.Increment(static_cast<double>(s.nginx.reloads - last_nginx_reloads_));
  first_cycle_ = false;
  last_role_ = plan.role;
  last_epoch_ = epoch;
  if (!primary.empty()) last_primary_ = primary;
  last_nginx_reloads_ = s.nginx.reloads;
}

std::string ClusterMetrics::text(const loop::Snapshot& s, const loop::Plan& plan) const {
  prometheus::Registry gauges;
  add_snapshot_gauges(gauges, s, plan);
  return exposition({registry_.get(), &gauges});
}

}  // namespace hasup::metrics
