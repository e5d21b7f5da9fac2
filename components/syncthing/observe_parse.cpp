#include "components/syncthing/observe_parse.hpp"

#include <nlohmann/json.hpp>

#include "components/syncthing/model.hpp"

namespace hasup::syncthing {

using nlohmann::json;

namespace {

std::optional<json> object(std::string_view body, std::string& error, const char* what) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    error = std::string(what) + ": not a JSON object";
    return std::nullopt;
  }
  return parsed;
}

bool number(const json& o, const char* key, std::int64_t& out, std::string& error, const char* what) {
  if (!o.contains(key) || !o[key].is_number()) {
    error = std::string(what) + ": no number " + key;
    return false;
  }
  double v = o[key].get<double>();
  if (v < 0) {
    error = std::string(what) + ": " + key + " is negative";
    return false;
  }
  out = static_cast<std::int64_t>(v);
  return true;
}

}  // namespace

Parsed<std::string> parse_my_id(std::string_view body) {
  Parsed<std::string> out;
  auto o = object(body, out.error, "system status");
  if (!o) return out;
  if (!o->contains("myID") || !(*o)["myID"].is_string() || !is_device_id((*o)["myID"].get<std::string>())) {
    out.error = "system status: myID is not a device id";
    return out;
  }
  out.value = (*o)["myID"].get<std::string>();
  return out;
}

Parsed<std::map<std::string, bool>> parse_connections(std::string_view body) {
  Parsed<std::map<std::string, bool>> out;
  auto o = object(body, out.error, "connections");
  if (!o) return out;
  if (!o->contains("connections") || !(*o)["connections"].is_object()) {
    out.error = "connections: no connections object";
    return out;
  }
  std::map<std::string, bool> result;
  for (const auto& [id, c] : (*o)["connections"].items()) {
    if (!is_device_id(id) || !c.is_object() || !c.contains("connected") || !c["connected"].is_boolean()) {
      out.error = "connections: an entry is not {device id: {connected: bool}}";
      return out;
    }
    result[id] = c["connected"].get<bool>();
  }
  out.value = std::move(result);
  return out;
}

Parsed<Completion> parse_completion(std::string_view body) {
  Parsed<Completion> out;
  auto o = object(body, out.error, "completion");
  if (!o) return out;
  Completion c;
  if (!o->contains("completion") || !(*o)["completion"].is_number()) {
    out.error = "completion: no number completion";
    return out;
  }
  c.percent = (*o)["completion"].get<double>();
  if (c.percent < 0 || c.percent > 100) {
    out.error = "completion: completion is not 0..100";
    return out;
  }
  if (!number(*o, "needItems", c.need_items, out.error, "completion") ||
      !number(*o, "needBytes", c.need_bytes, out.error, "completion") ||
      !number(*o, "needDeletes", c.need_deletes, out.error, "completion"))
    return out;
  out.value = c;
  return out;
}

Parsed<FolderStatus> parse_folder_status(std::string_view body) {
  Parsed<FolderStatus> out;
  auto o = object(body, out.error, "folder status");
  if (!o) return out;
  FolderStatus f;
  if (!o->contains("state") || !(*o)["state"].is_string()) {
    out.error = "folder status: no state";
    return out;
  }
  f.state = (*o)["state"].get<std::string>();
  if (o->contains("error") && (*o)["error"].is_string()) f.error = (*o)["error"].get<std::string>();
  std::int64_t files = 0, dirs = 0, symlinks = 0, deletes = 0;
  if (!number(*o, "needFiles", files, out.error, "folder status") ||
      !number(*o, "needDirectories", dirs, out.error, "folder status") ||
      !number(*o, "needSymlinks", symlinks, out.error, "folder status") ||
      !number(*o, "needDeletes", deletes, out.error, "folder status") ||
      !number(*o, "needBytes", f.need_bytes, out.error, "folder status"))
    return out;
  f.need_items = files + dirs + symlinks + deletes;
  if (o->contains("pullErrors") && (*o)["pullErrors"].is_number()) number(*o, "pullErrors", f.pull_errors, out.error, "folder status");
  out.error.clear();
  out.value = f;
  return out;
}

}  // namespace hasup::syncthing
