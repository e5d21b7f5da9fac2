#pragma once
// The cluster's pause (hactl pause / resume): one definition of "paused" for
// every component, the leader's part (Patroni's own pause follows the
// record), and what status shows on every node. Pure: Snapshot in, Plan out.
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "components/pause/record.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// A refused PATCH is asked again after this long.
inline constexpr std::chrono::milliseconds kPatroniPauseRetry{5000};

// The pause as this node last read it from Consul: kept while Consul is out
// of reach (the reason to pause may be work on Consul itself). A record that
// cannot be read counts as paused: nothing moves on data half understood.
struct ClusterPause {
  bool paused = false;
  std::optional<pause::PauseRecord> record;  // the stored record, paused or resumed
  std::string error;                         // the stored record is unreadable: why
};
ClusterPause cluster_pause(const KvView& kv);
bool cluster_paused(const Snapshot& s);

// Why an operation that moves things may not start now ("" when it may): the
// cluster is paused; `what` names the operation ("a switchover").
std::string pause_blocker(const Snapshot& s, const std::string& what);

// With the database's primary gone while paused: what the operator must do
// ("" otherwise, or when the backend's state is not known).
std::string paused_without_primary(const Snapshot& s);

std::string decide_pause(Plan& plan, const Snapshot& s);
std::string pause_problem(const Snapshot& s);
nlohmann::json pause_status(const Snapshot& s);

}  // namespace hasup::loop
