#pragma once
// The gate's /metrics (Prometheus text, prometheus-cpp): how each gated write
// ended and how long its confirmation took. Thread-safe (prometheus-cpp's
// counters and histograms are): every proxy loop records into it.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "components/upload-gate/replication_tracker.hpp"

namespace hasup::upload_gate {

class GateMetrics {
 public:
  GateMetrics();
  // One gated write's end: its replication outcome, whether the upstream's
  // answer was released (else the gate answered 503 itself), how long it waited.
  void write_done(const ReplicationResult& result, bool released);
  // The write hold (write_hold.hpp): one started; how many writes wait on it
  // now; one ended, with the longest any write waited on it.
  void hold_started();
  void hold_waiting(std::size_t writes);
  void hold_ended(std::chrono::milliseconds longest_wait);
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& writes_;
  prometheus::Histogram& confirmation_seconds_;
  prometheus::Counter& holds_;
  prometheus::Gauge& hold_active_;
  prometheus::Gauge& hold_waiting_writes_;
  prometheus::Gauge& hold_longest_wait_seconds_;
};

// ReplicationResult::Kind as a label value: replicated, nothing_changed, timed_out, no_peer, unavailable.
std::string outcome_label(ReplicationResult::Kind kind);

}  // namespace hasup::upload_gate
