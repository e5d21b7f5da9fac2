#pragma once
// The supervisor's decisions: a pure function of the snapshot. Tests feed it
// snapshots and check the plan and its reason; nothing here touches the world.
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

cluster::Role derive_role(const Snapshot& s);
Plan decide(const Snapshot& s);
// What keeps this node from serving clients well, in a few stable words; "".
std::string local_problem(const Snapshot& s);

}  // namespace hasup::loop
