#pragma once
// When the local Consul agent is asked for a full sync: the catalog has
// disagreed with it on one of this node's checks for kDriftBeforeResync (a
// status change reaches the catalog in milliseconds; one not there after
// seconds was lost), at most once every kResyncEvery. Pure.
#include <chrono>
#include <string>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

inline constexpr std::chrono::milliseconds kDriftBeforeResync{5000};
inline constexpr std::chrono::milliseconds kResyncEvery{30000};

// Adds ResyncConsulAgent when due; returns a note for the plan's reason (""
// while there is nothing to say).
std::string decide_catalog_sync(Plan& plan, const Snapshot& s);

}  // namespace hasup::loop
