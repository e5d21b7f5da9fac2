#pragma once
// What a gated write's client gets once the wait is over: the upstream's answer
// with replication headers, or a 503 that says the write is not confirmed on
// the peers. Pure: unit-tested without a network.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "components/upload-gate/config.hpp"
#include "components/upload-gate/replication_tracker.hpp"

namespace hasup::upload_gate {

struct Verdict {
  bool release_upstream = false;  // false: answer `status` with `body` instead
  int status = 0;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
  std::string summary;  // for the log line
};

// The configured rules a verdict follows (config.hpp).
struct VerdictRules {
  OnTimeout on_timeout = OnTimeout::fail;
  Durability durability = Durability::strict;
  std::chrono::seconds retry_after{5};  // of the 503s
};

Verdict decide_verdict(const ReplicationResult& result, const VerdictRules& rules);

// {"error": "..."} plus optional fields, for every error the gate itself sends.
std::string error_body(const std::string& error);

}  // namespace hasup::upload_gate
