#pragma once
// The upload gate's own word on the durability rule it runs by. The gate
// takes its rule from its own config (replication.durability), written by the
// same install step as cluster.durability; nothing else ties the two, so the
// gate writes what it runs by at its start (its replication.durability_file)
// and hactl status shows it, and says when it differs.
#include <string>

namespace hasup::loop {

struct GateDurability {
  std::string rule;   // "strict" or "available"; "" when not known
  std::string error;  // why not known ("" when known)
};

// The file's content: one word, an optional newline. Anything else is
// reported, never taken for a rule.
GateDurability parse_gate_durability(const std::string& text);

// Reads `path` (absent: the gate has not started on this node).
GateDurability read_gate_durability(const std::string& path);

}  // namespace hasup::loop
