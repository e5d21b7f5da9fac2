#include "supervisor/loop/settings_keeper.hpp"

#include <spdlog/spdlog.h>

namespace hasup::loop {

namespace {

std::string origin_of(std::uint64_t index) { return "the cluster's settings (index " + std::to_string(index) + ")"; }

// The first error, and how many more: one line for status and the timeline.
std::string summary(const std::vector<config::ConfigError>& errors) {
  std::string text = errors.front().to_string();
  if (errors.size() > 1) text += " (and " + std::to_string(errors.size() - 1) + " more)";
  return text;
}

}  // namespace

SettingsKeeper::SettingsKeeper(config::Config file_config) : file_(std::move(file_config)), desired_(file_) {}

config::Config SettingsKeeper::starting_config() {
  const auto& path = file_.node.settings_file;
  auto read = config::read_settings_copy(path);
  if (!read.copy) {
    if (!read.problem.empty()) spdlog::warn("cluster settings: ignoring this node's copy: {}", read.problem);
    return desired_;
  }
  auto overlaid = config::overlay_cluster_settings(file_, read.copy->text, path);
  if (!overlaid.config) {
    for (const auto& e : overlaid.errors) spdlog::warn("cluster settings: this node's copy: {}", e.to_string());
    spdlog::warn("cluster settings: ignoring this node's copy ({}): it no longer fits the file", path);
    return desired_;
  }
  applied_ = *read.copy;
  desired_ = *overlaid.config;
  spdlog::info("cluster settings: starting with this node's copy (index {})", applied_.index);
  return desired_;
}

SettingsKeeper::Consideration SettingsKeeper::consider(const std::optional<KvView::StoredValue>& stored) {
  if (!stored) return {};  // kept as they are: the leader restores them (decide: RestoreSettings)
  if (stored->text == applied_.text) {
    applied_.index = stored->index;  // the same settings, written again (or restored)
    error_.clear();
    return {};
  }
  if (stored->index == refused_index_) return {};
  auto overlaid = config::overlay_cluster_settings(file_, stored->text, origin_of(stored->index));
  if (!overlaid.config) {
    refused_index_ = stored->index;
    for (const auto& e : overlaid.errors) spdlog::error("{}", e.to_string());
    error_ = summary(overlaid.errors);
    return {std::nullopt, error_};
  }
  applied_ = {stored->index, stored->text};
  desired_ = *overlaid.config;
  error_.clear();
  return {Change{desired_, origin_of(stored->index)}, {}};
}

std::optional<config::Config> SettingsKeeper::with_file(const config::Config& file_config) {
  auto overlaid = config::overlay_cluster_settings(file_config, applied_.text, origin_of(applied_.index));
  if (!overlaid.config) {
    for (const auto& e : overlaid.errors) spdlog::error("with the new file: {}", e.to_string());
    return std::nullopt;
  }
  file_ = file_config;
  desired_ = *overlaid.config;
  return desired_;
}

SettingsView SettingsKeeper::view(const config::Config& running) const {
  SettingsView v;
  v.applied_index = applied_.index;
  v.applied_text = applied_.text;
  // Live keys differ only when held back for a rule (apply_live_keys): they
  // wait for the restart with the others.
  auto differ = config::diff(running, desired_);
  v.pending = differ.needs_restart;
  v.pending.insert(v.pending.end(), differ.live.begin(), differ.live.end());
  v.error = error_;
  return v;
}

}  // namespace hasup::loop
