#include "components/switchover/decide.hpp"

#include <algorithm>
#include <cstdio>

#include "components/pause/decide.hpp"
#include "supervisor/util/split.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::loop {

using nlohmann::json;
using switchover::Phase;
using switchover::SwitchoverRecord;

namespace {

std::string seconds_text(std::chrono::milliseconds ms) { return std::to_string(ms.count() / 1000) + " s"; }

// Why `name` cannot take the primary's role now; "" when it can. Zero lag:
// Patroni (synchronous mode) promotes only its synchronous standby, whose
// every acknowledged commit is on it; the files it serves must be whole too.
std::string target_blocker(const Snapshot& s, const std::string& name) {
  const auto& cluster = s.db.cluster;
  if (name == cluster.primary) return name + " is the primary already";
  auto member = s.kv.members.find(name);
  if (member == s.kv.members.end()) return name + " is not a live member of the cluster";
  const auto& m = member->second;
  if (s.kv.maintenance.count(name)) return name + " is in maintenance";
  if (m.role != cluster::Role::leader && m.role != cluster::Role::follower)
    return name + " is " + cluster::to_string(m.role);
  if (m.health != "ok") return name + " is not healthy (" + m.health + ")";
  if (m.data_full.value_or(false)) return name + "'s database filesystem is full";
  const auto* db = cluster.member(name);
  if (!db || !db->healthy) return name + "'s PostgreSQL is not running as a member of Patroni's cluster";
  if (std::find(cluster.sync_standbys.begin(), cluster.sync_standbys.end(), name) == cluster.sync_standbys.end())
    return name + " is not a synchronous standby (" +
           (cluster.sync_standbys.empty() ? std::string("there is none") : sentence_list(cluster.sync_standbys) + " is") +
           "): it may miss acknowledged commits";
  if (!m.files_state.empty() && m.files_state.rfind("in sync", 0) != 0)
    return name + "'s files are not complete (" + m.files_state + ")";
  return {};
}

// The cluster-wide reasons no switchover may start, whatever the target.
std::string cluster_blocker(const Snapshot& s) {
  const DbView& db = s.db;
  if (!db.enabled) return "this node runs no database (db.backend = none)";
  if (db.backend != "patroni")
    return "hactl switchover drives Patroni's switchover; with db.backend = " + db.backend + " it is not built yet";
  if (!s.consul.quorum_reachable) return "Consul has no quorum here: nothing can be agreed on";
  if (auto why = pause_blocker(s, "switchover"); !why.empty()) return why;
  if (!s.kv.leader) return "no supervisor leads the cluster now (an election is under way): try again";
  if (auto r = stored_switchover(s); r && !switchover::ended(r->phase))
    return "a switchover to " + r->to + " is under way (phase " + to_string(r->phase) + ", requested by " +
           r->requested_by + " at " + r->requested_at + ")";
  if (s.kv.cold_start) return "a cold-start acceptance is stored: the cluster is not whole yet";
  if (!db.cluster_known) return "Patroni's state in Consul is not read yet";
  if (db.cluster.primary.empty() || db.cluster.switching)
    return "the database has no primary now (a failover is under way): nothing to switch over";
  return {};
}

bool holding_phase(Phase p) { return p == Phase::hold || p == Phase::database; }

// The leader's records are written only from a whole, current record.
std::string write(Plan& plan, const Snapshot& s, const SwitchoverRecord& next, const std::string& said) {
  if (want(plan, s, WriteSwitchover{switchover::encode(next), s.kv.switchover->index, said})) return said;
  return "switchover " + next.id + ": writing its record";
}

std::string fail(Plan& plan, const Snapshot& s, const SwitchoverRecord& r, const std::string& step,
                 const std::string& why, const std::string& stands) {
  const std::string outcome = "step " + step + " failed: " + why + "; " + stands;
  return write(plan, s, advanced(r, Phase::failed, s.wall_ms, outcome), "switchover " + r.id + " to " + r.to + " " +
                                                                            outcome);
}

std::string lead_hold(Plan& plan, const Snapshot& s, const SwitchoverRecord& r) {
  const auto elapsed = std::chrono::milliseconds(s.wall_ms - r.phase_started_ms);
  const std::string released = "the held writes were released; nothing switched, " + r.from + " stays primary";
  if (s.db.cluster.primary != r.from)
    return fail(plan, s, r, "hold", "the primary is " + (s.db.cluster.primary.empty() ? "none" : s.db.cluster.primary) +
                                        " now, not " + r.from + " (a failover?)", "the held writes were released");
  if (auto why = target_blocker(s, r.to); !why.empty()) return fail(plan, s, r, "hold", why, released);
  std::vector<std::string> waiting;
  for (const auto& [name, m] : s.kv.members)
    if (m.writes_held && *m.writes_held != r.id) waiting.push_back(name);
  if (waiting.empty())
    return write(plan, s, advanced(r, Phase::database, s.wall_ms),
                 "switchover " + r.id + ": no write is left at a REST service; asking Patroni to switch " + r.from +
                     " over to " + r.to);
  if (elapsed >= kSwitchoverDrainLimit)
    return fail(plan, s, r, "hold",
                "writes still at the REST service on " + sentence_list(waiting) + " after " +
                    seconds_text(kSwitchoverDrainLimit) + " (or their upload gate does not answer)",
                released);
  plan.wake_within(kSwitchoverDrainLimit - elapsed);
  return "switchover " + r.id + ": holding new writes, waiting for the writes at the REST service on " +
         sentence_list(waiting) + " to end";
}

// This node's endpoint probe committed on `name`'s server: it takes writes
// now, before Patroni's member key says so (up to a loop later). A probe from
// before the switch answered on the old primary, never on `name`.
bool takes_writes_now(const Snapshot& s, const std::string& name) {
  auto member = s.kv.members.find(name);
  const auto& endpoint = s.db.endpoint;
  return member != s.kv.members.end() && !member->second.address.empty() && endpoint && endpoint->writable &&
         endpoint->server.rfind(member->second.address + ":", 0) == 0;
}

std::string lead_database(Plan& plan, const Snapshot& s, const SwitchoverRecord& r) {
  const auto& cluster = s.db.cluster;
  // Gone (crashed, cut off): the others give the floating IP up only while it lives.
  if (!s.kv.members.count(r.to) && cluster.primary != r.to)
    return fail(plan, s, r, "database", r.to + " is not a live member of the cluster any more",
                "the primary is " + (cluster.primary.empty() ? std::string("none yet") : cluster.primary) +
                    "; Patroni's own rules go on; the held writes were released");
  const auto elapsed = std::chrono::milliseconds(s.wall_ms - r.phase_started_ms);
  const auto* target = cluster.member(r.to);
  if ((cluster.primary == r.to && target && target->role == db::DbRole::primary) || takes_writes_now(s, r.to)) {
    std::int64_t held = elapsed.count();
    for (const auto& step : r.steps)
      if (step.name == to_string(Phase::hold)) held += step.ms;
    auto member = s.kv.members.find(r.to);
    const bool holds_ip = member != s.kv.members.end() && member->second.holds_vip;
    const std::string said = r.to + " serves writes" + (holds_ip ? " and holds the floating IP" : "") +
                             "; writes waited at most " + std::to_string(held) + " ms";
    return write(plan, s, advanced(r, Phase::done, s.wall_ms, said), "switchover " + r.id + " done: " + said);
  }
  if (!cluster.primary.empty() && cluster.primary != r.from && cluster.primary != r.to)
    return fail(plan, s, r, "database", "Patroni made " + cluster.primary + " primary, not " + r.to,
                cluster.primary + " serves writes");
  const auto& answer = s.switchover.patroni_answer;
  const bool answered = answer && answer->id == r.id;
  if (answered && !answer->switched && cluster.primary == r.from)
    return fail(plan, s, r, "database", "Patroni refused: " + answer->words,
                r.from + " stays primary; the held writes were released");
  if (elapsed >= kSwitchoverDatabaseLimit)
    return fail(plan, s, r, "database",
                "no new primary after " + seconds_text(kSwitchoverDatabaseLimit) +
                    (answered ? " (Patroni said: " + answer->words + ")" : std::string()),
                "the primary is " + (cluster.primary.empty() ? std::string("none yet") : cluster.primary) +
                    "; Patroni's own rules go on");
  plan.wake_within(kSwitchoverDatabaseLimit - elapsed);
  if (!answered && want(plan, s, AskPatroniSwitchover{r.id, r.from, r.to}))
    return "switchover " + r.id + ": asking Patroni to switch " + r.from + " over to " + r.to;
  return "switchover " + r.id + ": waiting for Patroni to make " + r.to + " primary";
}

// First, while writes flow: the requests in flight at the old holder are
// ordinary ones that end within its drain. Moved after the hold, it would
// strand the burst of writes the hold releases there.
std::string lead_floating_ip(Plan& plan, const Snapshot& s, const SwitchoverRecord& r) {
  const auto elapsed = std::chrono::milliseconds(s.wall_ms - r.phase_started_ms);
  const std::string nothing = "nothing switched, " + r.from + " stays primary; the floating IP stays where keepalived "
                              "keeps it";
  if (s.db.cluster.primary != r.from)
    return fail(plan, s, r, "floating-ip", "the primary is " +
                    (s.db.cluster.primary.empty() ? std::string("none") : s.db.cluster.primary) + " now, not " +
                    r.from + " (a failover?)", "the floating IP stays where keepalived keeps it");
  if (auto why = target_blocker(s, r.to); !why.empty()) return fail(plan, s, r, "floating-ip", why, nothing);
  auto target = s.kv.members.find(r.to);
  if (!s.vip.enabled || (target != s.kv.members.end() && target->second.holds_vip)) {
    auto next = advanced(r, Phase::hold, s.wall_ms);
    next.hold_until_ms = s.wall_ms + kSwitchoverHoldLimit.count();
    return write(plan, s, next, "switchover " + r.id + ": " + r.to + " holds the floating IP; every upload gate holds "
                                "new writes");
  }
  if (elapsed >= kSwitchoverFloatingIpLimit)
    return fail(plan, s, r, "floating-ip",
                "the floating IP did not reach " + r.to + " within " + seconds_text(kSwitchoverFloatingIpLimit),
                nothing);
  plan.wake_within(kSwitchoverFloatingIpLimit - elapsed);
  return "switchover " + r.id + ": the floating IP goes to " + r.to;
}

// What a switchover the supervisors request away from a full primary says
// after "supervisor@LEADER" in its requested_by.
std::string full_primary_words(const std::string& primary) { return ": " + primary + "'s database filesystem is full"; }

// Whether `r` is the supervisors' own switchover away from `primary` for its
// full filesystem, whichever supervisor led when it was requested.
bool requested_for_full_primary(const SwitchoverRecord& r, const std::string& primary) {
  const std::string words = full_primary_words(primary);
  return r.requested_by.starts_with("supervisor@") && r.requested_by.ends_with(words) &&
         r.requested_by.size() > std::string("supervisor@").size() + words.size();
}

// A primary whose database filesystem is full fails every write that needs a
// new block, yet holds its role: PostgreSQL answers and Patroni sees nothing
// wrong. The leader hands it over the planned way (drained, held, zero lag)
// to a synchronous standby with room. A failed try for the same primary is
// tried again after kFullPrimaryRetry, not every cycle, and not at once by a
// new leader either (the record names the leader that requested it).
std::string hand_over_full_primary(Plan& plan, const Snapshot& s, const std::optional<SwitchoverRecord>& last) {
  const std::string& primary = s.db.cluster.primary;
  auto record = s.kv.members.find(primary);
  if (primary.empty() || record == s.kv.members.end() || !record->second.data_full.value_or(false)) return {};
  const std::string full = primary + "'s database filesystem is full (every write that needs room fails there)";
  const std::string requested_by = "supervisor@" + s.self + full_primary_words(primary);
  if (last && last->phase == Phase::failed && last->from == primary && requested_for_full_primary(*last, primary) &&
      s.wall_ms - last->phase_started_ms < kFullPrimaryRetry.count())
    return full + "; the switchover away from it failed (" + last->outcome + "): tried again " +
           seconds_text(kFullPrimaryRetry) + " after that";
  auto preview = preview_switchover(s, "");
  if (!preview.refusal.empty()) return full + "; no switchover: " + preview.refusal;
  SwitchoverRecord r;
  char id[16];
  std::snprintf(id, sizeof id, "so-%08x", static_cast<unsigned>(s.wall_ms & 0xffffffff));
  r.id = id;
  r.from = primary;
  r.to = preview.to;
  r.requested_by = requested_by;
  r.requested_at = utc_iso8601(std::chrono::system_clock::time_point(std::chrono::milliseconds(s.wall_ms)), false);
  r.phase = Phase::floating_ip;
  r.phase_started_ms = s.wall_ms;
  const std::string said = "switchover " + r.id + " from " + r.from + " to " + r.to + " requested by " + requested_by;
  // Replaces an ended record only (the index it was read at), or creates one.
  if (want(plan, s, WriteSwitchover{switchover::encode(r), s.kv.switchover ? s.kv.switchover->index : 0, said}))
    return full + "; " + said;
  return full + "; writing a switchover to " + r.to;
}

std::string lead(Plan& plan, const Snapshot& s) {
  if (plan.role != cluster::Role::leader) return {};
  if (!s.kv.switchover) return hand_over_full_primary(plan, s, std::nullopt);
  auto decoded = switchover::decode_switchover(s.kv.switchover->text);
  if (!decoded.record) return "switchover: the stored record is unreadable (" + decoded.error + "); nothing done";
  const auto& r = *decoded.record;
  switch (r.phase) {
    case Phase::hold: return lead_hold(plan, s, r);
    case Phase::database: return lead_database(plan, s, r);
    case Phase::floating_ip: return lead_floating_ip(plan, s, r);
    case Phase::done:
    case Phase::failed: return hand_over_full_primary(plan, s, r);
  }
  return {};
}

// Every node: the gate holds writes while the record says so, never past
// its hold_until_ms (the gate itself ends a hold then, too).
std::string hold_writes(Plan& plan, const Snapshot& s) {
  if (!s.switchover.hold_writes) return {};
  auto r = stored_switchover(s);
  const bool wanted = r && holding_phase(r->phase) && s.wall_ms < r->hold_until_ms;
  if (wanted) plan.wake_within(std::chrono::milliseconds(r->hold_until_ms - s.wall_ms));
  const std::string id = wanted ? r->id : std::string();
  if (s.switchover.hold_written == id) return {};
  if (want(plan, s, SetWriteHold{id, wanted ? r->hold_until_ms : 0}))
    return wanted ? "switchover " + id + ": the upload gate holds new writes" : "switchover: the upload gate lets writes through";
  return {};
}

// Patroni acts on a switchover at its next HA loop, up to db.loop_wait_s
// later (measured: 0.05-0.9 s for each step). The old primary wakes its own
// Patroni to demote as soon as its supervisor sees the failover key; the
// steps after it (the candidate takes the leader key, the others follow it)
// are leader key changes, which every node wakes its Patroni for
// (components/postgres/decide.cpp). Once per switchover; the password never
// leaves the node (Patroni's API, its own address).
std::string wake_patroni(Plan& plan, const Snapshot& s) {
  if (!s.switchover.enabled || !s.db.cluster_known) return {};
  auto r = stored_switchover(s);
  if (!r || r->phase != Phase::database) return {};
  const auto& cluster = s.db.cluster;
  const bool asked = cluster.failover_from == r->from && cluster.failover_to == r->to;
  if (!asked || s.self != r->from || cluster.primary != r->from) return {};
  if (s.switchover.patroni_woken == r->id + " demote") return {};
  if (want(plan, s, WakePatroni{r->id, "demote"}))
    return "switchover " + r->id + ": waking this node's Patroni to demote now, not at its next loop";
  return {};
}

}  // namespace

std::optional<SwitchoverRecord> stored_switchover(const Snapshot& s) {
  if (!s.kv.switchover) return std::nullopt;
  return switchover::decode_switchover(s.kv.switchover->text).record;
}

SwitchoverPreview preview_switchover(const Snapshot& s, const std::string& to) {
  SwitchoverPreview p;
  p.from = s.db.cluster.primary;
  if (p.refusal = cluster_blocker(s); !p.refusal.empty()) return p;
  if (!to.empty()) {
    p.to = to;
    p.refusal = target_blocker(s, to);
  } else {
    std::vector<std::string> why;
    for (const auto& name : s.db.cluster.sync_standbys) {
      auto blocker = target_blocker(s, name);
      if (blocker.empty()) {
        p.to = name;
        break;
      }
      why.push_back(blocker);
    }
    if (p.to.empty())
      p.refusal = "no member can take over: " + (why.empty() ? std::string("Patroni names no synchronous standby")
                                                             : sentence_list(why));
  }
  if (!p.refusal.empty()) return p;
  p.steps = {"floating-ip: every other node gives the floating IP up to " + p.to +
                 " (new connections wait ~1 s while those in flight end)",
             "hold: every upload gate holds new writes (they wait, at most " + seconds_text(kSwitchoverHoldLimit) +
                 ") until no write is left at a REST service (at most " + seconds_text(kSwitchoverDrainLimit) + ")",
             "database: Patroni switches " + p.from + " over to " + p.to +
                 " (its synchronous standby: every acknowledged commit is there); then the held writes go on"};
  return p;
}

json to_json(const SwitchoverPreview& p) {
  json j{{"from", p.from}, {"to", p.to}, {"steps", p.steps}};
  if (!p.refusal.empty()) j["refusal"] = p.refusal;
  return j;
}

bool vip_leaves_for_switchover(const Snapshot& s) {
  auto r = stored_switchover(s);
  if (!r || switchover::ended(r->phase) || r->to == s.self) return false;
  // Only to a node that can take it: else the address would have no holder.
  // Healthy to be chosen; later, while the database changes primary, every
  // node may count itself unfit for a moment: alive and running VRRP is enough.
  auto target = s.kv.members.find(r->to);
  if (target == s.kv.members.end()) return false;
  const auto& m = target->second;
  const bool vrrp_up = m.vrrp_state == "BACKUP" || m.vrrp_state == "MASTER";
  return vrrp_up && (r->phase != Phase::floating_ip || m.health == "ok");
}

bool switchover_keeps_vip_here(const Snapshot& s) {
  auto r = stored_switchover(s);
  return r && r->to == s.self && holding_phase(r->phase);
}

std::string decide_switchover(Plan& plan, const Snapshot& s) {
  std::string note = hold_writes(plan, s);
  if (auto woken = wake_patroni(plan, s); !woken.empty()) note += (note.empty() ? "" : "; ") + woken;
  if (auto led = lead(plan, s); !led.empty()) note += (note.empty() ? "" : "; ") + led;
  return note;
}

std::string switchover_problem(const Snapshot&) { return {}; }

json switchover_status(const Snapshot& s) {
  json j = json::object();
  if (s.kv.switchover) {
    auto decoded = switchover::decode_switchover(s.kv.switchover->text);
    if (decoded.record) {
      const auto& r = *decoded.record;
      json steps = json::array();
      for (const auto& step : r.steps) steps.push_back({{"name", step.name}, {"ms", step.ms}});
      j["last"] = {{"id", r.id},
                   {"from", r.from},
                   {"to", r.to},
                   {"requested_by", r.requested_by},
                   {"requested_at", r.requested_at},
                   {"phase", to_string(r.phase)},
                   {"phase_ms", switchover::ended(r.phase) ? 0 : std::max<std::int64_t>(0, s.wall_ms - r.phase_started_ms)},
                   {"steps", steps},
                   {"outcome", r.outcome}};
    } else {
      j["unreadable"] = decoded.error;
    }
  }
  if (s.switchover.hold_writes) j["hold_written"] = s.switchover.hold_written;
  if (s.switchover.hold_writes) j["held_ack"] = s.switchover.held_ack;
  if (!s.switchover.hold_error.empty()) j["hold_error"] = s.switchover.hold_error;
  if (!s.switchover.write_error.empty()) j["write_error"] = s.switchover.write_error;
  if (const auto& a = s.switchover.patroni_answer)
    j["patroni_answer"] = {{"id", a->id}, {"switched", a->switched}, {"words", a->words}};
  return j;
}

void publish_switchover(const Snapshot& s, cluster::MemberRecord& r) {
  if (s.switchover.hold_writes) r.writes_held = s.switchover.held_ack;
}

}  // namespace hasup::loop
