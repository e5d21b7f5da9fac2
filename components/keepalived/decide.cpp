#include "components/keepalived/decide.hpp"

#include <algorithm>
#include <set>

#include "components/keepalived/render.hpp"
#include "components/pause/decide.hpp"
#include "components/switchover/decide.hpp"
#include "supervisor/cluster/known_nodes.hpp"
#include "supervisor/consul/gossip.hpp"
#include "supervisor/loop/decide.hpp"

namespace hasup::loop {

using cluster::Role;

std::string vip_settings(const Snapshot& s) {
  if (!s.vip.enabled) return {};
  return "vrid " + std::to_string(s.vip.base.virtual_router_id) + " " + s.vip.base.vip;
}

namespace {

// How much longer a node without a Consul quorum may go on holding the IP;
// nullopt: not at all. The quorum probe fails on every node while the Consul
// servers elect a leader (1-4 s after the old one crashed, longer than the
// cut-off bound now and then): each survivor counts as cut off, and giving
// the IP up then leaves no holder at all, then moves it a second time. A node
// whose gossip still reaches a majority is not the one cut off, so it keeps
// the IP through the election, for a bounded time: a node truly cut off
// (gossip calls its peers failed, ~1-6 s after the cut) or one whose agent
// does not answer gives it up as before.
std::optional<std::chrono::milliseconds> election_time_left(const Plan& plan, const Snapshot& s) {
  if (plan.role != Role::cut_off || s.vip.election_grace.count() <= 0) return std::nullopt;
  if (!s.consul.gossip_known || !consul::in_gossip_majority(s.consul.gossip)) return std::nullopt;
  const auto bound = s.consul.quorum_loss_timeout + s.vip.election_grace;
  if (s.consul.since_quorum_contact >= bound) return std::nullopt;
  return bound - s.consul.since_quorum_contact;
}

// How much longer a supervisor that just started on the holder may keep the
// IP while it rejoins (registers, opens its session, reads the store);
// nullopt: not at all. Restarted (an upgrade, a changed setting, a crash
// systemd brought back) it finds the address here and its own last word, "may
// hold", in the track file; giving the IP up then would strand every request
// in flight on it until its client's timeout (lab_upgrade: two uploads, 20 s)
// for a gap of ~2 s that a dead supervisor's heartbeat already bounds. Only
// while no quorum probe has failed (one that fails may mean this node is cut
// off) and for at most election_grace from the start.
std::optional<std::chrono::milliseconds> rejoin_time_left(const Plan& plan, const Snapshot& s) {
  if (plan.role != Role::starting || !s.vip.holds_address || s.vip.fault_now.value_or(true)) return std::nullopt;
  if (!s.consul.quorum_reachable && !s.consul.quorum_error.empty()) return std::nullopt;
  if (s.vip.up_for >= s.vip.election_grace) return std::nullopt;
  return s.vip.election_grace - s.vip.up_for;
}

// keepalived.conf is as rendered, yet keepalived may run an older one. A
// reload makes keepalived write every instance's state to the notify FIFO;
// one taken while the instance moves (FAULT to BACKUP after a track file
// changed in the same cycle) has left the reported state at FAULT for good
// while keepalived was BACKUP. So the catch-up waits for a settled instance:
// BACKUP or MASTER as its last notify said, the track file letting this node
// hold the IP, and neither track file being written in this cycle.
CatchUp catch_up_keepalived(Plan& plan, const Snapshot& s) {
  const VipView& vip = s.vip;
  const bool busy = s.busy.count(Job::apply_keepalived_conf) || s.busy.count(Job::start_keepalived) ||
                    s.busy.count(Job::set_vip_fault) || s.busy.count(Job::set_vip_preference);
  std::string held_by;
  if (vip.vrrp_state != "BACKUP" && vip.vrrp_state != "MASTER")
    held_by = "its instance is settled (BACKUP or MASTER; last said: " +
              (vip.vrrp_state.empty() ? std::string("nothing yet") : vip.vrrp_state) + ")";
  else if (vip.fault_now.value_or(true))
    held_by = "the track file lets this node hold the IP";
  else if (plan.has<SetVipFault>() || plan.has<SetVipPreference>())
    held_by = "the track files are written";
  return decide_catch_up("keepalived", vip.conf_file, vip.unit, busy, held_by, s, plan);
}

}  // namespace

std::string vip_problem(const Snapshot& s) {
  if (!s.vip.enabled) return {};
  for (const auto& [name, m] : s.kv.members)
    if (name != s.self && !m.vip_settings.empty() && m.vip_settings != vip_settings(s))
      return "floating IP settings (" + vip_settings(s) + ") differ from " + name + "'s (" + m.vip_settings + ")";
  return {};
}

// The floating IP. keepalived moves it by itself within ~0.3 s when a holder
// dies; the supervisor's part is (1) to take it away from a node that must
// not serve (cut off, starting, out of the cluster) through the track file,
// which works even without Consul, and (2) to keep keepalived.conf's unicast
// peers equal to the live members, rendered only from a whole, current view.
std::string decide_vip(Plan& plan, const Snapshot& s) {
  const VipView& vip = s.vip;
  if (!vip.enabled) return {};
  std::string note;
  // Every part of the note starts "floating IP: "; parts are joined with "; ".
  auto say = [&note](const std::string& part) { note += (note.empty() ? "" : "; ") + ("floating IP: " + part); };
  // A supervisor that stops leaves the track file's last word: most stops are
  // restarts (an upgrade, a changed setting), and the IP given up at each
  // would strand the requests in flight on it. One that does not come back is
  // caught by keepalived's heartbeat check (vip.heartbeat_max_age_s), as a
  // crashed one is; without that check the IP must go now.
  if (plan.role == Role::stopping && !vip.base.heartbeat_file.empty()) {
    if (!vip.fault_now.value_or(true))
      say("left as it is through this supervisor's stop (keepalived gives it up if the supervisor is not back within " +
          std::to_string(vip.base.heartbeat_max_age_s) + " s)");
    return note;
  }
  const bool in_cluster = plan.role == Role::leader || plan.role == Role::follower || plan.role == Role::maintenance;
  const auto election_left = election_time_left(plan, s);
  // Paused (the reason may be work on Consul itself): a holder cut off from
  // Consul keeps the address, and so does one whose agent came back and that
  // is opening its session again (starting); only VRRP moves it, when the
  // holder dies. Its database does not fail over meanwhile (Patroni is paused
  // too). A node that was not allowed to hold it is not let in by a pause.
  const bool paused = cluster_paused(s);
  const bool kept_paused = paused && (plan.role == Role::cut_off || plan.role == Role::starting) &&
                           !vip.fault_now.value_or(true);
  if (kept_paused)
    say(std::string("kept while ") + (plan.role == Role::cut_off ? "cut off from Consul" : "joining Consul again") +
        ": the cluster is paused (only VRRP moves it)");
  const auto rejoin_left = rejoin_time_left(plan, s);
  const bool may_hold = in_cluster || election_left.has_value() || kept_paused || rejoin_left.has_value();
  if (rejoin_left && !kept_paused) {
    plan.wake_within(*rejoin_left);
    say("kept while this supervisor rejoins the cluster after its start, for at most " +
        std::to_string(s.vip.election_grace.count()) + " ms");
  }
  if (election_left) {
    plan.wake_within(*election_left);
    // The bound, not the growing age: the reason is logged once.
    say("kept while Consul elects a leader (gossip: " + consul::gossip_summary(s.consul.gossip) +
        ", not cut off), for at most " + std::to_string(s.vip.election_grace.count()) + " ms past the cut-off");
  }
  // An unfit node gives the IP up only to a fit one: with every node unfit,
  // moving the IP helps no client.
  const std::string problem = local_problem(s);
  std::string fit_node;
  for (const auto& [name, m] : s.kv.members)
    if (name != s.self && m.health == "ok" && (m.role == Role::leader || m.role == Role::follower) &&
        !s.kv.maintenance.count(name) && fit_node.empty())
      fit_node = name;
  const bool kept_for_switchover = switchover_keeps_vip_here(s);
  const bool unfit = may_hold && !problem.empty() && !fit_node.empty() && vip.problem_for >= vip.unfit_grace &&
                     !kept_for_switchover && !paused;
  if (kept_for_switchover && !problem.empty()) say("kept for the switchover while " + problem);
  if (paused && may_hold && !problem.empty() && !vip.fault_now.value_or(true))
    say("kept while " + problem + ": the cluster is paused");
  if (may_hold && !problem.empty() && !fit_node.empty() && vip.problem_for < vip.unfit_grace &&
      !vip.fault_now.value_or(true) && !kept_for_switchover && !paused) {
    // Not yet: wait out the grace, then look again.
    auto left = vip.unfit_grace - vip.problem_for;
    plan.wake_within(left);
    say("kept while " + problem + " (" + std::to_string(vip.unfit_grace.count()) +
        " ms grace before it goes to a fit node such as " + fit_node + ")");
  }
  // A switchover moves the address to the new primary's node on purpose,
  // drained first: new connections to it wait (the filter drops their SYN;
  // the client sends it again ~1 s later, by then to the new holder) while
  // those here end, at most kVipDrainLimit (an idle kept-alive one never does).
  const bool switching = may_hold && vip_leaves_for_switchover(s);
  const bool drain = switching && vip.holds_address && vip.filter_enabled;
  bool drained = true;
  if (drain) {
    drained = vip.drain_loaded && (vip.address_connections == 0 || vip.drain_for >= kVipDrainLimit);
    if (!drained && vip.drain_loaded) {
      plan.wake_within(std::min(kVipDrainLimit - vip.drain_for, std::chrono::milliseconds(50)));
      say("draining for the switchover: new connections wait while " +
          (vip.address_connections < 0 ? std::string("those") : std::to_string(vip.address_connections)) +
          " in flight end");
    }
  }
  // An election keeps what is; it never releases a node from FAULT.
  const bool want_fault =
      !may_hold || unfit || (switching && drained) || (!in_cluster && vip.fault_now.value_or(true));
  if (vip.fault_now != want_fault) {
    if (want(plan, s, SetVipFault{want_fault}))
      say(!want_fault ? "this node may hold it"
          : unfit     ? "giving it up to a fit node such as " + fit_node + " (FAULT: " + problem + ")"
          : switching ? "giving it up to the switchover's new primary (FAULT until the switchover ends)"
                      : "giving it up (FAULT: this node is " + cluster::to_string(plan.role) + ")");
  }
  // Prefer the database primary's node as the next holder (a weight, not a
  // move: keepalived's nopreempt keeps the IP where it is).
  if (!vip.base.preference_file.empty()) {
    const bool preferred = s.db.enabled && s.db.cluster_known && s.db.cluster.primary == s.self;
    if (vip.preferred_now != preferred) {
      if (want(plan, s, SetVipPreference{preferred}))
        say(preferred ? "preferred as the next holder (database primary here)" : "no preference");
    }
  }
  // Peers and filter from a current view only: not from the last one seen
  // before the quorum went.
  if (in_cluster && s.kv.known && vip.template_error.empty()) {
    // Every node of the cluster but this one, alive or not: a node that is
    // down now will come back and must hear the holder.
    keepalived::VrrpModel model = vip.base;
    std::set<std::string> peers = cluster::node_addresses(s.known, s.kv);
    peers.erase(s.self_address);
    model.peers.assign(peers.begin(), peers.end());
    if (vip.filter_enabled) {
      auto filter = keepalived::render_vrrp_filter(model, drain);
      std::string said;
      if (!filter.error.empty())
        said = "VRRP filter not rendered: " + filter.error;
      else if (filter.text != vip.filter_applied && filter.text == vip.filter_refused)
        said = "VRRP filter refused by nft (asked again when the members change, or on SIGHUP): " + vip.filter_error;
      else if (filter.text != vip.filter_applied && want(plan, s, ApplyVrrpFilter{filter.text}))
        said = drain ? "loading the VRRP filter with the switchover's drain (new connections to the address wait)"
                     : "loading the VRRP filter (adverts from members only)";
      if (!said.empty()) say(said);
    }
    auto rendered = keepalived::render(vip.template_text, model);
    if (!rendered.error.empty()) {
      say("keepalived.conf not rendered: " + rendered.error);
    } else if (vip.current_conf != rendered.text) {
      auto unit = s.units.find(vip.unit);
      const bool running = s.units_connected && unit != s.units.end() && unit->second.reloadable();
      if (want(plan, s, ApplyKeepalivedConf{rendered.text, running ? AfterWrite::reload : AfterWrite::nothing})) {
        std::string peers;
        for (const auto& p : model.peers) peers += (peers.empty() ? "" : ",") + p;
        say("rendering keepalived.conf, peers " + (peers.empty() ? std::string("none") : peers));
      }
      return note;
    } else {
      auto catch_up = catch_up_keepalived(plan, s);
      if (catch_up.reload_now) plan.actions.push_back(ApplyKeepalivedConf{rendered.text, AfterWrite::reload, true});
      if (!catch_up.note.empty()) say(catch_up.note);
    }
  }
  if (!vip.template_error.empty())
    say(vip.template_error);
  // keepalived runs whenever it has a config, also in FAULT: it must hear the
  // others' adverts to rejoin as backup, never as a second master.
  auto unit = s.units.find(vip.unit);
  if (vip.current_conf && s.units_connected && unit != s.units.end() && !unit->second.running_or_starting()) {
    if (want(plan, s, StartKeepalived{}))
      say("starting keepalived (" + unit->second.active_state + ")");
  }
  return note;
}

void publish_vip(const Snapshot& s, cluster::MemberRecord& r) {
  if (!s.vip.enabled) return;
  // Before keepalived's first notify, holding the address says MASTER.
  r.vrrp_state = !s.vip.vrrp_state.empty() ? s.vip.vrrp_state : (s.vip.holds_address ? "MASTER" : "");
  r.holds_vip = s.vip.holds_address;
  r.vip_settings = vip_settings(s);
}

}  // namespace hasup::loop
