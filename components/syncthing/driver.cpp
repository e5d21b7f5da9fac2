#include "components/syncthing/driver.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>

#include "components/syncthing/observe_parse.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::syncthing {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t);
}

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
    : ctx_(ctx), timers_(ctx.io), poll_timer_(timers_.make()), conflict_timer_(timers_.make()) {}

FilesDriver::~FilesDriver() = default;

std::vector<std::string> FilesDriver::units() const { return {ctx_.config.files.unit}; }

void FilesDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
}

void FilesDriver::start() {
  const auto& c = ctx_.config.files;
  files_.enabled = true;
  files_.unit = c.unit;
  files_.sync_port = c.sync_port;
  files_.listen_address = "tcp://" + ctx_.config.node.address + ":" + std::to_string(c.sync_port);
  for (const auto& path : split_list(c.folders)) files_.folders.push_back({folder_id(path), path});
  failing_since_ = Clock::now();
  workers_ = std::make_unique<asio::thread_pool>(1);
  poll();
  scan_conflicts();
}

void FilesDriver::poll() {
  if (stopped_ || poll_running_) return;
  const auto& c = ctx_.config.files;
  if (api_key_.empty()) {
    api_key_ = trimmed(read_small_file(c.api_key_file).value_or(""));
    if (api_key_.empty()) {
      on_read(files_, "cannot read syncthing's API key from " + c.api_key_file);
      return;
    }
  }
  poll_running_ = true;
  auto read = std::make_shared<FilesRead>();
  read->fresh = files_;
  read->fresh.peers.clear();
  read->fresh.folder_status.clear();

  const http::Endpoint api{c.api_address, static_cast<unsigned short>(c.api_port)};
  http::Policy policy;
  policy.timeout = std::min(milliseconds(2000), milliseconds(std::max(c.poll_interval_ms, 500)));
  policy.body_limit = 8 * 1024 * 1024;
  auto get = [this, api, policy](std::string target, http::Callback done) {
    http::Request r;
    r.target = std::move(target);
    r.headers.emplace_back("X-API-Key", api_key_);
    http::async_request(ctx_.io, api, std::move(r), policy, std::move(done));
  };
  auto finish = [this, read](std::string error) {
    poll_running_ = false;
    // Not here: a step may be running this very call.
    asio::post(ctx_.io, [read] {
      read->statuses = nullptr;
      read->completions = nullptr;
    });
    on_read(std::move(read->fresh), std::move(error));
  };

  // Steps, last first: each one's callback starts the next.
  read->completions = [this, read, get, finish](std::size_t i) {
    const auto& folders = read->fresh.folders;
    if (folders.empty() || i >= read->peer_ids.size() * folders.size()) return finish("");
    const std::string& device = read->peer_ids[i / folders.size()];
    const auto& folder = folders[i % folders.size()];
    get("/rest/db/completion?folder=" + http::url_encode(folder.id) + "&device=" + http::url_encode(device),
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
    get("/rest/db/status?folder=" + http::url_encode(folder.id), [this, read, finish, i, folder](http::Outcome o) {
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
      auto parsed = nlohmann::json::parse(o.response.body, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("devices") || !parsed["devices"].is_array())
        return finish("config: not a syncthing config (no devices list)");
      read->fresh.current_config = o.response.body;
      for (const auto& device : parsed["devices"]) {
        if (!device.is_object()) continue;
        std::string id = device.value("deviceID", std::string{});
        if (id.empty() || id == read->fresh.device_id) continue;
        read->peer_ids.push_back(id);
        read->fresh.peers[id].device_id = id;
        read->fresh.peers[id].name = device.value("name", std::string{});
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
  const auto& c = ctx_.config.files;
  if (!error.empty()) {
    if (error.find("HTTP 403") != std::string::npos) api_key_.clear();  // re-read: the key may have changed
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
    if (changed) ctx_.wake();
  }
  poll_timer_.expires_after(milliseconds(c.poll_interval_ms));
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll();
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
}

bool FilesDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::ApplySyncthingConfig>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::StartSyncthing>(&action)) return run(*a), true;
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
  const http::Endpoint api{c.api_address, static_cast<unsigned short>(c.api_port)};
  http::Policy policy;
  policy.timeout = milliseconds(5000);
  http::Request put;
  put.method = http::Method::put;
  put.target = "/rest/config";
  put.body = a.body;
  put.content_type = "application/json";
  put.headers.emplace_back("X-API-Key", api_key_);
  http::async_request(ctx_.io, api, std::move(put), policy, [this, api, policy, changes = a.changes](http::Outcome o) {
    if (stopped_) return;
    if (!o.ok || o.response.status != 200) {
      files_.last_error = failure("syncthing refused its new config", o);
      spdlog::error("files: {}", files_.last_error);
      return ctx_.finish_job(loop::Job::apply_syncthing_config);
    }
    files_.last_error.clear();
    spdlog::info("files: syncthing config applied: {}", changes);
    http::Request check;
    check.target = "/rest/config/restart-required";
    check.headers.emplace_back("X-API-Key", api_key_);
    http::async_request(ctx_.io, api, std::move(check), policy, [this](http::Outcome o) {
      if (stopped_) return;
      auto parsed = o.ok && o.response.status == 200 ? nlohmann::json::parse(o.response.body, nullptr, false)
                                                      : nlohmann::json();
      bool restart = parsed.is_object() && parsed.value("requiresRestart", false);
      if (!restart) {
        ctx_.finish_job(loop::Job::apply_syncthing_config);
        return poll();
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
