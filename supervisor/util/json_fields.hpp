#pragma once
// Reading the JSON documents the supervisors share through Consul (member
// records, the database login's record): each field checked for its type, the
// first problem named, so a record is taken whole or refused whole.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace hasup {

inline std::optional<nlohmann::json> parse_object(const std::string& text, std::string& error) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    error = "malformed JSON";
    return std::nullopt;
  }
  if (!parsed.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  return parsed;
}

// Checks the schema number first: a newer schema is reported as such, so an
// operator mixing versions during an upgrade sees why a record is ignored.
// A record kind readable in several schemas takes any from oldest to newest.
inline bool schema_in(const nlohmann::json& object, int oldest, int newest, std::string& error) {
  auto it = object.find("schema");
  if (it == object.end() || !it->is_number_integer()) {
    error = "no schema number";
    return false;
  }
  const long long found = it->get<long long>();
  if (found < oldest || found > newest) {
    error = "written with schema " + std::to_string(found) + ", this supervisor reads schema " +
            (oldest == newest ? std::to_string(newest) : std::to_string(oldest) + " to " + std::to_string(newest));
    return false;
  }
  return true;
}
inline bool schema_ok(const nlohmann::json& object, int expected, std::string& error) {
  return schema_in(object, expected, expected, error);
}

inline bool get_string(const nlohmann::json& o, const char* name, std::string& out, std::string& error, bool required = true) {
  auto it = o.find(name);
  if (it == o.end()) {
    if (required) error = std::string("missing ") + name;
    return !required;
  }
  if (!it->is_string()) {
    error = std::string(name) + " is not a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

// An optional list of strings: absent is empty; anything else is an error.
inline bool get_string_list(const nlohmann::json& o, const char* key, std::vector<std::string>& out, std::string& error) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (!it->is_array()) {
    error = std::string(key) + " is not a list";
    return false;
  }
  for (const auto& item : *it) {
    if (!item.is_string()) {
      error = std::string(key) + " holds something that is not a string";
      return false;
    }
    out.push_back(item.get<std::string>());
  }
  return true;
}

}  // namespace hasup
