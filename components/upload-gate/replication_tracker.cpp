#include "components/upload-gate/replication_tracker.hpp"
#include "components/upload-gate/replication_wait.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace hasup::upload_gate {

namespace {

using Clock = std::chrono::steady_clock;

// More changed paths than this in one write: scan and check the whole folder
// (a URL with thousands of subs, and thousands of per-file calls, cost more).
constexpr std::size_t kMaxTrackedPaths = 256;
constexpr std::size_t kSubsPerScan = 64;
constexpr std::size_t kParallelFileCalls = 8;
constexpr std::chrono::seconds kEventPoll{30};
constexpr int kRemoteNeedPage = 4096;
// syncthing restarts its API listener when its GUI config changes (a key
// rotated by the supervisor: hactl rotate syncthing-key), and a call made
// meanwhile is refused or cut. Failures for less than this are waited out,
// the call made again every kBlipRetry, within each write's own deadline;
// longer ones fail the writes waiting, as they always did (syncthing down).
constexpr std::chrono::milliseconds kSyncthingBlip{1500};
constexpr std::chrono::milliseconds kBlipRetry{100};

std::string describe_http(const std::string& what, const http::Outcome& o) {
  if (!o.ok) return "syncthing " + what + ": " + o.error;
  std::string body = o.response.body.substr(0, 120);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return "syncthing " + what + ": HTTP " + std::to_string(o.response.status) + " " + body;
}

// Each call's bound (config's syncthing.timeout_ms); a db/file or remoteneed
// answer stays far below the body limit.
http::Policy syncthing_policy(const GateConfig& config) {
  http::Policy policy;
  policy.timeout = config.syncthing_timeout;
  policy.body_limit = 4 * 1024 * 1024;
  return policy;
}

bool exists_on_disk(const std::string& root, const std::string& path) {
  struct stat st {};
  return lstat((root + "/" + path).c_str(), &st) == 0;
}

}  // namespace

ReplicationTracker::ReplicationTracker(boost::asio::io_context& io, const GateConfig& config)
    : io_(io),
      config_(config),
      syncthing_(io, {"127.0.0.1", config.syncthing_port}, config.api_key, syncthing_policy(config)),
      timer_(io) {
  // The supervisor rewrites the key file when it rotates the key (hactl
  // rotate syncthing-key): a refused key is read again from it.
  syncthing_.reread_key_from(config.api_key_file);
}

void ReplicationTracker::start() {
  boost::asio::post(io_, [this] { poll_events(); });
}

void ReplicationTracker::await(WindowChanges changes, std::uint64_t body_bytes,
                               std::function<void(ReplicationResult)> done) {
  Waiter waiter;
  waiter.whole_folder = changes.overflowed || changes.paths.size() > kMaxTrackedPaths;
  if (!waiter.whole_folder) waiter.paths = std::move(changes.paths);
  waiter.started = Clock::now();
  waiter.bound = replication_wait(config_, body_bytes);
  waiter.deadline = waiter.started + waiter.bound;
  waiter.done = std::move(done);
  boost::asio::post(io_, [this, waiter = std::move(waiter)]() mutable { add(std::move(waiter)); });
}

void ReplicationTracker::add(Waiter waiter) {
  for (const auto& path : waiter.paths) waiter.files[path];
  waiters_.push_back(std::move(waiter));
  ++waiter_count_;
  auto it = std::prev(waiters_.end());
  if (!it->whole_folder && it->paths.empty()) {
    ReplicationResult r;
    r.kind = ReplicationResult::Kind::nothing_changed;
    return release(it, std::move(r));
  }
  scan(it, it->paths);
}

// The scan answers once syncthing's index holds the change; only then do the
// per-file checks mean anything.
void ReplicationTracker::scan(WaiterList::iterator waiter, std::vector<std::string> subs) {
  std::vector<std::string> targets;
  if (waiter->whole_folder) {
    targets.push_back(syncthing::Client::scan_target(config_.folder_id, {}));
  } else {
    for (std::size_t i = 0; i < subs.size(); i += kSubsPerScan) {
      std::vector<std::string> part(subs.begin() + i, subs.begin() + std::min(subs.size(), i + kSubsPerScan));
      targets.push_back(syncthing::Client::scan_target(config_.folder_id, part));
    }
  }
  auto remaining = std::make_shared<std::size_t>(targets.size());
  auto error = std::make_shared<std::string>();
  // Bounded by the write's own deadline: a hung syncthing must not hold the
  // answer past replication.timeout_ms (at least 100 ms, so a scan can answer).
  const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(waiter->deadline - Clock::now()),
                             std::chrono::milliseconds(100));
  for (const auto& target : targets) {
    syncthing_.post(target, left, [this, waiter, remaining, error, subs](http::Outcome o) {
      if (!o.ok || o.response.status != 200) *error = describe_http("scan", o);
      if (--*remaining > 0) return;
      // Not ready (not scanned), the waiter is released here alone: it is still there.
      if (!error->empty() && Clock::now() + kBlipRetry < waiter->deadline && blip()) {
        auto again = std::make_shared<boost::asio::steady_timer>(io_, kBlipRetry);
        return again->async_wait([this, again, waiter, subs](boost::system::error_code ec) {
          if (!ec) scan(waiter, subs);
        });
      }
      if (error->empty()) failing_since_.reset();
      if (!error->empty()) {
        ReplicationResult r;
        r.kind = ReplicationResult::Kind::unavailable;
        r.error = *error;
        return release(waiter, std::move(r));
      }
      waiter->scanned = true;
      waiter->first_round = round_id_ + 1;
      request_round();
    });
  }
}

// Events and the fallback timer both land here; rounds never overlap.
void ReplicationTracker::request_round() {
  if (round_running_) {
    round_again_ = true;
    return;
  }
  timer_.cancel();
  start_round();
}

void ReplicationTracker::arm_timer() {
  if (waiters_.empty()) return;
  timer_.expires_after(config_.poll_interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !round_running_) start_round();
  });
}

void ReplicationTracker::start_round() {
  ++round_id_;
  bool any_ready = std::any_of(waiters_.begin(), waiters_.end(), [this](const Waiter& w) { return ready(w); });
  if (!any_ready) return arm_timer();
  round_running_ = true;
  round_again_ = false;
  round_error_.clear();
  // Topology first: who this device is, who shares the folder, their names,
  // who is connected now. Read every round: peers come and go.
  auto after_connections = [this](std::vector<std::string> folder_devices, std::map<std::string, std::string> names) {
    syncthing_.get("/rest/system/connections", [this, folder_devices, names](http::Outcome o) {
      if (!o.ok || o.response.status != 200) return after_topology(describe_http("system/connections", o));
      auto connections = syncthing::parse_connections(o.response.body);
      if (!connections.value) return after_topology("syncthing answered garbage: " + connections.error);
      peers_.clear();
      for (const auto& id : folder_devices) {
        if (id == my_id_) continue;
        auto name = names.count(id) ? names.at(id) : id.substr(0, 7);
        auto c = connections.value->find(id);
        peers_.push_back(Peer{id, name, c != connections.value->end() && c->second});
      }
      after_topology("");
    });
  };
  auto after_folder = [this, after_connections](std::vector<std::string> folder_devices) {
    syncthing_.get("/rest/config/devices", [folder_devices, after_connections, this](http::Outcome o) {
      if (!o.ok || o.response.status != 200) return after_topology(describe_http("config/devices", o));
      auto names = syncthing::parse_device_names(o.response.body);
      if (!names.value) return after_topology("syncthing answered garbage: " + names.error);
      after_connections(folder_devices, *names.value);
    });
  };
  auto fetch_folder = [this, after_folder] {
    syncthing_.get(syncthing::Client::folder_target(config_.folder_id), [this, after_folder](http::Outcome o) {
      if (!o.ok || o.response.status != 200) return after_topology(describe_http("config/folders", o));
      auto devices = syncthing::parse_folder_devices(o.response.body);
      if (!devices.value) return after_topology("syncthing answered garbage: " + devices.error);
      after_folder(*devices.value);
    });
  };
  if (!my_id_.empty()) return fetch_folder();
  syncthing_.get("/rest/system/status", [this, fetch_folder](http::Outcome o) {
    if (!o.ok || o.response.status != 200) return after_topology(describe_http("system/status", o));
    auto id = syncthing::parse_my_id(o.response.body);
    if (!id.value) return after_topology("syncthing answered garbage: " + id.error);
    my_id_ = *id.value;
    fetch_folder();
  });
}

void ReplicationTracker::after_topology(std::string error) {
  if (!error.empty()) return finish_round(error);
  fetch_files();
}

void ReplicationTracker::fetch_files() {
  std::set<std::string> paths;
  for (const auto& w : waiters_) {
    if (!ready(w)) continue;
    for (const auto& [path, track] : w.files)
      if (track.state == FileTrack::State::pending) paths.insert(path);
  }
  files_to_fetch_.assign(paths.begin(), paths.end());
  file_answers_.clear();
  next_file_ = 0;
  files_in_flight_ = 0;
  if (files_to_fetch_.empty()) return fetch_remote_needs();
  for (std::size_t i = 0; i < kParallelFileCalls && next_file_ < files_to_fetch_.size(); ++i) fetch_next_file();
}

void ReplicationTracker::fetch_next_file() {
  const std::string path = files_to_fetch_[next_file_++];
  ++files_in_flight_;
  syncthing_.get(syncthing::Client::file_target(config_.folder_id, path),
                 [this, path](http::Outcome o) { after_file(path, std::move(o)); });
}

void ReplicationTracker::after_file(const std::string& path, http::Outcome outcome) {
  --files_in_flight_;
  file_answers_[path] = std::move(outcome);
  if (next_file_ < files_to_fetch_.size()) return fetch_next_file();
  if (files_in_flight_ == 0) fetch_remote_needs();
}

// Only when some deleted path waits: a peer that never had the file never
// shows in its availability, and only its need list tells it is done.
void ReplicationTracker::fetch_remote_needs() {
  remote_needs_.clear();
  bool deletion_pending = false;
  for (const auto& [path, o] : file_answers_) {
    if (!o.ok || o.response.status != 200) continue;
    auto file = syncthing::parse_db_file(o.response.body);
    if (file.value && file.value->local_deleted && file.value->local_is_global) deletion_pending = true;
  }
  std::vector<std::string> connected;
  for (const auto& peer : peers_)
    if (peer.connected) connected.push_back(peer.id);
  if (!deletion_pending || connected.empty()) return fetch_completions();
  auto remaining = std::make_shared<std::size_t>(connected.size());
  for (const auto& id : connected) {
    syncthing_.get(syncthing::Client::remote_need_target(config_.folder_id, id, kRemoteNeedPage),
                   [this, id, remaining](http::Outcome o) {
                     if (o.ok && o.response.status == 200) {
                       auto need = syncthing::parse_remote_need(o.response.body);
                       // A full page may hide more: then this peer proves nothing.
                       if (need.value && need.value->size() < kRemoteNeedPage) remote_needs_[id] = std::move(*need.value);
                     }
                     if (--*remaining == 0) fetch_completions();
                   });
  }
}

void ReplicationTracker::fetch_completions() {
  completions_.clear();
  bool needed = std::any_of(waiters_.begin(), waiters_.end(), [this](const Waiter& w) { return ready(w) && w.whole_folder; });
  if (!needed || peers_.empty()) return after_completions();
  auto remaining = std::make_shared<std::size_t>(peers_.size());
  for (const auto& peer : peers_) {
    syncthing_.get(syncthing::Client::completion_target(config_.folder_id, peer.id),
                   [this, id = peer.id, remaining](http::Outcome o) {
                     if (o.ok && o.response.status == 200) {
                       auto c = syncthing::parse_completion(o.response.body);
                       if (c.value) completions_[id] = *c.value;
                       else round_error_ = "syncthing answered garbage: " + c.error;
                     } else {
                       round_error_ = describe_http("db/completion", o);
                     }
                     if (--*remaining == 0) after_completions();
                   });
  }
}

void ReplicationTracker::after_completions() { finish_round(round_error_); }

void ReplicationTracker::finish_round(const std::string& error) {
  round_running_ = false;
  if (!error.empty() && blip()) {
    // Each write still ends by its deadline: the next round's evaluate says so.
    timer_.expires_after(kBlipRetry);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !round_running_) start_round();
    });
    return;
  }
  if (!error.empty()) {
    fail_all(error);
  } else {
    failing_since_.reset();
    auto now = Clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto next = std::next(it);
      if (ready(*it)) evaluate(it, now);
      it = next;
    }
  }
  if (round_again_) return request_round();
  arm_timer();
}

void ReplicationTracker::evaluate(WaiterList::iterator waiter, Clock::time_point now) {
  ReplicationResult result;
  result.whole_folder = waiter->whole_folder;
  std::set<std::string> holders;
  std::vector<std::string> rescan;
  if (waiter->whole_folder) {
    for (const auto& [id, completion] : completions_)
      if (completion && completion->complete()) waiter->complete_peers.insert(id);
    holders = waiter->complete_peers;
  } else {
    bool first = true;
    for (auto& [path, track] : waiter->files) {
      if (track.state == FileTrack::State::pending) {
        auto answer = file_answers_.find(path);
        if (answer == file_answers_.end()) return;  // not asked this round: wait for the next
        const auto& o = answer->second;
        if (o.ok && o.response.status == 404) {
          // Never indexed. Gone from disk: nothing to replicate. Still there
          // after a finished scan: scan once more (it may have been recreated
          // since), then syncthing will not index it (ignored).
          if (!exists_on_disk(config_.folder_path, path)) {
            track.state = FileTrack::State::not_required;
          } else if (!track.rescanned) {
            track.rescanned = true;
            rescan.push_back(path);
          } else {
            track.state = FileTrack::State::unindexed;
          }
        } else if (!o.ok || o.response.status != 200) {
          result.kind = ReplicationResult::Kind::unavailable;
          result.error = describe_http("db/file " + path, o);
          return release(waiter, std::move(result));
        } else {
          auto file = syncthing::parse_db_file(o.response.body);
          if (!file.value) {
            result.kind = ReplicationResult::Kind::unavailable;
            result.error = "syncthing answered garbage: " + file.error;
            return release(waiter, std::move(result));
          }
          if (file.value->local_invalid) {
            track.state = FileTrack::State::unindexed;
          } else if (!file.value->local_is_global) {
            // Another device's newer version wins: this node's is not what peers will hold.
            track.holders.clear();
            track.version.clear();
          } else {
            if (file.value->version != track.version) track.holders.clear();
            track.version = file.value->version;
            track.holders.insert(file.value->available_on.begin(), file.value->available_on.end());
            if (file.value->local_deleted) {
              for (const auto& [peer, needs] : remote_needs_)
                if (!needs.count(path)) track.holders.insert(peer);
            }
          }
        }
      }
      if (track.state == FileTrack::State::unindexed) {
        result.kind = ReplicationResult::Kind::unavailable;
        result.error = "'" + path + "' changed but syncthing does not index it (ignored?): it cannot reach the peers";
        return release(waiter, std::move(result));
      }
      if (track.state == FileTrack::State::not_required) continue;
      ++result.files;
      if (first) {
        holders = track.holders;
        first = false;
      } else {
        std::set<std::string> both;
        std::set_intersection(holders.begin(), holders.end(), track.holders.begin(), track.holders.end(),
                              std::inserter(both, both.end()));
        holders = std::move(both);
      }
    }
    if (!rescan.empty()) {
      waiter->scanned = false;
      return scan(waiter, rescan);
    }
    if (result.files == 0) {
      result.kind = ReplicationResult::Kind::nothing_changed;
      return release(waiter, std::move(result));
    }
  }
  result.decision = decide_quorum(config_.quorum, peers_, holders);
  bool anyone_connected = std::any_of(peers_.begin(), peers_.end(), [](const Peer& p) { return p.connected; });
  if (result.decision.met) {
    result.kind = ReplicationResult::Kind::replicated;
  } else if (!anyone_connected && holders.empty()) {
    result.kind = ReplicationResult::Kind::no_peer;
  } else if (now >= waiter->deadline) {
    result.kind = ReplicationResult::Kind::timed_out;
    for (const auto& [path, track] : waiter->files)
      if (track.state == FileTrack::State::pending)
        spdlog::warn("timed out waiting for '{}': held by {} peer(s), version {}", path, track.holders.size(),
                     track.version.empty() ? "(local is not the global version)" : track.version);
  } else {
    return;  // keep waiting
  }
  release(waiter, std::move(result));
}

void ReplicationTracker::release(WaiterList::iterator waiter, ReplicationResult result) {
  result.waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - waiter->started);
  result.bound = waiter->bound;
  if (result.files == 0 && !waiter->whole_folder) result.files = waiter->paths.size();
  auto done = std::move(waiter->done);
  waiters_.erase(waiter);
  --waiter_count_;
  done(std::move(result));
}

bool ReplicationTracker::blip() {
  const auto now = Clock::now();
  if (!failing_since_) failing_since_ = now;
  return now - *failing_since_ < kSyncthingBlip;
}

void ReplicationTracker::fail_all(const std::string& error) {
  spdlog::warn("replication check failed: {}", error);
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto next = std::next(it);
    if (ready(*it)) {
      ReplicationResult r;
      r.kind = ReplicationResult::Kind::unavailable;
      r.error = error;
      release(it, std::move(r));
    }
    it = next;
  }
}

// RemoteIndexUpdated: a peer applied a change (5-10 ms after it did): re-check
// at once. Ids are counted per filter; a restarted syncthing counts from 0.
void ReplicationTracker::poll_events() {
  syncthing_.long_poll(syncthing::Client::events_target("RemoteIndexUpdated", event_since_, kEventPoll), kEventPoll,
                       [this](http::Outcome o) {
                         std::int64_t last = event_since_;
                         bool usable = o.ok && o.response.status == 200;
                         if (usable) {
                           auto parsed = syncthing::parse_last_event_id(o.response.body, event_since_);
                           usable = parsed.value.has_value();
                           if (usable) last = *parsed.value;
                         }
                         if (!usable) {
                           event_since_ = 0;
                           auto retry = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::seconds(1));
                           retry->async_wait([this, retry](boost::system::error_code) { poll_events(); });
                           return;
                         }
                         if (last > event_since_ && !waiters_.empty()) request_round();
                         event_since_ = last;
                         poll_events();
                       });
}

}  // namespace hasup::upload_gate
