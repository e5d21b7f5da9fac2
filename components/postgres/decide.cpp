#include "components/postgres/decide.hpp"

#include <algorithm>

#include "components/patroni/keys_copy.hpp"
#include "components/patroni/render.hpp"
#include "supervisor/cluster/copy_verdict.hpp"
#include "supervisor/loop/decide.hpp"
#include "supervisor/cluster/known_nodes.hpp"
#include "supervisor/util/ip_network.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::loop {

namespace {

// pg_hba's hosts: the cluster's nodes and this one, those in db.peer_network
// (a registration outside it is named, not admitted).
patroni::PatroniModel with_peer_hosts(const patroni::PatroniModel& base, const Snapshot& s, std::string& note) {
  patroni::PatroniModel model = base;
  std::set<std::string> addresses = cluster::node_addresses(s.known, s.kv);
  addresses.insert(model.address);
  std::string outside;
  for (const auto& a : addresses) {
    if (address_in_network(a, model.peer_network)) model.peer_addresses.push_back(a);
    else outside += (outside.empty() ? "" : ", ") + quoted_printable(a);  // Consul's text: shown, never acted on
  }
  if (!outside.empty()) note += "; patroni: pg_hba leaves out " + outside + " (outside db.peer_network " + model.peer_network + ")";
  return model;
}

// No primary: when the backend names the only members it will promote, which
// of them are up, so an operator after a power loss knows whom to bring back.
std::string no_primary_note(const DbView& db) {
  const auto& promotable = db.cluster.promotable;
  if (promotable.empty()) return "database: no primary (failover in progress)";
  const std::string waits = "database: no primary; " + db.backend + " promotes only " + sentence_list(promotable) +
                            " (the members that may hold every acknowledged commit): ";
  if (auto up = db.cluster.promotable_up(); !up.empty())
    return waits + sentence_list(up) + " up, its election under way";
  // What promoting a member that is up would lose instead, as far as the
  // backend's keys show it: a lower bound, said as one.
  std::vector<std::string> behind;
  for (const auto& m : db.cluster.members)
    if (auto distance = db.cluster.distance_from_last_primary(m.name))
      behind.push_back(m.name + " " + std::to_string(*distance) + " bytes of WAL");
  return waits + "none of them is up, bring one back (promoting another would lose what it missed" +
         (behind.empty() ? ""
                         : ", at least its distance from the primary's last recorded position: " + sentence_list(behind)) +
         "; hactl cold-start --accept NODE --dry-run shows it for one node)";
}

// A stable summary: it changes with the primary, not with every probe.
std::string cluster_note(const DbView& db) {
  if (!db.cluster_known) return "database: waiting for " + db.backend + "'s state in Consul";
  if (!db.cluster.initialized) return "database: " + db.backend + " cluster not initialised yet";
  std::string note = db.cluster.primary.empty() ? no_primary_note(db) : "database: primary " + db.cluster.primary;
  // The trade-off of two database nodes, said where operators look.
  if (db.patroni.model.synchronous_mode && !db.patroni.model.synchronous_mode_strict && db.cluster.members.size() == 2)
    note += " (2 members: after a failover, new commits have one copy until the other node is back)";
  return note;
}

// Patroni must not be started where it could found the cluster from a stale
// node, or initialise a new, empty one: before Consul's view of its keys was
// read, and while Consul holds none of its records but nodes hold copies
// (components/patroni/keys_copy.hpp), until the newest copy of a majority's
// is written back. "" when it may start; else why not.
std::string patroni_start_hold(Plan& plan, const Snapshot& s) {
  const DbView& db = s.db;
  if (!db.cluster_known) return "waiting for Patroni's keys in Consul before starting it";
  if (db.cluster.initialized) return {};
  const std::string lost = "Consul holds none of Patroni's records (its data lost?) ";
  if (!db.patroni.keys_copy && !db.patroni.keys_copy_error.empty())
    return lost + "and this node's copy cannot be read: Patroni stays stopped (" + db.patroni.keys_copy_error + ")";
  const auto copies = patroni_keys_copies(s);
  if (copies.empty()) {
    // No copy among the live members is known only once every node this one
    // knows has a live record: after a whole-cluster power loss a node still
    // booting may hold the only copy, and a Patroni started meanwhile on an
    // older node's data would found the cluster from it. A new cluster's nodes
    // are all up at its first boot; Patroni bootstraps it.
    std::vector<std::string> unheard;
    for (const auto& [name, node] : s.known.nodes)
      if (name != s.self && !s.kv.members.count(name)) unheard.push_back(name);
    if (unheard.empty()) return {};
    return lost + "and no live member holds a copy of them, but " + sentence_list(unheard) +
           (unheard.size() == 1 ? " has" : " have") +
           " no live record yet and may hold one: Patroni stays stopped until " +
           (unheard.size() == 1 ? "it boots" : "they boot") + " (hactl forget NODE for a node gone for good)";
  }
  auto verdict = patroni_keys_verdict(s, accepted_founder(s));
  if (verdict.restorer == s.self && s.consul.quorum_reachable)
    want(plan, s, RestorePatroniKeys{db.patroni.keys_copy->index});
  return lost + "while nodes hold copies: Patroni stays stopped; " + verdict.note;
}

// Patroni acts on a change of its leader key at its next HA loop, up to
// db.loop_wait_s later: with loop_wait 1 it never watches Consul (Patroni 4's
// consul.py waits on the key only for a timeout of 1 s or more), so a node
// followed a new leader (commits wait for a standby) up to a second after
// Consul showed it. Every node whose Patroni runs wakes it as soon as its
// supervisor sees a new leader in the key; Patroni's own rules decide what
// it does then (a wake only runs its loop sooner).
std::string wake_patroni_for_leader(Plan& plan, const Snapshot& s) {
  const DbView& db = s.db;
  if (!db.cluster_known || !db.patroni.leader_woken_for) return {};
  const std::string& leader = db.cluster.leader;
  if (leader == *db.patroni.leader_woken_for || leader == s.self) return {};
  // The key gone: only a switchover's candidate (Patroni's failover key names
  // it) is woken to take it. Woken then, a third node asked the demoting
  // primary's API and waited 2 s for it (a lab switchover), missing the new
  // leader meanwhile. After a crash the standbys are left to their own loops:
  // woken together, the primary's crash cost more, not less (lab crashes,
  // README's Measured: median 2.7 s where it was 2.2-2.3 s).
  if (leader.empty() && db.cluster.failover_to != s.self) return {};
  auto unit = s.units.find(db.unit);
  if (unit == s.units.end() || !unit->second.serving()) return {};
  if (!want(plan, s, WakePatroniForLeader{leader})) return {};
  return leader.empty() ? "patroni: the leader key is gone: waking this node's Patroni now, not at its next loop"
                        : "patroni: the leader key names " + leader + ": waking this node's Patroni to follow it now";
}

// A new primary keeps its crashed predecessor in synchronous_standby_names
// for a few of its loops (Patroni's quorum state machine: the promotion, then
// the sync key's quorum, then the names, one step per loop). With no other
// standby (two managers), commits wait meanwhile: 4.0 s from the promotion in
// a lab try. The key's holder wakes its Patroni every 200 ms while its sync
// key names a member that is gone: the names were cleared 2.1 s after the
// promotion then (same try, woken by hand). Not when commits wait for a
// standby anyway (strict: Patroni may keep the gone one named for as long as
// it is down) nor while Patroni is paused: the wakes would never end.
constexpr std::chrono::milliseconds kSyncWakeInterval{200};

std::string wake_patroni_for_sync_key(Plan& plan, const Snapshot& s) {
  const DbView& db = s.db;
  if (!db.cluster_known || db.cluster.leader != s.self || db.cluster.sync_key_names.empty() ||
      db.patroni.model.synchronous_mode_strict || db.cluster.paused)
    return {};
  std::vector<std::string> gone;
  for (const auto& name : db.cluster.sync_key_names) {
    if (name == s.self) continue;
    const bool alive = std::any_of(db.cluster.members.begin(), db.cluster.members.end(),
                                   [&](const db::DbMember& m) { return m.name == name; });
    if (!alive) gone.push_back(name);
  }
  if (gone.empty()) return {};
  auto unit = s.units.find(db.unit);
  if (unit == s.units.end() || !unit->second.serving()) return {};
  plan.wake_within(kSyncWakeInterval);
  want(plan, s, WakePatroniForSyncKey{gone});
  return "patroni: its sync key still names " + sentence_list(gone) +
         ", gone: waking this node's Patroni until it drops them";
}

// One durability rule (cluster.durability) for the database too. Patroni
// keeps synchronous_mode_strict in its config key, written from patroni.yml
// once, at bootstrap: a rule changed later, or the key edited with
// patronictl, is set back by the supervisors' leader through its own
// Patroni's API. The leader's file is the cluster's rule: in a rolling change
// of cluster.durability it takes effect when the leader runs the new file.
constexpr std::chrono::milliseconds kStrictRetry{10000};

std::string set_patroni_strict(Plan& plan, const Snapshot& s) {
  const DbView& db = s.db;
  if (plan.role != cluster::Role::leader || !db.cluster_known || !db.cluster.initialized ||
      !db.cluster.strict_in_force)
    return {};
  const bool wanted = db.patroni.model.synchronous_mode_strict;
  if (*db.cluster.strict_in_force == wanted) return {};
  const std::string differs = std::string("patroni: its synchronous_mode_strict is ") +
                              (wanted ? "false" : "true") + ", cluster.durability \"" + s.durability + "\" wants " +
                              (wanted ? "true" : "false");
  auto unit = s.units.find(db.unit);
  if (unit == s.units.end() || !unit->second.serving()) return differs + " (set once this node's Patroni runs)";
  if (const auto& refused = db.patroni.strict_refused; refused && refused->ago < kStrictRetry) {
    plan.wake_within(kStrictRetry - refused->ago);
    return differs + ": Patroni refused (" + refused->words + "), asked again soon";
  }
  if (!want(plan, s, SetPatroniStrict{wanted})) return differs + " (being set)";
  return differs + ": setting it";
}

}  // namespace

bool patroni_runs_rendered_conf(const Snapshot& s) {
  const DbView& db = s.db;
  if (!db.enabled || db.backend != "patroni" || !db.template_error.empty() || !db.patroni.replication_error.empty() ||
      !s.kv.known || !s.units_connected || s.busy.count(Job::apply_patroni_conf))
    return false;
  std::string note;
  auto yml = patroni::render_patroni_yml(db.patroni.conf_template, with_peer_hosts(db.patroni.model, s, note));
  if (!yml.error.empty() || db.patroni.current_conf != yml.text) return false;
  auto unit = s.units.find(db.unit);
  return unit != s.units.end() && unit->second.active_state == "active" &&
         !daemon_may_run_an_older_file(db.patroni.conf_file.written, unit->second.state_changed,
                                       unit->second.active_state);
}

std::map<std::string, cluster::CopyNewness> patroni_keys_copies(const Snapshot& s) {
  const auto& copy = s.db.patroni.keys_copy;
  const auto own = copy ? std::optional(cluster::CopyNewness{copy->write_backs, copy->index}) : std::nullopt;
  return cluster::gather_copies(s.self, own, s.kv.members,
                                [](const cluster::MemberRecord& m) -> std::optional<cluster::CopyNewness> {
                                  if (!m.patroni_keys_index) return std::nullopt;
                                  return cluster::CopyNewness{m.patroni_keys_write_backs.value_or(0),
                                                              *m.patroni_keys_index};
                                });
}

cluster::CopyVerdict patroni_keys_verdict(const Snapshot& s, const std::string& accepted) {
  const auto copies = patroni_keys_copies(s);
  return cluster::newest_copy_verdict(copies, std::max(s.known.nodes.size(), copies.size()), "Patroni's records",
                                      "index", accepted);
}

void publish_db(const Snapshot& s, cluster::MemberRecord& record) {
  if (s.db.backend == "patroni" && s.db.patroni.keys_copy) {
    record.patroni_keys_index = s.db.patroni.keys_copy->index;
    // Only once there was one: the records of a cluster that never lost
    // Consul's data stay as they were.
    if (s.db.patroni.keys_copy->write_backs > 0) record.patroni_keys_write_backs = s.db.patroni.keys_copy->write_backs;
  }
  // The record published last is the rule's memory (full stays full until
  // there is room again).
  if (const auto& space = s.db.data_space.space) {
    auto self = s.kv.members.find(s.self);
    const bool was_full = self != s.kv.members.end() && self->second.data_full.value_or(false);
    record.data_full = util::filesystem_full(*space, was_full);
  }
}

std::string post_bootstrap_command(const std::string& script, const std::string& sql_file) {
  return script + " " + sql_file;
}

std::string db_problem(const Snapshot& s) {
  if (!s.db.enabled || !s.db.endpoint) return {};
  if (s.db.endpoint->writable || s.db.endpoint_failing_for < s.db.unfit_after) return {};
  return "database not writable through the local endpoint";
}

// stolon: initialise the cluster exactly once (bootstrap_once: a Consul lock,
// and never when clusterdata exists), and keep its units running. Both only
// with the quorum: bootstrap_once needs it, and a cut-off node must not
// initialise anything.
std::string decide_stolon(Plan& plan, const Snapshot& s, std::string note) {
  const DbView& db = s.db;
  if (!db.template_error.empty()) return note + "; stolon: " + db.template_error;
  if (!s.consul.quorum_reachable || !db.cluster_known) return note;
  if (!db.cluster.initialized && !s.busy.count(Job::bootstrap_stolon)) {
    plan.actions.push_back(BootstrapStolon{db.stolon.spec});
    note += "; stolon: no clusterdata in Consul: initialising the cluster once (bootstrap lock)";
  }
  if (!s.units_connected || s.busy.count(Job::start_stolon_units)) return note;
  StartStolonUnits start;
  std::string stopped;
  for (const auto& unit : db.stolon.units)
    if (s.units.count(unit) && !s.units.at(unit).running_or_starting()) {
      start.units.push_back(unit);
      stopped += (stopped.empty() ? "" : ", ") + unit;
    }
  if (!start.units.empty()) {
    plan.actions.push_back(std::move(start));
    note += "; stolon: starting " + stopped;
  }
  return note;
}

std::string decide_db(Plan& plan, const Snapshot& s) {
  const DbView& db = s.db;
  if (!db.enabled) return {};
  std::string note = cluster_note(db);
  if (db.backend == "stolon") return decide_stolon(plan, s, note);
  if (db.backend != "patroni") return note;
  if (auto woken = wake_patroni_for_leader(plan, s); !woken.empty()) note += "; " + woken;
  if (auto strict = set_patroni_strict(plan, s); !strict.empty()) note += "; " + strict;
  if (auto sync = wake_patroni_for_sync_key(plan, s); !sync.empty()) note += "; " + sync;
  if (!db.template_error.empty()) return note + "; patroni: " + db.template_error;
  if (!db.patroni.replication_error.empty())
    return note + "; patroni: patroni.yml left as it is: " + db.patroni.replication_error;
  // pg_hba names the nodes: not before Consul's view of them was read once.
  if (!s.kv.known) return note + "; patroni: waiting for Consul's view of the nodes (pg_hba admits them only)";
  const patroni::PatroniModel model = with_peer_hosts(db.patroni.model, s, note);
  auto yml = patroni::render_patroni_yml(db.patroni.conf_template, model);
  auto sql = patroni::render_bootstrap_sql(db.patroni.sql_template, model);
  if (!yml.error.empty() || !sql.error.empty())
    return note + "; patroni: not rendered: " + (yml.error.empty() ? sql.error : yml.error);
  const std::string hold = patroni_start_hold(plan, s);
  if (!hold.empty()) note += "; patroni: " + hold;
  if (db.patroni.current_conf != yml.text || db.patroni.current_sql != sql.text) {
    if (!s.busy.count(Job::apply_patroni_conf)) {
      // Patroni re-reads patroni.yml on SIGHUP. Without systemd yet, the start
      // follows as its own action once it is there.
      auto unit = s.units.find(db.unit);
      const AfterWrite after = !s.units_connected                                  ? AfterWrite::nothing
                               : unit != s.units.end() && unit->second.reloadable() ? AfterWrite::reload
                               : hold.empty()                                       ? AfterWrite::start
                                                                                    : AfterWrite::nothing;
      plan.actions.push_back(ApplyPatroniConf{yml.text, sql.text, after});
      note += db.patroni.current_conf ? "; patroni: config changed, rewriting patroni.yml" : "; patroni: writing patroni.yml";
    }
    return note;
  }
  // The files are as rendered; Patroni may still run an older patroni.yml
  // (the supervisor stopped between the write and the reload, or it failed).
  auto catch_up = decide_catch_up("patroni", db.patroni.conf_file, db.unit,
                                  s.busy.count(Job::apply_patroni_conf) || s.busy.count(Job::start_patroni), "", s, plan);
  if (catch_up.reload_now) plan.actions.push_back(ApplyPatroniConf{yml.text, sql.text, AfterWrite::reload, true});
  if (!catch_up.note.empty()) note += "; " + catch_up.note;
  // Patroni runs whenever it has a config (and no hold), whatever this
  // supervisor's role: it keeps its own leader lock in Consul and demotes
  // itself when cut off.
  if (hold.empty() && s.units_connected && s.units.count(db.unit) && !s.units.at(db.unit).running_or_starting() &&
      !s.busy.count(Job::start_patroni)) {
    plan.actions.push_back(StartPatroni{});
    note += "; patroni: starting " + db.unit + " (" + s.units.at(db.unit).active_state + ")";
  }
  return note;
}

}  // namespace hasup::loop
