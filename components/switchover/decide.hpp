#pragma once
// A planned switchover of the whole appliance: the database's primary, the
// writes in flight and the floating IP move to another member, on purpose
// (hactl switchover [--to NODE] [--dry-run]). Pure, like the rest of decide():
//   - the preview the API answers a dry run with, and checks before it
//     writes the request (record.hpp);
//   - every node: its upload gate holds new writes while the record says so
//     (phases hold and database), bounded by the record's hold_until_ms;
//   - the leader: carries the record through its phases: floating-ip (every
//     other node gives the address up to the target, drained first, while
//     writes flow), hold (until every gate says no write is left at a REST
//     service), database (Patroni's own switchover to the synchronous standby
//     named: zero lag; the hold ends with it); each failure ends the record as
//     failed with the step and what stands;
//   - the leader, with no switchover under way: requests one itself when the
//     primary's database filesystem is full (hand_over_full_primary);
//   - the floating IP's rule (components/keepalived) asks
//     vip_leaves_for_switchover().
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "components/switchover/record.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// How long the gates may take to finish the writes already at a REST service.
inline constexpr std::chrono::milliseconds kSwitchoverDrainLimit{5000};
// How long writes wait at most (the record's hold_until_ms, from the request).
inline constexpr std::chrono::milliseconds kSwitchoverHoldLimit{15000};
// How long Patroni may take to switch (its own API gives up after ~20 s).
inline constexpr std::chrono::milliseconds kSwitchoverDatabaseLimit{40000};
// How long the floating IP may take to reach the new primary's node.
inline constexpr std::chrono::milliseconds kSwitchoverFloatingIpLimit{10000};
// How long after a failed switchover away from a primary whose database
// filesystem is full the leader tries again (supervisor/util/filesystem_space.hpp).
inline constexpr std::chrono::milliseconds kFullPrimaryRetry{60000};

struct SwitchoverPreview {
  std::string refusal;             // "" when the switchover may start now
  std::string from;                // the primary now
  std::string to;                  // the member chosen (the operator's, or the first fit synchronous standby)
  std::vector<std::string> steps;  // what would be done, in words
};
SwitchoverPreview preview_switchover(const Snapshot& s, const std::string& to);
nlohmann::json to_json(const SwitchoverPreview& preview);

// The stored switchover, decoded; nullopt when none or unreadable.
std::optional<switchover::SwitchoverRecord> stored_switchover(const Snapshot& s);

// From the floating-ip phase to the end, every node but the new primary's
// gives the address up (once that node can take it): keepalived's FAULT.
bool vip_leaves_for_switchover(const Snapshot& s);
// While writes are held and the database changes primary, the new primary's
// node keeps the address although it may count itself unfit then (no primary
// for a moment): moved then, it would strand the writes held there.
bool switchover_keeps_vip_here(const Snapshot& s);

std::string decide_switchover(Plan& plan, const Snapshot& s);
std::string switchover_problem(const Snapshot& s);  // none: a switchover is no fault of this node
nlohmann::json switchover_status(const Snapshot& s);
void publish_switchover(const Snapshot& s, cluster::MemberRecord& r);

}  // namespace hasup::loop
