#include "supervisor/config/cluster_settings.hpp"

#include <filesystem>
#include <variant>

#include "supervisor/config/schema.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::config {

using nlohmann::json;

namespace {

}  // namespace

std::string settable_problem(std::string_view path) {
  const KeySpec* key = find_key(path);
  if (key == nullptr) return quoted_printable(path, 80) + ": unknown key";
  if (!key->cluster_wide) return std::string(key->path) + ": not a cluster-wide key: set it in each node's own file";
  return {};
}

TypedValue typed_value(std::string_view path, std::string_view text) {
  if (auto problem = settable_problem(path); !problem.empty()) return {std::nullopt, problem};
  const KeySpec* key = find_key(path);
  const auto expected = [&] {
    return TypedValue{std::nullopt, std::string(key->path) + ": expected " + std::string(type_name(key->type())) +
                                        ", got " + quoted_printable(text, 80)};
  };
  switch (key->type()) {
    case ValueType::integer:
      if (auto n = number_from<long long>(text)) return {json(*n), {}};
      return expected();
    case ValueType::boolean:
      if (text == "true" || text == "false") return {json(text == "true"), {}};
      return expected();
    case ValueType::floating:
      if (auto n = number_from<double>(text)) return {json(*n), {}};
      return expected();
    case ValueType::string: return {json(std::string(text)), {}};
  }
  return expected();
}

EditedSettings edit_settings(const std::string& doc_text, const std::map<std::string, json>& set,
                             const std::vector<std::string>& unset) {
  auto doc = json::parse(doc_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {{}, "the stored settings are not a JSON object"};
  for (const auto& path : unset) doc.erase(path);
  for (const auto& [path, value] : set) doc[path] = value;
  return {doc.dump(), {}};  // nlohmann's object is a std::map: keys come sorted
}

json cluster_wide_values(const Config& config) {
  Config copy = config;  // the field accessors take a mutable Config
  json values = json::object();
  for (const auto& key : all_keys()) {
    if (!key.cluster_wide) continue;
    std::visit([&](auto field) { values[std::string(key.path)] = field(copy); }, key.field);
  }
  return values;
}

SettingsCopyRead read_settings_copy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return {};
  auto read = read_small_file(path, kSmallFileLimit);
  if (!read.ok()) return {std::nullopt, "cannot read " + path + ": " + read.problem};
  const auto doc = json::parse(read.content, nullptr, false);
  const auto index = doc.is_object() ? doc.find("index") : doc.end();
  const auto settings = doc.is_object() ? doc.find("settings") : doc.end();
  if (index == doc.end() || !index->is_number_unsigned() || settings == doc.end() || !settings->is_object())
    return {std::nullopt, path + " is not a settings copy ({\"index\": N, \"settings\": {...}})"};
  return {SettingsCopy{index->get<std::uint64_t>(), settings->dump()}, {}};
}

std::string write_settings_copy(const std::string& path, const SettingsCopy& copy) {
  auto settings = json::parse(copy.text, nullptr, false);
  if (settings.is_discarded() || !settings.is_object()) return "the settings to keep are not a JSON object";
  return write_file_atomically(path, json{{"index", copy.index}, {"settings", settings}}.dump() + "\n", 0600);
}

}  // namespace hasup::config
