#pragma once
// The broker's part of decide(): its config and unit, the cluster's founding
// (exactly once, through Consul), joining it, forgetting a node that left for
// good, and a node stuck silent. Pure, like the rest of decide().
#include <string>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// Adds the broker's actions to the plan; returns a note for the plan's reason ("" when none).
std::string decide_broker(Plan& plan, const Snapshot& s);

// Why this node should not hold the floating IP because of its broker, in a
// few stable words; "" when nothing. A broker in a minority (paused), alarmed,
// partitioned or outside the cluster serves no client well.
std::string broker_problem(const Snapshot& s);

// "running, 3 of 3 nodes", "silent: WHY", "stopped (failed)", "starting": for
// the member record, status and the event timeline (stable while nothing changes).
std::string broker_summary(const Snapshot& s);

// Its fields of the member record: the summary, the running members of its
// cluster (while it answers), and its cookie's fingerprint.
void publish_broker(const Snapshot& s, cluster::MemberRecord& record);

}  // namespace hasup::loop
