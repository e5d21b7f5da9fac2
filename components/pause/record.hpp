#pragma once
// The cluster's pause (hactl pause / hactl resume), as stored in Consul at
// PREFIX/intent/pause (cluster/keys.hpp). While it says paused, the cluster
// makes no automatic move: no failover (Patroni is paused too), no floating IP
// move but a dead holder's by VRRP, no cluster settings applied; a resume
// writes paused = false, so status can say who resumed and when.
#include <optional>
#include <string>

namespace hasup::pause {

struct PauseRecord {
  bool paused = false;
  std::string by;      // "api@n2"
  std::string at;      // UTC, as the API wrote it
  std::string reason;  // the operator's words ("" none): printable, at most 200 bytes
  bool operator==(const PauseRecord&) const = default;
};

inline constexpr std::size_t kReasonLimit = 200;

std::string encode(const PauseRecord& record);

// A whole record or why not; never half-used.
struct PauseDecode {
  std::optional<PauseRecord> record;
  std::string error;
};
PauseDecode decode_pause(const std::string& text);

}  // namespace hasup::pause
