#include "supervisor/cli/settings_table.hpp"

#include <sstream>

namespace hasup::cli {

using nlohmann::json;

namespace {

std::string value_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::string joined(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + value_text(item);
  return out;
}

std::uint64_t index_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

}  // namespace

std::string render_settings(const json& doc) {
  std::ostringstream out;
  if (!doc.is_object()) return "the supervisor's answer is not a settings document\n";
  const json stored = doc.value("stored", json());
  std::uint64_t stored_index = 0;
  if (!stored.is_object()) {
    out << "the store holds no cluster settings: each node runs with its own file (and the defaults)\n";
  } else {
    stored_index = index_of(stored, "index");
    const json settings = stored.value("settings", json());
    if (!settings.is_object()) {
      out << "cluster settings in the store (index " << stored_index << "): not a JSON object, refused by every node: "
          << value_text(settings) << "\n";
    } else {
      out << "cluster settings in the store (index " << stored_index << "), on every node over its own file:\n";
      if (settings.empty()) out << "  (none)\n";
      for (const auto& [key, value] : settings.items()) out << "  " << key << " = " << value.dump() << "\n";
    }
  }
  const json nodes = doc.value("nodes", json::object());
  if (nodes.is_object() && !nodes.empty()) out << "on each live node:\n";
  for (const auto& [name, node] : nodes.items()) {
    if (!node.is_object()) continue;
    const std::uint64_t index = index_of(node, "applied_index");
    std::string state = index == 0 ? "its own file only" : "applied index " + std::to_string(index);
    if (stored_index != 0 && index != stored_index) state += " (not the store's)";
    if (const std::string error = node.value("error", ""); !error.empty()) state += "; refused the store's: " + error;
    if (const std::string pending = joined(node.value("pending", json::array())); !pending.empty())
      state += "; needs a restart for " + pending;
    out << "  " << name << "  " << state << "\n";
  }
  return out.str();
}

}  // namespace hasup::cli
