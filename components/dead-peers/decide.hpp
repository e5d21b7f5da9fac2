#pragma once
// Dead peers' part of decide() and of the status document. Pure.
#include <nlohmann/json.hpp>

#include <string>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// Keeps the kernel's table equal to the peers gossip calls failed now
// (dead_peers::failed_peers); returns a note for the plan's reason.
std::string decide_dead_peers(Plan& plan, const Snapshot& s);
// Never keeps the node from serving: "".
std::string dead_peers_problem(const Snapshot& s);
// Its section of the status document.
nlohmann::json dead_peers_status(const Snapshot& s);

}  // namespace hasup::loop
