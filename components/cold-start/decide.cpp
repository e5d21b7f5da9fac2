#include "components/cold-start/decide.hpp"

#include "components/cold-start/record.hpp"
#include "components/postgres/decide.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::loop {

using nlohmann::json;

AcceptPreview preview_accept(const Snapshot& s, const std::string& node) {
  AcceptPreview p;
  const DbView& db = s.db;
  const auto& cluster = db.cluster;
  p.waits_for = cluster.promotable;
  auto refuse = [&p](std::string why) {
    p.refusal = std::move(why);
    return p;
  };
  if (!db.enabled) return refuse("this node runs no database (db.backend = none)");
  if (db.backend != "patroni")
    return refuse("cold-start --accept works with the Patroni backend (db.backend = " + db.backend +
                  "): stolon founds from its own clusterdata");
  if (!s.consul.quorum_reachable)
    return refuse("Consul has no quorum here: nothing can be agreed on; boot more nodes first");
  if (!db.cluster_known) return refuse("Patroni's state in Consul is not read yet");
  if (!cluster.initialized) {
    // Consul's data lost: Patroni stays stopped until the newest copy of its
    // records among a majority of the nodes is written back
    // (components/postgres). With copies on fewer, only the operator's word.
    const auto copies = patroni_keys_copies(s);
    if (copies.empty())
      return refuse("Patroni's cluster is not initialised in Consul (no initialize key) and no node holds a copy of "
                    "its records: there is no founder to accept");
    if (!patroni_keys_verdict(s, "").restorer.empty())
      return refuse("Consul lost Patroni's records, but a majority of the nodes hold copies: the newest of them is "
                    "written back without an acceptance (hactl status says by whom)");
    auto verdict = patroni_keys_verdict(s, node);
    if (verdict.restorer != node) return refuse(verdict.note);
    std::vector<std::string> without;
    for (const auto& [name, known] : s.known.nodes)
      if (!copies.count(name)) without.push_back(name);
    p.loses = "whatever is newer than " + node + "'s copy of Patroni's records (" +
              cluster::newness_text("index", copies.at(node)) + ") on " +
              (without.empty() ? std::string("no other node") : sentence_list(without)) +
              " (a node that kept up while " + node + " was cut off holds newer records, and the commits they "
              "name); Patroni then decides from those records, and if the members they name stay down, this "
              "acceptance then asks Patroni to promote " + node;
    return p;
  }
  if (!cluster.primary.empty()) return refuse("the cluster has a primary (" + cluster.primary + "): nothing to accept");
  if (cluster.promotable.empty())
    return refuse("Patroni's keys name no members it waits for (no sync key): its own election decides");
  if (auto up = cluster.promotable_up(); !up.empty())
    return refuse(sentence_list(up) + (up.size() == 1 ? " is" : " are") +
                  " up and may hold every acknowledged commit: Patroni's election is under way; accepting another "
                  "member would lose what it holds");
  if (!cluster.member(node))
    return refuse(node + " is not up as a member of Patroni's cluster: boot it and wait until its Patroni "
                         "registers (hactl status)");
  const auto distance = cluster.distance_from_last_primary(node);
  p.loses = "every commit " + node + " missed: " +
            (distance ? "at least " + std::to_string(*distance) + " bytes of WAL (its distance from the primary's "
                                                                   "last recorded position; commits after that record "
                                                                   "are lost too, and not counted)"
                      : "how much is unknown (Patroni's keys hold no positions to compare)") +
            "; the uploads of those commits keep their files on the lost nodes only (syncthing brings the files back "
            "if one returns; their rows are gone)";
  return p;
}

json to_json(const AcceptPreview& preview, const std::string& node) {
  json j{{"node", node}, {"waits_for", preview.waits_for}, {"allowed", preview.refusal.empty()}};
  if (!preview.refusal.empty()) j["refusal"] = preview.refusal;
  if (!preview.loses.empty()) j["loses"] = preview.loses;
  return j;
}

std::string decide_cold_start(Plan& plan, const Snapshot& s) {
  if (!s.cold_start.enabled || !s.kv.cold_start) return {};
  auto decoded = cold_start::decode_accept(s.kv.cold_start->text);
  if (!decoded.record)
    return "cold start: the stored acceptance is unreadable (" + decoded.error +
           "): not acted on (hactl cold-start --cancel removes it)";
  const auto& r = *decoded.record;
  const auto& cluster = s.db.cluster;
  const std::string accepted =
      "cold start: " + r.node + " accepted as founder by " + r.requested_by + " at " + r.requested_at;
  if (s.db.cluster_known && !cluster.primary.empty()) {
    // Done, or overtaken (a member Patroni waited for came back first): the
    // acceptance must not outlive the power loss it was for. The primary's
    // supervisor drops it: one node, and one that surely sees the database.
    const std::string said = cluster.primary == r.node
                                 ? accepted + ": it is primary, the acceptance is done"
                                 : accepted + ": dropped, " + cluster.primary + " is primary";
    if (cluster.primary == s.self) want(plan, s, DropColdStartAccept{s.kv.cold_start->index, said});
    return said;
  }
  if (r.node != s.self)
    return accepted + (s.db.cluster_known && !cluster.initialized
                           ? ": its supervisor writes Patroni's records back from its copy"
                           : ": its supervisor asks Patroni to promote it");
  auto preview = preview_accept(s, r.node);
  if (!preview.refusal.empty()) return accepted + "; not now: " + preview.refusal;
  // Consul's data lost: the database's hold writes this node's copy back
  // (components/postgres); Patroni's own election follows.
  if (!cluster.initialized) return accepted + ": Patroni's records are written back from this node's copy first";
  if (s.busy.count(Job::accept_cold_start)) return accepted + ": asking Patroni to fail over to this node";
  if (const auto& last = s.cold_start.last_attempt; last && last->node == r.node && last->ago < kColdStartRetry) {
    plan.wake_within(kColdStartRetry - last->ago);
    return accepted + "; Patroni answered: " + last->answer;
  }
  plan.actions.push_back(AcceptColdStart{r.node});
  return accepted + ": asking Patroni to fail over to this node (losing " + preview.loses + ")";
}

std::string cold_start_problem(const Snapshot&) { return {}; }

json cold_start_status(const Snapshot& s) {
  json j = json::object();
  if (s.kv.cold_start) {
    auto decoded = cold_start::decode_accept(s.kv.cold_start->text);
    if (decoded.record)
      j["accepted"] = {{"node", decoded.record->node},
                       {"requested_by", decoded.record->requested_by},
                       {"requested_at", decoded.record->requested_at}};
    else
      j["accepted_unreadable"] = decoded.error;
  }
  if (const auto& last = s.cold_start.last_attempt)
    j["last_attempt"] = {{"node", last->node}, {"seconds_ago", last->ago.count() / 1000},
                         {"accepted", last->accepted}, {"answer", last->answer}};
  if (!s.cold_start.drop_error.empty()) j["drop_error"] = s.cold_start.drop_error;
  return j;
}

}  // namespace hasup::loop
