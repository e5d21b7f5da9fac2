#pragma once
// Which member-record schema this node writes during a rolling upgrade: the
// newest that every node of the cluster reads. A node's reach is what its
// registration says (kept while it is down, so a node upgraded later still
// reads what the others wrote meanwhile) and what its live record says.
// Without the field (a supervisor older than it) a node reads schema 1.
#include <string>

#include "supervisor/cluster/records.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::cluster {

int member_schema_to_write(const loop::KvView& kv);

// For the plan's reason and hactl status: "" while every node reads this
// build's newest schema; else which nodes hold the cluster to an older one.
std::string member_schema_note(const loop::KvView& kv);

}  // namespace hasup::cluster
