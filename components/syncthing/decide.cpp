#include "components/syncthing/decide.hpp"

#include <algorithm>

#include "components/dead-peers/rule.hpp"
#include "components/pause/decide.hpp"
#include "components/syncthing/config_plan.hpp"
#include "components/syncthing/key_rotation.hpp"
#include "supervisor/util/host_name.hpp"

namespace hasup::loop {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

syncthing::DesiredConfig desired_syncthing(const Snapshot& s, std::vector<std::string>* refused) {
  const FilesView& f = s.files;
  syncthing::DesiredConfig d;
  d.self_name = s.self;
  d.self_device_id = f.device_id;
  d.listen_address = f.listen_address;
  d.folders = f.folders;
  const auto failed = dead_peers::failed_peers(s.known.nodes, s.consul.gossip, s.self);
  // Registrations come from Consul (or this node's memory of them): a value
  // that is not a plain address or device id never reaches syncthing.
  for (const auto& [name, node] : s.known.nodes) {
    if (name == s.self) continue;
    const std::string& address = node.address;
    const std::string& device = node.syncthing_device_id;
    if (device.empty()) continue;  // files not managed there (yet)
    if (!syncthing::is_device_id(device)) {
      if (refused) refused->push_back(name + ": registered syncthing device id is not a device id");
      continue;
    }
    if (device == f.device_id) {
      if (refused) refused->push_back(name + ": registered with this node's own device id");
      continue;
    }
    if (!is_ip_literal(address) || address.find(':') != std::string::npos) {
      if (refused) refused->push_back(name + ": registered address is not an IPv4 address");
      continue;
    }
    // Alive: it holds a member record. Paused once it has had none for
    // pause_after (see syncthing::Peer and FilesView::absent_for); until then
    // it stays as it was, its dial address included. While the cluster is
    // paused it stays as it was too: the work may be on Consul, and a node
    // whose agent is stopped loses its record while it serves (the lab saw
    // 158 of 350 uploads refused there: its peers had paused its device).
    // A peer that Consul's gossip also calls failed (components/dead-peers'
    // rule) is paused at once: its record did not vanish in a session's
    // renewal, and syncthing would call it connected for minutes, holding
    // every upload to its bound when it was the only peer (two managers:
    // uploads held until 8.1 s after the crash, a lab try).
    auto member = s.kv.members.find(name);
    const bool alive = member != s.kv.members.end();
    auto absent = f.absent_for.find(name);
    const bool gone_for_sure = failed.count(name) > 0;
    if (!alive && (cluster_paused(s) ||
                   (!gone_for_sure && absent != f.absent_for.end() && absent->second < f.pause_after))) {
      d.peers.push_back({name, device, "", false});
      continue;
    }
    // This node dials the peer only when it is the pair's dialer and the
    // peer's syncthing already has this node (syncthing::dials); else it waits.
    const bool peer_knows_us =
        alive && std::find(member->second.syncthing_peers.begin(), member->second.syncthing_peers.end(),
                           f.device_id) != member->second.syncthing_peers.end();
    const std::string dial_address = "tcp://" + address + ":" + std::to_string(f.sync_port);
    d.peers.push_back({name, device,
                       syncthing::dials(f.device_id, device) && peer_knows_us ? dial_address : "dynamic",
                       !alive});
  }
  return d;
}

std::string files_problem(const Snapshot& s) {
  const FilesView& f = s.files;
  if (!f.enabled) return {};
  if (f.api_failing_for >= f.unfit_after && f.api_failing_for.count() > 0) return "files: syncthing unreachable";
  if (f.behind_for >= f.unfit_after && f.behind_for.count() > 0) return "files: missing items its peers have";
  // At once (the rule's hysteresis keeps it from flapping): every upload
  // through this node fails meanwhile.
  if (f.full) return "files: the folders' filesystem is full";
  return {};
}

std::string files_trouble(const FilesView& f) {
  if (!f.enabled) return {};
  if (f.full) return "filesystem FULL";
  if (!f.api_error.empty() || !f.api_known) return "syncthing unreachable";
  for (const auto& [id, status] : f.folder_status)
    if (!status.error.empty()) return "folder error";
  return {};
}

std::string files_summary(const FilesView& f) {
  if (!f.enabled) return {};
  if (auto trouble = files_trouble(f); !trouble.empty()) return trouble;
  std::size_t connected = 0;
  for (const auto& [id, peer] : f.peers) connected += peer.connected ? 1 : 0;
  std::string out;
  std::int64_t need = 0;
  for (const auto& [id, status] : f.folder_status) need += status.need_items;
  // With no peer connected nothing arrives, so the words stay put: still "receiving".
  out = need > 0 && (f.behind_for >= kReceivingShownAfter || connected == 0) ? "receiving" : "in sync";
  out += ", " + std::to_string(connected) + "/" + std::to_string(f.peers.size()) + " peers";
  if (f.conflicts > 0) out += ", " + std::to_string(f.conflicts) + " conflict" + (f.conflicts > 1 ? "s" : "");
  return out;
}

namespace {

// plan_config parses syncthing's whole config (tens of KB of JSON), and the
// loop asks every cycle, almost always with the same inputs: 15 % of an idle
// supervisor's CPU went there (perf, the lab). Same inputs, same plan: the
// last one is kept, so decide() stays a function of the snapshot.
const syncthing::ConfigPlan& planned_config(const std::string& current, const syncthing::DesiredConfig& desired) {
  struct Last {
    std::string current;
    syncthing::DesiredConfig desired;
    syncthing::ConfigPlan plan;
    bool set = false;
  };
  thread_local Last last;
  if (!last.set || last.current != current || !(last.desired == desired))
    last = {current, desired, syncthing::plan_config(current, desired), true};
  return last.plan;
}

}  // namespace

std::string decide_files(Plan& plan, const Snapshot& s) {
  const FilesView& f = s.files;
  if (!f.enabled) return {};
  std::string note;
  // syncthing runs whatever this supervisor's role: replication must go on
  // while Consul is away.
  if (s.units_connected && s.units.count(f.unit) && !s.units.at(f.unit).running_or_starting() && !s.busy.count(Job::start_syncthing)) {
    plan.actions.push_back(StartSyncthing{});
    note = "files: starting " + f.unit + " (" + s.units.at(f.unit).active_state + ")";
  }
  if (auto key = decide_key_rotation(plan, s); !key.empty()) note += (note.empty() ? "" : "; ") + key;
  if (!f.api_known || f.device_id.empty() || !f.current_config)
    return note + (note.empty() ? "" : "; ") + "files: waiting for syncthing's API";
  // A node that has not read the cluster's registrations yet would remove every peer.
  if (!s.kv.known) return note;
  auto desired = desired_syncthing(s);
  const auto& planned = planned_config(*f.current_config, desired);
  if (!planned.error.empty()) return note + (note.empty() ? "" : "; ") + "files: " + planned.error;
  // Never beside a key rotation: the config put carries the GUI's key, and a
  // config read before the rotation would put the old key back.
  const bool rotating = s.busy.count(Job::rotate_syncthing_key) || plan.has<RotateSyncthingKey>();
  if (planned.change && !s.busy.count(Job::apply_syncthing_config) && !rotating) {
    ApplySyncthingConfig a{planned.change->body, join(planned.change->changes)};
    note += std::string(note.empty() ? "" : "; ") + "files: syncthing config: " + a.changes;
    plan.actions.push_back(std::move(a));
  }
  return note;
}

void publish_files(const Snapshot& s, cluster::MemberRecord& r) {
  auto published = s.kv.members.find(s.self);
  if (!s.files.device_id.empty())
    r.syncthing_device_id = s.files.device_id;
  else if (published != s.kv.members.end())
    r.syncthing_device_id = published->second.syncthing_device_id;
  r.files_state = files_summary(s.files);
  if (!s.files.enabled) return;
  for (const auto& [id, peer] : s.files.peers) r.syncthing_peers.push_back(id);
  r.syncthing_key_generation = s.files.key_generation;
  r.syncthing_key_error = s.files.key_error;
}

}  // namespace hasup::loop
