#pragma once
// What counts as an address that may be written into other programs' configs
// and command lines: an IP literal or a plain RFC 1123 host name. No spaces,
// no ';', no quotes: nothing a later consumer could read as syntax. Shared by
// the config schema and the check of Consul data (components/nginx/validate).
#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace hasup {

inline bool is_ip_literal(std::string_view text) {
  const std::string copy(text);  // inet_pton wants a NUL-terminated string
  unsigned char buffer[16];
  return inet_pton(AF_INET, copy.c_str(), buffer) == 1 || inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

inline bool is_ipv4_literal(std::string_view text) {
  const std::string copy(text);
  unsigned char buffer[4];
  return inet_pton(AF_INET, copy.c_str(), buffer) == 1;
}

// RFC 1123 label: letters, digits and '-', not starting or ending with '-'.
inline bool is_host_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// "" when `host` is an IP literal or a host name, else why not.
inline std::string host_problem(std::string_view host) {
  constexpr std::string_view kNotAHost = "is not a valid IPv4/IPv6 address or host name";
  if (host.empty()) return "must not be empty";
  if (is_ip_literal(host)) return {};
  if (host.size() > 253) return std::string(kNotAHost);
  std::string_view rest = host;
  std::string_view last_label;
  while (true) {
    const auto dot = rest.find('.');
    last_label = rest.substr(0, dot);
    if (!is_host_label(last_label)) return std::string(kNotAHost);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  // No top-level domain is all digits: "198.18.0.256" or "1.2.3" is a mistyped
  // IPv4 address, not a host name (and nginx would fail to resolve it).
  if (std::all_of(last_label.begin(), last_label.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "is not a valid IPv4 address";
  return {};
}

}  // namespace hasup
