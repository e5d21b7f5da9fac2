#pragma once
// The rule for a node's name, in one place: the config schema (node.name),
// the status API (POST /maintenance's "node") and the renderers that re-check
// it use this. The name becomes a Consul KV path segment, a session name and a
// DNS-safe label, so it is held to the strictest of them.
#include <string>
#include <string_view>

namespace hasup {

inline constexpr std::string_view kNodeNameFormat = "[a-z0-9][a-z0-9-]{0,62}";

// "" when `name` is a node name, else why not.
inline std::string node_name_problem(std::string_view name) {
  const auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (name.empty()) return "must not be empty";
  if (name.size() > 63) return "must be at most 63 characters";
  if (!lower_alnum(name.front())) return "must start with a lowercase letter or digit";
  for (char c : name) {
    if (!lower_alnum(c) && c != '-') return "may contain only a-z, 0-9 and '-'";
  }
  return {};
}

inline bool is_node_name(std::string_view name) { return node_name_problem(name).empty(); }

}  // namespace hasup
