#include "components/rest-service/routes.hpp"

#include <optional>
#include <vector>

namespace hasup::rest_standin {

namespace {

constexpr std::string_view kPrefix = "/api/v3.1/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict: a '%' not followed by two hex digits is no valid segment.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) return std::nullopt;
    out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

bool id_char(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

Route refuse(int status, std::string error, std::string allow = {}) {
  Route r;
  r.refusal = status;
  r.error = std::move(error);
  r.allow = std::move(allow);
  return r;
}

Route allow_only(std::string_view method, Route matched, std::string allow) {
  // allow is "GET" or "GET, PUT, DELETE": a method matches a whole word of it.
  std::size_t start = 0;
  while (start < allow.size()) {
    auto comma = allow.find(", ", start);
    auto word = std::string_view(allow).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (word == method) return matched;
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return refuse(405, "method " + std::string(method) + " not allowed here; allowed: " + allow, allow);
}

}  // namespace

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (!id_char(id[i], i == 0)) return false;
  }
  return id.find("..") == std::string_view::npos;
}

Route route(std::string_view method, std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() != '/') return refuse(400, "request target must be an absolute path");
  if (path.substr(0, kPrefix.size()) != kPrefix) return refuse(404, "no such resource");
  auto parts = split(path.substr(kPrefix.size()));

  if (parts.size() == 1 && parts[0] == "status") {
    Route r;
    r.resource = Resource::status;
    return allow_only(method, r, "GET");
  }
  if (parts.size() < 2 || parts[0] != "blueprints") return refuse(404, "no such resource");
  // The id is checked before anything else about the path: ".." or an encoded
  // slash is refused as a bad id, never looked up.
  auto id = percent_decode(parts[1]);
  if (!id || !valid_id(*id)) {
    return refuse(400, "invalid blueprint id: ids match [A-Za-z0-9][A-Za-z0-9_.-]{0,127} and contain no '..'");
  }
  if (parts.size() > 3) return refuse(404, "no such resource");
  Route r;
  r.id = *id;
  if (parts.size() == 2) {
    r.resource = Resource::blueprint;
    return allow_only(method, r, "GET, PUT, DELETE");
  }
  if (parts[2] == "archive") {
    r.resource = Resource::blueprint_archive;
    return allow_only(method, r, "GET");
  }
  return refuse(404, "no such resource");
}

}  // namespace hasup::rest_standin
