#pragma once
// The supervisor's /metrics: what `hactl status` shows, as Prometheus series.
//
// Two kinds, kept apart on purpose:
// - gauges are a function of the last snapshot and plan, built afresh at each
//   scrape (a node that left the cluster leaves no stale series behind, and an
//   idle loop pays nothing for them);
// - counters and the loop's histogram need every cycle (a change between two
//   scrapes must not be missed), so cycle_done() keeps them, cheaply.
// Not thread-safe: the engine and the status API share one io thread.
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>

#include "supervisor/events/incidents.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::metrics {

// The gauges of one snapshot and plan, into `registry` (pure; tested alone).
void add_snapshot_gauges(prometheus::Registry& registry, const loop::Snapshot& s, const loop::Plan& plan);

class ClusterMetrics {
 public:
  ClusterMetrics();
  // After each loop cycle: its duration, and the changes since the last one.
  void cycle_done(const loop::Snapshot& s, const loop::Plan& plan, std::chrono::steady_clock::duration took);
  // An incident the flight recorder closed (events/incidents.hpp), counted by
  // the leader alone: its phases' offsets from the first sign.
  void incident_over(const events::Incident& incident);
  // GET /metrics: the counters, then the gauges of this snapshot and plan.
  std::string text(const loop::Snapshot& s, const loop::Plan& plan) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram& cycle_seconds_;
  prometheus::Counter& role_changes_;
  prometheus::Counter& leader_changes_;
  prometheus::Counter& primary_changes_;
  prometheus::Counter& nginx_reloads_;
  prometheus::Counter& incidents_;
  prometheus::Family<prometheus::Histogram>& incident_phases_;
  bool first_cycle_ = true;
  cluster::Role last_role_ = cluster::Role::starting;
  std::uint64_t last_epoch_ = 0;
  std::string last_primary_;
  std::uint64_t last_nginx_reloads_ = 0;
};

}  // namespace hasup::metrics
