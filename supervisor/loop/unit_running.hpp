#pragma once
// Whether a watched unit is running or on its way (what "start it" decisions
// must not interrupt); a unit the snapshot does not know counts as not running.
#include <string>

#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

inline bool unit_running(const Snapshot& s, const std::string& unit) {
  auto u = s.units.find(unit);
  if (u == s.units.end()) return false;
  const std::string& state = u->second.active_state;
  return state == "active" || state == "activating" || state == "reloading" || state == "deactivating";
}

}  // namespace hasup::loop
