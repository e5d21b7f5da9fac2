#pragma once
// The cluster's settings: the cluster-wide keys (schema.hpp) set for every
// node at once. They live in Consul at PREFIX/settings as one JSON object
// {"group.key": value}; every supervisor lays them over its own file
// (config.hpp: overlay_cluster_settings) and keeps a copy on disk, so it
// starts with the newest settings it knew. Here: what an operator's words
// become, the document's edits, and that copy.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/config/config.hpp"

namespace hasup::config {

// "" when `path` names a cluster-wide key, else why it cannot be set or unset
// through the store.
std::string settable_problem(std::string_view path);

// The value an operator typed for `path` ("2500", "true", "0.4") as the JSON
// of the key's type. An unknown key, one that is not cluster-wide or text
// not of the key's type is an error; ranges and formats are the overlay's.
struct TypedValue {
  std::optional<nlohmann::json> value;
  std::string error;
};
TypedValue typed_value(std::string_view path, std::string_view text);

// `doc_text` with `set` written over it and `unset` removed: keys sorted, one
// line. An error when `doc_text` is not a JSON object.
struct EditedSettings {
  std::string text;
  std::string error;
};
EditedSettings edit_settings(const std::string& doc_text, const std::map<std::string, nlohmann::json>& set,
                             const std::vector<std::string>& unset);

// Every cluster-wide key with its value in `config`.
nlohmann::json cluster_wide_values(const Config& config);

// This node's copy of the settings it last applied, with the store's index.
struct SettingsCopy {
  std::uint64_t index = 0;
  std::string text = "{}";
  bool operator==(const SettingsCopy&) const = default;
};
// No file: neither copy nor problem. A file that cannot be read or is not a
// copy: the problem, and no copy (the store's settings come at the first read).
struct SettingsCopyRead {
  std::optional<SettingsCopy> copy;
  std::string problem;
};
SettingsCopyRead read_settings_copy(const std::string& path);
// "" or what went wrong; the file is written whole or not at all, root only.
std::string write_settings_copy(const std::string& path, const SettingsCopy& copy);

}  // namespace hasup::config
