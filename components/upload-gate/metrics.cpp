#include "components/upload-gate/metrics.hpp"

#include "supervisor/metrics/text.hpp"

namespace hasup::upload_gate {

std::string outcome_label(ReplicationResult::Kind kind) {
  switch (kind) {
    case ReplicationResult::Kind::replicated: return "replicated";
    case ReplicationResult::Kind::nothing_changed: return "nothing_changed";
    case ReplicationResult::Kind::timed_out: return "timed_out";
    case ReplicationResult::Kind::no_peer: return "no_peer";
    case ReplicationResult::Kind::unavailable: return "unavailable";
  }
  return "unavailable";
}

GateMetrics::GateMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      writes_(prometheus::BuildCounter()
                  .Name("ha_upload_gate_writes_total")
                  .Help("Gated writes by how their replication ended (outcome) and whether the upstream's answer "
                        "was released to the client (answer=\"released\") or the gate answered 503 (\"refused\").")
                  .Register(*registry_)),
      confirmation_seconds_(prometheus::BuildHistogram()
                                .Name("ha_upload_gate_confirmation_seconds")
                                .Help("From the upstream's answer to the write's confirmation on the peers (or "
                                      "the end of the wait), per gated write.")
                                .Register(*registry_)
                                .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                                                 2.5, 5, 10, 30, 60})),
      holds_(prometheus::BuildCounter()
                 .Name("ha_upload_gate_holds_total")
                 .Help("Write holds of a planned switchover that came into force (the supervisor's hold file).")
                 .Register(*registry_)
                 .Add({})),
      hold_active_(prometheus::BuildGauge()
                       .Name("ha_upload_gate_hold_active")
                       .Help("1 while a write hold is in force: new writes wait at the gate.")
                       .Register(*registry_)
                       .Add({})),
      hold_waiting_writes_(prometheus::BuildGauge()
                               .Name("ha_upload_gate_hold_waiting_writes")
                               .Help("Writes waiting on the write hold now, not yet sent to the upstream.")
                               .Register(*registry_)
                               .Add({})),
      hold_longest_wait_seconds_(prometheus::BuildGauge()
                                     .Name("ha_upload_gate_hold_longest_wait_seconds")
                                     .Help("The longest any write waited on the last write hold that ended.")
                                     .Register(*registry_)
                                     .Add({})) {}

void GateMetrics::write_done(const ReplicationResult& result, bool released) {
  writes_.Add({{"outcome", outcome_label(result.kind)}, {"answer", released ? "released" : "refused"}}).Increment();
  confirmation_seconds_.Observe(std::chrono::duration<double>(result.waited).count());
}

void GateMetrics::hold_started() {
  holds_.Increment();
  hold_active_.Set(1);
}

void GateMetrics::hold_waiting(std::size_t writes) { hold_waiting_writes_.Set(static_cast<double>(writes)); }

void GateMetrics::hold_ended(std::chrono::milliseconds longest_wait) {
  hold_active_.Set(0);
  hold_waiting_writes_.Set(0);
  hold_longest_wait_seconds_.Set(std::chrono::duration<double>(longest_wait).count());
}

std::string GateMetrics::text() const { return metrics::exposition({registry_.get()}); }

}  // namespace hasup::upload_gate
