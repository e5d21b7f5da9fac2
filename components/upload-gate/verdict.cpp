#include "components/upload-gate/verdict.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/util/json_text.hpp"

namespace hasup::upload_gate {

namespace {

Verdict refuse(const std::string& error, const QuorumDecision& decision, std::chrono::seconds retry_after,
               const std::string& summary) {
  Verdict v;
  v.status = 503;
  nlohmann::json missing = nlohmann::json::array();
  for (const auto& m : decision.missing) missing.push_back(m.name + " (" + m.reason + ")");
  v.body = json_text(nlohmann::json{{"error", error}, {"replicated_to", decision.replicated_to}, {"missing", missing}});
  v.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  v.summary = summary;
  return v;
}

void add_peer_headers(Verdict& v, const QuorumDecision& decision) {
  if (!decision.replicated_to.empty()) v.headers.emplace_back("X-Replicated-To", join_names(decision.replicated_to));
  if (!decision.missing.empty()) v.headers.emplace_back("X-Replication-Missing", join_missing(decision.missing));
}

// Durability "available": the write is kept with one copy and the answer
// says so; syncthing brings it to the peers when they are back.
Verdict one_copy(const std::string& why, const QuorumDecision& decision, const std::string& summary) {
  Verdict v;
  v.release_upstream = true;
  add_peer_headers(v, decision);
  v.headers.emplace_back("X-Replication", "one copy: " + why);
  v.headers.emplace_back("Warning", "199 ha-upload-gate \"acknowledged with one copy (durability available): " + why +
                                        "; the peers get it when they are back\"");
  v.summary = summary;
  return v;
}

}  // namespace

std::string error_body(const std::string& error) { return json_text(nlohmann::json{{"error", error}}); }

Verdict decide_verdict(const ReplicationResult& result, const VerdictRules& rules) {
  const auto retry_after = rules.retry_after;
  const bool available = rules.durability == Durability::available;
  using Kind = ReplicationResult::Kind;
  const std::string applied = "the write was applied on this node but ";
  switch (result.kind) {
    case Kind::replicated: {
      Verdict v;
      v.release_upstream = true;
      add_peer_headers(v, result.decision);
      v.summary = "replicated";
      return v;
    }
    case Kind::nothing_changed: {
      Verdict v;
      v.release_upstream = true;
      v.headers.emplace_back("X-Replication", "no file changed");
      v.summary = "nothing changed";
      return v;
    }
    case Kind::timed_out:
      // "warn" releases the answer only when some peer holds the change: with
      // none, the only truthful answer is that the write is not durable.
      if (rules.on_timeout == OnTimeout::warn && !result.decision.replicated_to.empty()) {
        Verdict v;
        v.release_upstream = true;
        add_peer_headers(v, result.decision);
        v.headers.emplace_back("Warning", "199 ha-upload-gate \"replication quorum not met in " +
                                              std::to_string(result.waited.count()) + " ms: " +
                                              result.decision.reason + "\"");
        v.summary = "timed out, released with a warning";
        return v;
      }
      if (available)
        return one_copy(result.decision.reason + " after " + std::to_string(result.waited.count()) + " ms",
                        result.decision, "timed out, released with one copy");
      return refuse(applied + "is not confirmed on the peers: " + result.decision.reason + " after " +
                        std::to_string(result.waited.count()) + " ms (the bound for this write's size: " +
                        std::to_string(result.bound.count()) + " ms)",
                    result.decision, retry_after, "timed out");
    case Kind::no_peer:
      if (available) return one_copy("no peer is reachable", result.decision, "no peer, released with one copy");
      return refuse(applied + "no peer is reachable to replicate it", result.decision, retry_after, "no peer");
    case Kind::unavailable:
      // Even with "available": it is about a node alone, not one whose own
      // replication is broken while its peers are up; the 503 lets the
      // floating IP's fitness move clients to a node that replicates.
      break;
  }
  return refuse(applied + "replication cannot be confirmed: " + result.error, result.decision, retry_after,
                "syncthing unavailable");
}

}  // namespace hasup::upload_gate
