#pragma once
// The components' pure parts in one list, in the order decide() composes
// them: the name that heads their section of the status document (and that
// their driver reports), their decisions, what keeps the node from serving
// because of them, and their status section. The drivers' list
// (drivers.cpp) holds the same names; a unit test checks that they agree.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

struct ComponentParts {
  const char* name;
  bool (*enabled)(const Snapshot& s);
  // Adds its actions to the plan; returns a note for the plan's reason ("" when none).
  std::string (*decide)(Plan& plan, const Snapshot& s);
  // What keeps this node from serving because of it, in a few stable words; "".
  std::string (*problem)(const Snapshot& s);
  // Its section of this node's status (GET /cluster, "self"), when enabled.
  nlohmann::json (*status)(const Snapshot& s);
  // Fills its fields of this node's member record (what the other nodes
  // should know of it); nullptr when it publishes nothing.
  void (*publish)(const Snapshot& s, cluster::MemberRecord& record);
};

const std::vector<ComponentParts>& components();

}  // namespace hasup::loop
