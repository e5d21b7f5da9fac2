#pragma once
// The operator's acceptance of a founder after a whole-cluster power loss
// (hactl cold-start --accept NODE), as stored in Consul at
// PREFIX/intent/cold-start (cluster/keys.hpp). Written by the API once its
// preview allowed it; carried out by NODE's own supervisor (decide.hpp);
// dropped by the leader once the cluster has a primary again.
#include <optional>
#include <string>

namespace hasup::cold_start {

struct AcceptRecord {
  std::string node;          // the member the operator accepts as founder
  std::string requested_by;  // "api@n2"
  std::string requested_at;  // UTC, as the API wrote it
  bool operator==(const AcceptRecord&) const = default;
};

std::string encode(const AcceptRecord& record);

// A whole record or why not: anything else (a field missing or of another
// type, a node that is no node name) is refused, never half-used.
struct AcceptDecode {
  std::optional<AcceptRecord> record;
  std::string error;
};
AcceptDecode decode_accept(const std::string& text);

}  // namespace hasup::cold_start
