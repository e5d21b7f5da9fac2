#pragma once
// How long a write waits for its peers to hold what it changed. A fixed bound
// could never confirm a large upload (10 s for 2 GB: the client was refused
// every time and retried for ever): the bound grows with the write's body.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "components/upload-gate/config.hpp"

namespace hasup::upload_gate {

// replication.timeout_ms, plus `body_bytes` copied at replication.min_rate_kib_s,
// at most replication.max_timeout_ms (never less than timeout_ms).
inline std::chrono::milliseconds replication_wait(const GateConfig& c, std::uint64_t body_bytes) {
  const std::uint64_t bytes_per_s = std::max<std::uint64_t>(c.min_rate_kib_s, 1) * 1024;
  const auto copy = std::chrono::milliseconds(body_bytes / bytes_per_s * 1000 + body_bytes % bytes_per_s * 1000 / bytes_per_s);
  return std::min(c.timeout + copy, std::max(c.max_timeout, c.timeout));
}

}  // namespace hasup::upload_gate
