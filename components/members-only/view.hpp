#pragma once
// The members-only ports as the loop sees them: its part of the snapshot.
#include <string>
#include <vector>

namespace hasup::loop {

struct MembersOnlyView {
  bool enabled = false;
  std::vector<int> ports;
  // What this process loaded last ("" nothing yet: the table is gone after a
  // boot, so every start loads it once), and a script nft refused.
  std::string applied;
  std::string refused;
  std::string error;
};

}  // namespace hasup::loop
