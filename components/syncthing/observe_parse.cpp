#include "components/syncthing/observe_parse.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "components/syncthing/model.hpp"

namespace hasup::syncthing {

using nlohmann::json;

namespace {

template <class T>
Parsed<T> failed(std::string why) {
  Parsed<T> p;
  p.error = std::move(why);
  return p;
}

// The start of an answer that is not what was asked for, for the error.
std::string excerpt(std::string_view body) {
  std::string e(body.substr(0, 80));
  for (auto& c : e)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return "'" + e + (body.size() > 80 ? "...'" : "'");
}

std::optional<json> parse_json(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<json> object(std::string_view body, std::string& error, const char* what) {
  auto j = parse_json(body);
  if (!j || !j->is_object()) {
    error = std::string(what) + ": not a JSON object: " + excerpt(body);
    return std::nullopt;
  }
  return j;
}

bool is_bool(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean(); }

// A count syncthing reports: a whole number, not negative.
bool count(const json& o, const char* key, std::int64_t& out, std::string& error, const char* what) {
  if (!o.contains(key) || !o[key].is_number_integer()) {
    error = std::string(what) + ": no whole number " + key;
    return false;
  }
  const auto v = o[key].get<std::int64_t>();
  if (v < 0) {
    error = std::string(what) + ": " + key + " is negative";
    return false;
  }
  out = v;
  return true;
}

}  // namespace

Parsed<std::string> parse_my_id(std::string_view body) {
  Parsed<std::string> out;
  auto o = object(body, out.error, "system/status");
  if (!o) return out;
  if (!o->contains("myID") || !(*o)["myID"].is_string() || !is_device_id((*o)["myID"].get<std::string>())) {
    out.error = "system/status: myID is not a device id in " + excerpt(body);
    return out;
  }
  out.value = (*o)["myID"].get<std::string>();
  return out;
}

Parsed<std::map<std::string, bool>> parse_connections(std::string_view body) {
  Parsed<std::map<std::string, bool>> out;
  auto o = object(body, out.error, "system/connections");
  if (!o) return out;
  if (!o->contains("connections") || !(*o)["connections"].is_object()) {
    out.error = "system/connections: no connections object in " + excerpt(body);
    return out;
  }
  std::map<std::string, bool> result;
  for (const auto& [id, c] : (*o)["connections"].items()) {
    if (!is_device_id(id) || !c.is_object() || !is_bool(c, "connected")) {
      out.error = "system/connections: an entry is not {device id: {connected: bool}}";
      return out;
    }
    const bool paused = is_bool(c, "paused") && c["paused"].get<bool>();
    result[id] = c["connected"].get<bool>() && !paused;
  }
  out.value = std::move(result);
  return out;
}

Parsed<Completion> parse_completion(std::string_view body) {
  Parsed<Completion> out;
  auto o = object(body, out.error, "db/completion");
  if (!o) return out;
  Completion c;
  if (!o->contains("completion") || !(*o)["completion"].is_number()) {
    out.error = "db/completion: no number completion";
    return out;
  }
  c.percent = (*o)["completion"].get<double>();
  if (c.percent < 0 || c.percent > 100) {
    out.error = "db/completion: completion is not 0..100";
    return out;
  }
  if (!count(*o, "needItems", c.need_items, out.error, "db/completion") ||
      !count(*o, "needBytes", c.need_bytes, out.error, "db/completion") ||
      !count(*o, "needDeletes", c.need_deletes, out.error, "db/completion"))
    return out;
  out.value = c;
  return out;
}

Parsed<FolderStatus> parse_folder_status(std::string_view body) {
  Parsed<FolderStatus> out;
  auto o = object(body, out.error, "db/status");
  if (!o) return out;
  FolderStatus f;
  if (!o->contains("state") || !(*o)["state"].is_string()) {
    out.error = "db/status: no state";
    return out;
  }
  f.state = (*o)["state"].get<std::string>();
  if (o->contains("error") && (*o)["error"].is_string()) f.error = (*o)["error"].get<std::string>();
  std::int64_t files = 0, dirs = 0, symlinks = 0, deletes = 0;
  if (!count(*o, "needFiles", files, out.error, "db/status") ||
      !count(*o, "needDirectories", dirs, out.error, "db/status") ||
      !count(*o, "needSymlinks", symlinks, out.error, "db/status") ||
      !count(*o, "needDeletes", deletes, out.error, "db/status") ||
      !count(*o, "needBytes", f.need_bytes, out.error, "db/status"))
    return out;
  // Four counts that each fit can overflow together: 4 x 2^62 wraps to 0, a
  // folder with nothing left to apply (seen writing tests/fuzz/syncthing_rest.cpp).
  if (__builtin_add_overflow(files, dirs, &f.need_items) || __builtin_add_overflow(f.need_items, symlinks, &f.need_items) ||
      __builtin_add_overflow(f.need_items, deletes, &f.need_items)) {
    out.error = "db/status: needFiles + needDirectories + needSymlinks + needDeletes is over 2^63";
    return out;
  }
  // Optional: a malformed pullErrors leaves it 0 rather than losing the status.
  if (o->contains("pullErrors") && (*o)["pullErrors"].is_number()) count(*o, "pullErrors", f.pull_errors, out.error, "db/status");
  out.error.clear();
  out.value = f;
  return out;
}

Parsed<DbFile> parse_db_file(std::string_view body) {
  std::string error;
  auto j = object(body, error, "db/file");
  if (!j) return failed<DbFile>(error);
  auto& local = (*j)["local"];
  auto& global = (*j)["global"];
  if (!local.is_object() || !global.is_object() || !local["version"].is_array() || !global["version"].is_array() ||
      !is_bool(local, "deleted") || !is_bool(global, "deleted"))
    return failed<DbFile>("db/file: no local/global version and deleted flag");
  DbFile file;
  file.local_deleted = local["deleted"].get<bool>();
  file.local_invalid = (is_bool(local, "invalid") && local["invalid"].get<bool>()) ||
                       (is_bool(local, "ignored") && local["ignored"].get<bool>());
  file.version = local["version"].dump();
  file.local_is_global = local["version"] == global["version"] && file.local_deleted == global["deleted"].get<bool>();
  auto& availability = (*j)["availability"];
  if (availability.is_array()) {
    for (auto& a : availability) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_string())
        return failed<DbFile>("db/file: availability entry without an id");
      // A peer serving from a temporary file does not have the finished file yet.
      if (a.contains("fromTemporary") && a["fromTemporary"].is_boolean() && a["fromTemporary"].get<bool>()) continue;
      file.available_on.push_back(a["id"].get<std::string>());
    }
  } else if (!availability.is_null()) {
    return failed<DbFile>("db/file: availability is neither a list nor null");
  }
  return {file, {}};
}

Parsed<std::vector<std::string>> parse_folder_devices(std::string_view body) {
  auto j = parse_json(body);
  if (!j || !j->is_object() || !(*j)["devices"].is_array())
    return failed<std::vector<std::string>>("config/folders: no device list in " + excerpt(body));
  std::vector<std::string> ids;
  for (auto& d : (*j)["devices"]) {
    if (!d.is_object() || !d["deviceID"].is_string())
      return failed<std::vector<std::string>>("config/folders: a device without deviceID");
    ids.push_back(d["deviceID"].get<std::string>());
  }
  return {ids, {}};
}

Parsed<std::map<std::string, std::string>> parse_device_names(std::string_view body) {
  auto j = parse_json(body);
  if (!j || !j->is_array()) return failed<std::map<std::string, std::string>>("config/devices: not a list: " + excerpt(body));
  std::map<std::string, std::string> names;
  for (auto& d : *j) {
    if (!d.is_object() || !d["deviceID"].is_string())
      return failed<std::map<std::string, std::string>>("config/devices: a device without deviceID");
    std::string id = d["deviceID"].get<std::string>();
    std::string name = d["name"].is_string() ? d["name"].get<std::string>() : "";
    // Names go into response headers: keep them printable, else use the id's first block.
    bool printable = !name.empty();
    for (unsigned char c : name)
      if (c < 0x21 || c > 0x7e || c == ',') printable = false;
    names[id] = printable ? name : id.substr(0, 7);
  }
  return {names, {}};
}

Parsed<std::set<std::string>> parse_remote_need(std::string_view body) {
  auto j = parse_json(body);
  if (!j || !j->is_object() || !(*j)["files"].is_array())
    return failed<std::set<std::string>>("db/remoteneed: no file list in " + excerpt(body));
  std::set<std::string> names;
  for (auto& f : (*j)["files"]) {
    if (!f.is_object() || !f["name"].is_string()) return failed<std::set<std::string>>("db/remoteneed: a file without name");
    names.insert(f["name"].get<std::string>());
  }
  return {names, {}};
}

Parsed<std::vector<ConfigDevice>> parse_config_devices(std::string_view body) {
  std::string error;
  auto j = object(body, error, "config");
  if (!j) return failed<std::vector<ConfigDevice>>(error);
  if (!j->contains("devices") || !(*j)["devices"].is_array())
    return failed<std::vector<ConfigDevice>>("config: not a syncthing config (no devices list)");
  std::vector<ConfigDevice> devices;
  for (auto& d : (*j)["devices"]) {
    if (!d.is_object() || !d.contains("deviceID") || !d["deviceID"].is_string() || d["deviceID"].get<std::string>().empty())
      return failed<std::vector<ConfigDevice>>("config: a device without deviceID");
    devices.push_back({d["deviceID"].get<std::string>(), d.contains("name") && d["name"].is_string() ? d["name"].get<std::string>() : ""});
  }
  return {devices, {}};
}

Parsed<bool> parse_restart_required(std::string_view body) {
  std::string error;
  auto j = object(body, error, "config/restart-required");
  if (!j) return failed<bool>(error);
  if (!is_bool(*j, "requiresRestart")) return failed<bool>("config/restart-required: no requiresRestart");
  return {(*j)["requiresRestart"].get<bool>(), {}};
}

Parsed<std::int64_t> parse_last_event_id(std::string_view body, std::int64_t since) {
  auto j = parse_json(body);
  if (!j || !j->is_array()) return failed<std::int64_t>("events: not a list: " + excerpt(body));
  std::int64_t last = since;
  for (auto& e : *j) {
    if (!e.is_object() || !e["id"].is_number_integer()) return failed<std::int64_t>("events: an event without id");
    last = std::max(last, e["id"].get<std::int64_t>());
  }
  return {last, {}};
}

}  // namespace hasup::syncthing
