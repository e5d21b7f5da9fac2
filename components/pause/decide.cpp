#include "components/pause/decide.hpp"

#include "supervisor/util/split.hpp"

namespace hasup::loop {

using nlohmann::json;

ClusterPause cluster_pause(const KvView& kv) {
  ClusterPause p;
  if (!kv.pause) return p;
  auto decoded = pause::decode_pause(kv.pause->text);
  if (!decoded.record) {
    p.paused = true;
    p.error = "the stored pause is unreadable (" + decoded.error + "): counted as paused until hactl pause or "
              "hactl resume writes a new one";
    return p;
  }
  p.record = decoded.record;
  p.paused = decoded.record->paused;
  return p;
}

bool cluster_paused(const Snapshot& s) { return cluster_pause(s.kv).paused; }

namespace {

std::string since_text(const ClusterPause& p) {
  if (!p.record) return {};
  return " (by " + p.record->by + " at " + p.record->at + (p.record->reason.empty() ? "" : ": " + p.record->reason) +
         ")";
}

}  // namespace

std::string pause_blocker(const Snapshot& s, const std::string& what) {
  auto p = cluster_pause(s.kv);
  if (!p.paused) return {};
  return "the cluster is paused" + since_text(p) + ": no " + what + " until hactl resume";
}

std::string paused_without_primary(const Snapshot& s) {
  if (!cluster_paused(s) || !s.db.enabled || !s.db.cluster_known || !s.db.cluster.initialized) return {};
  const auto& cluster = s.db.cluster;
  if (!cluster.primary.empty()) return {};
  // Patroni names none, but a primary that lost Consul (paused, it is not
  // demoted) still takes this node's probe writes: not gone.
  if (s.db.endpoint && s.db.endpoint->writable) return {};
  auto up = cluster.promotable_up();
  return "the database has no primary and the cluster is paused: nothing fails over. Start the primary's "
         "PostgreSQL (or its node) again, or run `hactl resume` to let " + cluster.backend + " promote " +
         (up.empty() ? std::string("a synchronous standby once one is up") : "one of " + sentence_list(up));
}

std::string decide_pause(Plan& plan, const Snapshot& s) {
  const auto p = cluster_pause(s.kv);
  std::string note;
  if (p.paused)
    note = "cluster paused" + since_text(p) + ": no failover, no floating IP move but by VRRP, no settings applied";
  if (!p.error.empty()) note += (note.empty() ? "" : "; ") + p.error;
  if (auto advice = paused_without_primary(s); !advice.empty()) note += "; " + advice;
  // Patroni's own pause follows a record hactl wrote; with none, a pause made
  // with patronictl is the operator's and is left alone.
  const auto& db = s.db;
  if (plan.role != cluster::Role::leader || !s.pause.patroni || !p.record || !db.cluster_known ||
      !db.cluster.initialized || db.cluster.paused == p.record->paused)
    return note;
  const auto& answer = s.pause.patroni_answer;
  if (answer && !answer->ok && answer->paused == p.record->paused && answer->ago < kPatroniPauseRetry) {
    plan.wake_within(kPatroniPauseRetry - answer->ago);
    return note + (note.empty() ? "" : "; ") + "Patroni refused to " + (p.record->paused ? "pause" : "resume") +
           " (" + answer->words + "): asked again soon";
  }
  if (want(plan, s, SetPatroniPause{p.record->paused}))
    note += std::string(note.empty() ? "" : "; ") + (p.record->paused ? "pausing Patroni (no automatic failover)"
                                                                        : "resuming Patroni's automatic failover");
  return note;
}

// Not a node's problem: the whole cluster's state, shown in status.
std::string pause_problem(const Snapshot&) { return {}; }

json pause_status(const Snapshot& s) {
  const auto p = cluster_pause(s.kv);
  json doc{{"paused", p.paused}};
  if (p.record) {
    doc["by"] = p.record->by;
    doc["at"] = p.record->at;
    if (!p.record->reason.empty()) doc["reason"] = p.record->reason;
  }
  if (!p.error.empty()) doc["error"] = p.error;
  if (s.db.enabled && s.db.backend == "patroni" && s.db.cluster_known) {
    doc["patroni_paused"] = s.db.cluster.paused;
    // The leader has yet to make Patroni follow the record.
    if (p.record) doc["patroni_following"] = s.db.cluster.paused == p.record->paused;
  }
  if (const auto& a = s.pause.patroni_answer; a && !a->ok) doc["patroni_error"] = a->words;
  if (auto advice = paused_without_primary(s); !advice.empty()) doc["advice"] = advice;
  return doc;
}

}  // namespace hasup::loop
