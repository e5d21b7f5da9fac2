#pragma once
// The cluster's settings on this node: which of the store's documents is in
// effect, laid over which file, and this node's copy on disk. The engine
// applies what it returns (live keys at once, the rest at the next start);
// nothing here touches Consul or the drivers.
#include <cstdint>
#include <optional>
#include <string>

#include "supervisor/config/cluster_settings.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

class SettingsKeeper {
 public:
  explicit SettingsKeeper(config::Config file_config);

  // The config to start with: the file, with this node's copy of the
  // cluster's settings over it. A copy that cannot be read or no longer fits
  // the file is ignored (logged): the store's settings come at the first read.
  config::Config starting_config();

  // The store's settings as last read (nullopt: the key is absent): the
  // config they make with the file when they change what is in effect, or,
  // the first time settings at an index are refused, why (logged here; the
  // engine notes it in the timeline). Nothing when nothing changes.
  struct Change {
    config::Config desired;
    std::string origin;  // "the cluster's settings (index N)"
  };
  struct Consideration {
    std::optional<Change> change;
    std::string refused;  // set once per refused index
  };
  Consideration consider(const std::optional<KvView::StoredValue>& stored);

  // SIGHUP: a new file under the settings in effect; nullopt (errors logged)
  // when the two together break a rule: the reload is refused.
  std::optional<config::Config> with_file(const config::Config& file_config);

  // The settings in effect, for the copy on disk and the store's restore.
  const config::SettingsCopy& applied() const { return applied_; }
  const config::Config& file_config() const { return file_; }
  SettingsView view(const config::Config& running) const;

 private:
  config::Config file_;
  config::Config desired_;
  config::SettingsCopy applied_;
  std::uint64_t refused_index_ = 0;  // the store's index last refused (logged once)
  std::string error_;
};

}  // namespace hasup::loop
