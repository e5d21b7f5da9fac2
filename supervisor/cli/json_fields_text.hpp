#pragma once
// hactl's reading of the API's JSON for the terminal: a field of the wrong
// type or missing is "" or false, never an exception (nlohmann's value()
// throws on a wrongly typed field), and text is made safe for the terminal
// (the words may come from Consul).
#include <nlohmann/json.hpp>

#include <string>

#include "supervisor/util/printable.hpp"

namespace hasup::cli {

// The string at `key`, terminal-safe; "" when absent or not a string.
inline std::string string_field(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return {};
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? terminal_safe(it->get<std::string>()) : std::string();
}

// True only for a boolean true at `key`.
inline bool true_field(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace hasup::cli
