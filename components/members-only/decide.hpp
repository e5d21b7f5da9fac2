#pragma once
// The members-only ports' part of decide() and of the status document. Pure.
#include <nlohmann/json.hpp>

#include <string>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// Keeps the kernel's table equal to the cluster's nodes (known, alive or not,
// and live members not yet registered); returns a note for the plan's reason.
std::string decide_members_only(Plan& plan, const Snapshot& s);
// Never keeps the node from serving: "".
std::string members_only_problem(const Snapshot& s);
nlohmann::json members_only_status(const Snapshot& s);

}  // namespace hasup::loop
