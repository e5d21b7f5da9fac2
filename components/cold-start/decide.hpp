#pragma once
// After a whole-cluster power loss, Patroni promotes only a member that may
// hold every acknowledged commit (its /sync key). When none of those comes
// back, the operator may accept another member as founder, losing what it
// missed: hactl cold-start --accept NODE, shown first with --dry-run.
// Pure, like the rest of decide(): the preview the API answers with and
// checks before it writes the acceptance, and the steps the loop takes.
//   - NODE's own supervisor asks its Patroni to fail over to NODE (Patroni's
//     manual failover, which it honours without a leader), only while the
//     preview still allows it: a member Patroni waits for that comes back
//     first ends the acceptance's effect.
//   - The primary's supervisor drops the acceptance once there is one again.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// How long a node waits after Patroni's answer before it asks again.
inline constexpr std::chrono::milliseconds kColdStartRetry{5000};

struct AcceptPreview {
  std::string refusal;                // "" when accepting `node` may be done now
  std::vector<std::string> waits_for; // the members Patroni would promote (none of them up)
  std::string loses;                  // what accepting `node` would lose, at least
};
AcceptPreview preview_accept(const Snapshot& s, const std::string& node);
nlohmann::json to_json(const AcceptPreview& preview, const std::string& node);

std::string decide_cold_start(Plan& plan, const Snapshot& s);
std::string cold_start_problem(const Snapshot& s);  // none: a waiting cluster has no primary to serve
nlohmann::json cold_start_status(const Snapshot& s);

}  // namespace hasup::loop
