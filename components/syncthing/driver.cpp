#include "components/syncthing/driver.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "components/syncthing/key_record.hpp"
#include "components/syncthing/observe_parse.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/since.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::syncthing {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr const char* kWatchedEvents =
    "ConfigSaved,DeviceConnected,DeviceDisconnected,DevicePaused,DeviceResumed,FolderCompletion,FolderSummary,"
    "FolderErrors,FolderPaused,FolderResumed,StateChanged";
constexpr std::chrono::seconds kEventPoll{30};
// Whole reads that events ask for follow each other no closer than this.
constexpr milliseconds kEventReadSpacing{250};
constexpr milliseconds kConfigTimeout{5000};

}  // namespace

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// One failed exchange, in words: the transport error, or the status and the
// start of the body (syncthing answers errors in plain text).
std::string failure(const std::string& what, const http::Outcome& o) {
  if (!o.ok) return what + ": " + o.error;
  return what + ": HTTP " + std::to_string(o.response.status) + " " + quoted_printable(trimmed(o.response.body), 120);
}

// A chain of GETs against syncthing, one at a time; the first failure ends it.
struct FilesRead {
  loop::FilesView fresh;
  std::vector<std::string> peer_ids;
  // The steps that repeat (per folder, per peer and folder). They capture
  // this struct: cleared when the read ends, or the cycle would leak it.
  std::function<void(std::size_t)> statuses;
  std::function<void(std::size_t)> completions;
};

}  // namespace

FilesDriver::FilesDriver(loop::DriverContext& ctx)
    : ctx_(ctx),
      timers_(ctx.io),
      tick_timer_(timers_.make()),
      events_retry_(timers_.make()),
      conflict_timer_(timers_.make()) {}

FilesDriver::~FilesDriver() = default;

std::vector<std::string> FilesDriver::units() const { return {ctx_.config.files.unit}; }

void FilesDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
  if (key_rotator_) key_rotator_->stop();
}

http::Policy FilesDriver::api_policy() const {
  const auto& c = ctx_.config.files;
  http::Policy policy;
  policy.timeout = std::min(milliseconds(2000), milliseconds(std::max(c.poll_interval_ms, 500)));
  policy.body_limit = 8 * 1024 * 1024;
  return policy;
}

void FilesDriver::start() {
  const auto& c = ctx_.config.files;
  files_.enabled = true;
  files_.unit = c.unit;
  files_.sync_port = c.sync_port;
  files_.listen_address = "tcp://" + ctx_.config.node.address + ":" + std::to_string(c.sync_port);
  for (const auto& path : split_list(c.folders)) files_.folders.push_back({folder_id(path), path});
  failing_since_ = Clock::now();
  key_rotator_ = std::make_unique<KeyRotator>(
      ctx_.io, http::Endpoint{c.api_address, static_cast<unsigned short>(c.api_port)}, api_policy(),
      KeyRotator::Paths{c.api_key_file, c.gate_api_key_file,
                        path_beside(ctx_.config.node.known_nodes_file, "syncthing-key-generation")});
  files_.key_generation = key_rotator_->generation();
  workers_ = std::make_unique<asio::thread_pool>(1);
  tick();
  watch_events();
  scan_conflicts();
}

// The key is read when first needed and again after syncthing refused it.
bool FilesDriver::have_client() {
  if (client_) return true;
  const auto& c = ctx_.config.files;
  std::string key = read_api_key_file(c.api_key_file);
  if (key.empty()) return false;
  client_ = std::make_unique<Client>(ctx_.io, http::Endpoint{c.api_address, static_cast<unsigned short>(c.api_port)},
                                     key, api_policy());
  client_->reread_key_from(c.api_key_file);
  return true;
}

// Every poll interval: a whole read when one is due, else a ping.
void FilesDriver::tick() {
  if (stopped_ || tick_running_) return;
  // A rotation of the key cut short (a crash): settled before the key is used.
  if (!rotating_ && key_rotator_->pending()) {
    tick_running_ = rotating_ = true;
    return key_rotator_->resolve_pending([this](std::string error) {
      tick_running_ = rotating_ = false;
      key_settled(error);
      if (!error.empty()) on_read(files_, error);
      schedule_tick(milliseconds(ctx_.config.files.poll_interval_ms));
    });
  }
  if (!have_client()) {
    on_read(files_, "cannot read syncthing's API key from " + ctx_.config.files.api_key_file);
    return schedule_tick(milliseconds(ctx_.config.files.poll_interval_ms));
  }
  const auto interval = milliseconds(ctx_.config.files.poll_interval_ms);
  const bool due = dirty_ || !events_ok_ || !files_.api_known || !files_.api_error.empty() || !last_read_ ||
                   Clock::now() - *last_read_ >= interval * kWholeReadEvery;
  tick_running_ = true;
  if (due)
    read_state();
  else
    ping();
}

void FilesDriver::schedule_tick(milliseconds after) {
  tick_timer_.expires_after(after);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

// An event (or a config just applied): a whole read now, or right after the
// one under way.
void FilesDriver::read_soon() {
  dirty_ = true;
  if (tick_running_ || stopped_) return;
  tick_timer_.cancel();
  tick();
}

void FilesDriver::ping() {
  client_->get(Client::kPingTarget, [this](http::Outcome o) {
    if (stopped_) return;
    tick_running_ = false;
    if (!o.ok || o.response.status != 200) {
      on_read(files_, failure("ping", o));
    }
    schedule_tick(milliseconds(ctx_.config.files.poll_interval_ms));
  });
}

void FilesDriver::read_state() {
  dirty_ = false;  // an event from now on asks for another read
  auto read = std::make_shared<FilesRead>();
  read->fresh = files_;
  read->fresh.peers.clear();
  read->fresh.folder_status.clear();
  auto get = [this](std::string target, http::Callback done) { client_->get(target, std::move(done)); };
  auto finish = [this, read](std::string error) {
    tick_running_ = false;
    // Not here: a step may be running this very call.
    asio::post(ctx_.io, [read] {
      read->statuses = nullptr;
      read->completions = nullptr;
    });
    on_read(std::move(read->fresh), std::move(error));
    // Events during the read ask for another one: soon, but spaced.
    const milliseconds interval(ctx_.config.files.poll_interval_ms);
    schedule_tick(dirty_ ? std::min(interval, kEventReadSpacing) : interval);
  };

  // Steps, last first: each one's callback starts the next.
  read->completions = [this, read, get, finish](std::size_t i) {
    const auto& folders = read->fresh.folders;
    if (folders.empty() || i >= read->peer_ids.size() * folders.size()) return finish("");
    const std::string& device = read->peer_ids[i / folders.size()];
    const auto& folder = folders[i % folders.size()];
    get(Client::completion_target(folder.id, device),
        [this, read, finish, i, device, folder](http::Outcome o) {
          if (stopped_) return;
          // A folder syncthing does not share with that device yet: nothing to report.
          if (o.ok && o.response.status == 404) return read->completions(i + 1);
          if (!o.ok || o.response.status != 200) return finish(failure("completion of " + folder.id, o));
          auto parsed = parse_completion(o.response.body);
          if (!parsed.value) return finish(parsed.error);
          read->fresh.peers[device].completion[folder.id] = *parsed.value;
          read->completions(i + 1);
        });
  };
  read->statuses = [this, read, get, finish](std::size_t i) {
    if (i >= read->fresh.folders.size()) return read->completions(0);
    const auto folder = read->fresh.folders[i];
    get(Client::folder_status_target(folder.id), [this, read, finish, i, folder](http::Outcome o) {
      if (stopped_) return;
      if (o.ok && o.response.status == 404) {  // not configured yet: the config job adds it
        FolderStatus absent;
        absent.state = "absent";
        absent.error = "not configured in syncthing yet";
        read->fresh.folder_status[folder.id] = absent;
        return read->statuses(i + 1);
      }
      if (!o.ok || o.response.status != 200) return finish(failure("status of " + folder.id, o));
      auto parsed = parse_folder_status(o.response.body);
      if (!parsed.value) return finish(parsed.error);
      read->fresh.folder_status[folder.id] = *parsed.value;
      read->statuses(i + 1);
    });
  };
  auto connections = [this, read, get, finish] {
    get("/rest/system/connections", [this, read, finish](http::Outcome o) {
      if (stopped_) return;
      if (!o.ok || o.response.status != 200) return finish(failure("connections", o));
      auto parsed = parse_connections(o.response.body);
      if (!parsed.value) return finish(parsed.error);
      for (const auto& id : read->peer_ids) read->fresh.peers[id].connected = parsed.value->count(id) && parsed.value->at(id);
      read->statuses(0);
    });
  };
  auto config = [this, read, get, finish, connections] {
    get("/rest/config", [this, read, finish, connections](http::Outcome o) {
      if (stopped_) return;
      if (!o.ok || o.response.status != 200) return finish(failure("config", o));
      auto parsed = parse_config_devices(o.response.body);
      if (!parsed.value) return finish(parsed.error);
      read->fresh.current_config = o.response.body;
      for (const auto& device : *parsed.value) {
        if (device.id == read->fresh.device_id) continue;
        read->peer_ids.push_back(device.id);
        read->fresh.peers[device.id].device_id = device.id;
        read->fresh.peers[device.id].name = device.name;
      }
      connections();
    });
  };
  if (!read->fresh.device_id.empty()) return config();
  get("/rest/system/status", [this, read, finish, config](http::Outcome o) {
    if (stopped_) return;
    if (!o.ok || o.response.status != 200) return finish(failure("system status", o));
    auto parsed = parse_my_id(o.response.body);
    if (!parsed.value) return finish(parsed.error);
    read->fresh.device_id = *parsed.value;
    config();
  });
}

void FilesDriver::on_read(loop::FilesView fresh, std::string error) {
  if (!error.empty()) {
    if (error.find("HTTP 403") != std::string::npos) client_.reset();  // re-read: the key may have changed
    if (error != files_.api_error) spdlog::warn("files: syncthing: {}", error);
    files_.api_error = error;
    if (!failing_since_) failing_since_ = Clock::now();
    ctx_.wake();
  } else {
    if (!files_.api_known || !files_.api_error.empty())
      spdlog::info("files: syncthing answers (device {}, {} peer(s))", fresh.device_id, fresh.peers.size());
    std::int64_t need = 0;
    bool any_connected = false;
    for (const auto& [id, status] : fresh.folder_status) need += status.need_items;
    for (const auto& [id, peer] : fresh.peers) any_connected = any_connected || peer.connected;
    // Missing items only counts while a peer could send them.
    if (need > 0 && any_connected) {
      if (!behind_since_) behind_since_ = Clock::now();
    } else {
      behind_since_.reset();
    }
    bool changed = fresh.device_id != files_.device_id || fresh.current_config != files_.current_config ||
                   fresh.peers != files_.peers || fresh.folder_status != files_.folder_status || !files_.api_known;
    fresh.api_known = true;
    fresh.api_error.clear();
    fresh.conflicts = files_.conflicts;
    fresh.conflict_examples = files_.conflict_examples;
    fresh.last_error = files_.last_error;
    files_ = std::move(fresh);
    failing_since_.reset();
    last_read_ = Clock::now();
    if (changed) ctx_.wake();
  }
}

// What changes the files' view: devices and folders connecting, completing,
// changing state, the config. FolderSummary and FolderCompletion also make
// syncthing compute its summaries (lib/api: OnEventRequest), which it does
// only while someone asks for them.
void FilesDriver::watch_events() {
  if (stopped_) return;
  if (!have_client()) {
    events_retry_.expires_after(std::chrono::seconds(1));
    events_retry_.async_wait([this](boost::system::error_code ec) {
      if (!ec) watch_events();
    });
    return;
  }
  const std::int64_t since = event_since_;
  client_->long_poll(Client::events_target(kWatchedEvents, since, kEventPoll), kEventPoll,
                     [this, since](http::Outcome o) {
    if (stopped_) return;
    std::optional<std::int64_t> last;
    if (o.ok && o.response.status == 200) last = parse_last_event_id(o.response.body, since).value;
    if (!last) {
      // Down, restarting (its ids then start again from 1), or a key it
      // refuses: the ping and the whole reads carry on every interval meanwhile.
      if (events_ok_) spdlog::info("files: syncthing's event stream broke ({}): reading every interval",
                                   o.ok ? "HTTP " + std::to_string(o.response.status) : o.error);
      events_ok_ = false;
      event_since_ = 0;
      events_retry_.expires_after(std::chrono::seconds(1));
      events_retry_.async_wait([this](boost::system::error_code ec) {
        if (!ec) watch_events();
      });
      return;
    }
    const bool first = !events_ok_;
    events_ok_ = true;
    event_since_ = *last;
    if (*last > since || first) read_soon();
    watch_events();
  });
}

// syncthing keeps both sides of a conflict: the loser as NAME.sync-conflict-DATE-DEVICE.EXT.
// They are counted and shown, never removed.
void FilesDriver::scan_conflicts() {
  if (stopped_) return;
  std::vector<std::string> roots;
  for (const auto& f : files_.folders) roots.push_back(f.path);
  asio::post(*workers_, [this, roots] {
    std::size_t count = 0, visited = 0;
    std::vector<std::string> examples;
    for (const auto& root : roots) {
      std::error_code ec;
      std::filesystem::recursive_directory_iterator it(
          root, std::filesystem::directory_options::skip_permission_denied, ec);
      for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (++visited > 500000) break;  // bounded: a huge folder costs one slow count, not a stuck thread
        const std::string name = it->path().filename().string();
        if (name == ".stversions" || name == ".stfolder") {
          it.disable_recursion_pending();
          continue;
        }
        if (name.find(".sync-conflict-") == std::string::npos) continue;
        ++count;
        if (examples.size() < 5) examples.push_back(it->path().lexically_relative(root).string());
      }
    }
    asio::post(ctx_.io, [this, count, examples] {
      if (stopped_) return;
      if (count != files_.conflicts) {
        if (count > 0)
          spdlog::warn("files: {} conflict copy(ies) in the replicated folders, e.g. {}", count, examples.front());
        else
          spdlog::info("files: no conflict copies left");
        files_.conflicts = count;
        files_.conflict_examples = examples;
        ctx_.wake();
      }
      conflict_timer_.expires_after(milliseconds(ctx_.config.files.conflict_scan_interval_ms));
      conflict_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) scan_conflicts();
      });
    });
  });
}

void FilesDriver::observe(loop::Snapshot& s) const {
  loop::FilesView& v = s.files;
  v = files_;
  v.unfit_after = milliseconds(ctx_.config.files.unfit_after_ms);
  v.api_failing_for = failing_since_ ? since(*failing_since_) : milliseconds(0);
  v.behind_for = behind_since_ ? since(*behind_since_) : milliseconds(0);
  v.key_error_ago = key_error_at_ ? since(*key_error_at_) : milliseconds(0);
  observe_filesystem(v);
}

// A peer's record missing for less than this keeps its device as it was: the
// record vanishes for a moment when a live node's session ends and it opens a
// new one (a Consul leader election: ~1 s in the lab, 2026-12-03), while a
// crashed node stays away. Pausing a live peer drops its connection, and the
// upload gate may wait for syncthing to make it again.
constexpr milliseconds kPauseAbsentPeerAfter{5000};

void FilesDriver::observed(loop::Snapshot& s) {
  if (!s.kv.known) return;
  const auto now = Clock::now();
  std::map<std::string, Clock::time_point> still_absent;
  for (const auto& [name, node] : s.known.nodes) {
    if (name == s.self || s.kv.members.count(name)) continue;
    auto was = absent_since_.find(name);
    still_absent[name] = was == absent_since_.end() ? now : was->second;
  }
  absent_since_ = std::move(still_absent);
  for (const auto& [name, at] : absent_since_) s.files.absent_for[name] = since(at);
  s.files.pause_after = kPauseAbsentPeerAfter;
}

// Every cycle: a statvfs costs microseconds, and a filesystem fills between
// two of syncthing's events. The folder with the least room counts. In
// observe(), not observed(): the floating IP's driver times the node's
// problems in its observed(), and must see this one.
void FilesDriver::observe_filesystem(loop::FilesView& v) const {
  if (!v.enabled || files_.folders.empty()) return;
  for (const auto& folder : files_.folders) {
    auto read = util::read_filesystem_space(folder.path);
    if (!v.space.space || (read.space && read.space->free_bytes < v.space.space->free_bytes)) v.space = read;
  }
  if (v.space.space) filesystem_full_ = util::filesystem_full(*v.space.space, filesystem_full_);
  v.full = filesystem_full_;
}

bool FilesDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::ApplySyncthingConfig>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::StartSyncthing>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::RotateSyncthingKey>(&action)) return run(*a), true;
  return false;
}

void FilesDriver::run(const loop::ApplySyncthingConfig& a) {
  const auto& c = ctx_.config.files;
  // syncthing starts a folder only where its marker is: the folders are ours, so are the markers.
  for (const auto& folder : files_.folders) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(folder.path) / ".stfolder", ec);
    if (ec) spdlog::error("files: cannot create {}/.stfolder: {}", folder.path, ec.message());
  }
  if (!have_client()) {
    files_.last_error = "cannot read syncthing's API key from " + c.api_key_file;
    spdlog::error("files: {}", files_.last_error);
    return ctx_.finish_job(loop::Job::apply_syncthing_config);
  }
  // The config was read before: its GUI key may be older than the one this
  // client holds now (a rotation between), and the key is never put back.
  auto body = nlohmann::json::parse(a.body, nullptr, false);
  if (body.is_object() && body.contains("gui") && body["gui"].is_object()) body["gui"]["apiKey"] = client_->api_key();
  client_->put_json("/rest/config", body.is_discarded() ? a.body : body.dump(), kConfigTimeout,
                    [this, changes = a.changes](http::Outcome o) {
    if (stopped_) return;
    if (!o.ok || o.response.status != 200) {
      files_.last_error = failure("syncthing refused its new config", o);
      spdlog::error("files: {}", files_.last_error);
      return ctx_.finish_job(loop::Job::apply_syncthing_config);
    }
    files_.last_error.clear();
    spdlog::info("files: syncthing config applied: {}", changes);
    client_->get("/rest/config/restart-required", [this](http::Outcome o) {
      if (stopped_) return;
      auto parsed = o.ok && o.response.status == 200 ? parse_restart_required(o.response.body) : Parsed<bool>{};
      if (!parsed.value.value_or(false)) {
        ctx_.finish_job(loop::Job::apply_syncthing_config);
        return read_soon();
      }
      spdlog::info("files: syncthing needs a restart for its new config: restarting {}", ctx_.config.files.unit);
      ctx_.units.restart_unit(ctx_.config.files.unit, [this](systemd::JobOutcome outcome) {
        if (!outcome.ok()) {
          files_.last_error = "restart for the new config failed: " + outcome.to_string();
          spdlog::error("files: {}", files_.last_error);
        }
        ctx_.finish_job(loop::Job::apply_syncthing_config);
      });
    });
  });
}

// Every step is the rotator's; the job ends with its answer, and syncthing's
// state is read again (its config holds the new key).
void FilesDriver::run(const loop::RotateSyncthingKey& a) {
  rotating_ = true;
  spdlog::info("files: rotating syncthing's API key to generation {}", a.generation);
  key_rotator_->rotate(a.generation, [this](std::string error) {
    if (stopped_) return;
    rotating_ = false;
    key_settled(error);
    client_.reset();  // the key file changed: read it again
    ctx_.finish_job(loop::Job::rotate_syncthing_key);
    read_soon();
  });
}

void FilesDriver::key_settled(const std::string& error) {
  files_.key_generation = key_rotator_->generation();
  if (!error.empty()) spdlog::error("files: syncthing's API key: {}", error);
  files_.key_error = error;
  key_error_at_ = error.empty() ? std::nullopt : std::optional(Clock::now());
}

void FilesDriver::run(const loop::StartSyncthing&) {
  ctx_.units.start_unit(ctx_.config.files.unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      spdlog::info("files: {} started", ctx_.config.files.unit);
    } else {
      files_.last_error = "start failed: " + outcome.to_string();
      spdlog::error("files: {}", files_.last_error);
    }
    ctx_.finish_job(loop::Job::start_syncthing);
  });
}

}  // namespace hasup::syncthing
