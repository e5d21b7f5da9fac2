#pragma once
// The supervisor's decisions: a pure function of the snapshot. Tests feed it
// snapshots and check the plan and its reason; nothing here touches the world.
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// After Consul refuses a lock (the member key, the leader lock), the next try
// waits this long: within a lock-delay every try is refused, and retrying at
// once made each node write to Consul ~200 times a second for 3.5 s.
inline constexpr std::chrono::milliseconds kLockRetry{250};

cluster::Role derive_role(const Snapshot& s);
Plan decide(const Snapshot& s);
// What keeps this node from serving clients well, in a few stable words; "".
std::string local_problem(const Snapshot& s);
// This node's member record as the role `role` would publish it: what the
// other nodes (and the event timeline, events/detect.hpp) know of it.
cluster::MemberRecord desired_member_record(const Snapshot& s, cluster::Role role);
// The founder the operator accepted after a whole-cluster power loss (hactl
// cold-start --accept NODE); "" when none, or when the stored acceptance is
// unreadable (never acted on).
std::string accepted_founder(const Snapshot& s);

}  // namespace hasup::loop
