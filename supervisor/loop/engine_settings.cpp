// The engine's part in the cluster's settings (hactl settings): the store's
// settings considered at every read of the keys and applied, this node's
// copy kept on disk, the operator's edits written, the store restored by the
// leader when Consul lost them. The rules are SettingsKeeper's and decide()'s.
#include <filesystem>
#include <spdlog/spdlog.h>

#include "components/pause/decide.hpp"
#include "supervisor/config/cluster_settings.hpp"
#include "supervisor/log/logging.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::loop {

using nlohmann::json;

namespace {

std::string key_list(const std::vector<std::string>& keys) {
  std::string out = sentence_list(keys);
  return out.empty() ? std::string("none") : out;
}

// The exit status that asks systemd (Restart=always) for a new start: EX_TEMPFAIL.
constexpr int kRestartToApply = 75;

}  // namespace

void Engine::consider_settings() {
  // Paused: settings written to the store meanwhile (by hand: the API refuses)
  // are applied at the resume, not before.
  if (cluster_pause(kv_).paused && settings_checked_at_start_) return;
  const bool first_view = !std::exchange(settings_checked_at_start_, true);
  auto [change, refused] = settings_.consider(kv_.settings);
  if (!refused.empty())
    events_.note("supervisor", "refusal", "cluster settings refused, the previous ones stay: " + refused);
  if (change) adopt(change->desired, change->origin);
  keep_settings_copy();
  // A node must not run with settings older than the cluster's: when the
  // first read of the keys since the start brings settings that change keys
  // which apply only at a start, start again now, before this node took a
  // role (a change made while it runs is only named: status, the timeline).
  if (!first_view || !kv_.settings) return;
  const auto pending = settings_.view(config_).pending;
  if (pending.empty() || last_role_ == cluster::Role::leader || !settings_copy_error_.empty()) return;
  spdlog::warn("the cluster's settings (index {}) change {}, which apply at a start: starting again with them",
               settings_.applied().index, key_list(pending));
  exit_code_ = kRestartToApply;
  request_shutdown("to start again with the cluster's settings: " + key_list(pending));
}

void Engine::adopt(const config::Config& desired, const std::string& origin) {
  // The keys the schema marks live are taken; the rest wait for a restart.
  auto changes = config::apply_live_keys(config_, desired);
  log::set_level(config_.log.level);
  log::add_secret(config_.consul.token);
  consul_.set_token(config_.consul.token);
  consul_.set_request_timeout(std::chrono::milliseconds(config_.consul.request_timeout_ms));
  link_.quorum_loss_timeout = std::chrono::milliseconds(config_.consul.quorum_loss_timeout_ms);
  for (const auto& driver : drivers_) driver->reload();
  spdlog::info("reloaded {}: applied live: {}; needs a restart to apply: {}", origin, key_list(changes.live),
               key_list(changes.needs_restart));
  events_.note("supervisor", "config", "configuration reloaded (" + origin + "): applied live: " +
                                           key_list(changes.live) + "; needs a restart: " +
                                           key_list(changes.needs_restart));
  wake();
}

// On the loop's thread: a small file, written only when the settings change.
void Engine::keep_settings_copy() {
  const auto& applied = settings_.applied();
  if (applied == settings_copy_kept_) return;
  const auto& path = config_.node.settings_file;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string error = config::write_settings_copy(path, applied);
  if (!error.empty() && error != settings_copy_error_)
    spdlog::error("cannot keep the cluster's settings in {}: {} (a start before the store is read uses older ones)",
                  path, error);
  settings_copy_error_ = error;
  if (error.empty()) settings_copy_kept_ = applied;
}

void Engine::run(const RestoreSettings& a) {
  consul::PutOptions create_only;
  create_only.cas = 0;
  consul_.kv_put(keys_.settings(), a.text, create_only, [this, index = a.index](consul::Result<bool> r) {
    if (!r) {
      note_consul_error("restoring the cluster's settings", r.error());
    } else if (r.value()) {
      const std::string said = "the store held no cluster settings (Consul's data lost?): restored this node's copy, "
                               "which had index " + std::to_string(index);
      spdlog::warn("{}", said);
      events_.note("supervisor", "config", said);
    }
    refresh_kv([this, failed = !r] {
      failed ? finish_failed_job(Job::restore_settings) : finish_job(Job::restore_settings);
    });
  });
}

void Engine::write_cluster_settings(const std::map<std::string, json>& set, const std::vector<std::string>& unset,
                                    std::function<void(int, json)> done) {
  if (auto why = pause_blocker(last_snapshot_, "settings change"); !why.empty())
    return done(409, json{{"error", "refused, nothing written: " + why}});
  consul::ReadOptions consistent;
  consistent.consistency = consul::Consistency::consistent;
  consul_.kv_get(keys_.settings(), consistent, [this, set, unset, done](consul::Result<consul::KvRead> r) {
    if (!r) return done(503, json{{"error", "cannot read the cluster's settings: " + r.error().to_string()}});
    const auto& entry = r.value().entry;
    const std::uint64_t cas = entry ? entry->modify_index : 0;
    const std::string current = entry ? entry->value : "{}";
    auto edited = config::edit_settings(current, set, unset);
    // Stored settings that are not a JSON object are refused by every node
    // already; an edit starts them again from nothing rather than stay stuck.
    const bool replaced = !edited.error.empty();
    if (replaced) edited = config::edit_settings("{}", set, unset);
    auto checked = config::overlay_cluster_settings(settings_.file_config(), edited.text, "the new settings");
    if (!checked.config) {
      json errors = json::array();
      for (const auto& e : checked.errors) errors.push_back(e.to_string());
      return done(400, json{{"error", "refused, nothing written: " + checked.errors.front().to_string()},
                            {"errors", errors}});
    }
    if (!replaced && edited.text == current)
      return done(200, json{{"status", "unchanged"}, {"index", cas}, {"settings", json::parse(current)}});
    consul::PutOptions put;
    put.cas = cas;
    consul_.kv_put(keys_.settings(), edited.text, put, [this, text = edited.text, done](consul::Result<bool> w) {
      if (!w) return done(503, json{{"error", "not written: " + w.error().to_string()}});
      if (!w.value())
        return done(409, json{{"error", "the cluster's settings changed meanwhile; nothing written: try again"}});
      events_.note("supervisor", "config", "cluster settings written through the API: " + text);
      refresh_kv([this, text, done] {
        const std::uint64_t index = kv_.settings ? kv_.settings->index : 0;
        done(200, json{{"status", "written: every node applies them"}, {"index", index}, {"settings", json::parse(text)}});
      });
    });
  });
}

json Engine::settings_document() const {
  const auto view = settings_.view(config_);
  json doc;
  if (kv_.settings) {
    auto parsed = json::parse(kv_.settings->text, nullptr, false);
    doc["stored"] = json{{"index", kv_.settings->index},
                         {"settings", parsed.is_discarded() ? json(kv_.settings->text) : parsed}};
  } else {
    doc["stored"] = nullptr;
  }
  doc["applied_index"] = view.applied_index;
  doc["effective"] = config::cluster_wide_values(config_);
  doc["pending"] = view.pending;
  doc["error"] = view.error;
  json nodes = json::object();
  for (const auto& [name, member] : kv_.members)
    nodes[name] = json{{"applied_index", member.settings_index},
                       {"pending", member.settings_pending},
                       {"error", member.settings_error}};
  doc["nodes"] = nodes;
  return doc;
}

}  // namespace hasup::loop
