// The upload gate's /metrics (components/upload-gate/metrics): each gated
// write counted by outcome and answer, its wait in the histogram.
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

#include "components/upload-gate/metrics.hpp"

namespace hasup::upload_gate {
namespace {

std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

ReplicationResult result(ReplicationResult::Kind kind, int waited_ms) {
  ReplicationResult r;
  r.kind = kind;
  r.waited = std::chrono::milliseconds(waited_ms);
  return r;
}

TEST(GateMetrics, EachWriteCountedByOutcomeAndAnswerWithItsWait) {
  GateMetrics m;
  m.write_done(result(ReplicationResult::Kind::replicated, 40), true);
  m.write_done(result(ReplicationResult::Kind::replicated, 300), true);
  m.write_done(result(ReplicationResult::Kind::timed_out, 10000), false);
  std::string text = m.text();
  EXPECT_EQ(sample(text, "ha_upload_gate_writes_total{answer=\"released\",outcome=\"replicated\"}"), 2) << text;
  EXPECT_EQ(sample(text, "ha_upload_gate_writes_total{answer=\"refused\",outcome=\"timed_out\"}"), 1) << text;
  EXPECT_EQ(sample(text, "ha_upload_gate_confirmation_seconds_count"), 3);
  EXPECT_EQ(sample(text, "ha_upload_gate_confirmation_seconds_bucket{le=\"0.05\"}"), 1);
  EXPECT_EQ(sample(text, "ha_upload_gate_confirmation_seconds_bucket{le=\"0.5\"}"), 2);
  EXPECT_NEAR(*sample(text, "ha_upload_gate_confirmation_seconds_sum"), 10.34, 1e-9);
}

TEST(GateMetrics, EveryOutcomeHasItsOwnLabel) {
  EXPECT_EQ(outcome_label(ReplicationResult::Kind::replicated), "replicated");
  EXPECT_EQ(outcome_label(ReplicationResult::Kind::nothing_changed), "nothing_changed");
  EXPECT_EQ(outcome_label(ReplicationResult::Kind::timed_out), "timed_out");
  EXPECT_EQ(outcome_label(ReplicationResult::Kind::no_peer), "no_peer");
  EXPECT_EQ(outcome_label(ReplicationResult::Kind::unavailable), "unavailable");
}

}  // namespace
}  // namespace hasup::upload_gate
