#include "components/upload-gate/syncthing_parse.hpp"

#include <nlohmann/json.hpp>

namespace hasup::upload_gate {

using nlohmann::json;

namespace {

template <class T>
Parsed<T> failed(std::string why) {
  Parsed<T> p;
  p.error = std::move(why);
  return p;
}

std::optional<json> parse_json(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string excerpt(const std::string& body) {
  std::string e = body.substr(0, 80);
  for (auto& c : e)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return "'" + e + (body.size() > 80 ? "...'" : "'");
}

bool is_bool(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean(); }

}  // namespace

Parsed<DbFile> parse_db_file(const std::string& body) {
  auto j = parse_json(body);
  if (!j || !j->is_object()) return failed<DbFile>("db/file: not a JSON object: " + excerpt(body));
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

Parsed<std::string> parse_my_id(const std::string& body) {
  auto j = parse_json(body);
  if (!j || !j->is_object() || !(*j)["myID"].is_string() || (*j)["myID"].get<std::string>().empty())
    return failed<std::string>("system/status: no myID in " + excerpt(body));
  return {(*j)["myID"].get<std::string>(), {}};
}

Parsed<std::vector<std::string>> parse_folder_devices(const std::string& body) {
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

Parsed<std::map<std::string, std::string>> parse_device_names(const std::string& body) {
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

Parsed<std::map<std::string, bool>> parse_connections(const std::string& body) {
  auto j = parse_json(body);
  if (!j || !j->is_object() || !(*j)["connections"].is_object())
    return failed<std::map<std::string, bool>>("system/connections: no connections object in " + excerpt(body));
  std::map<std::string, bool> connected;
  for (auto& [id, c] : (*j)["connections"].items()) {
    if (!c.is_object() || !is_bool(c, "connected"))
      return failed<std::map<std::string, bool>>("system/connections: no 'connected' flag for " + id);
    bool paused = is_bool(c, "paused") && c["paused"].get<bool>();
    connected[id] = c["connected"].get<bool>() && !paused;
  }
  return {connected, {}};
}

Parsed<Completion> parse_completion(const std::string& body) {
  auto j = parse_json(body);
  if (!j || !j->is_object()) return failed<Completion>("db/completion: not a JSON object: " + excerpt(body));
  for (const char* key : {"needItems", "needDeletes", "needBytes"})
    if (!(*j)[key].is_number_integer()) return failed<Completion>(std::string("db/completion: no ") + key);
  Completion c;
  c.need_items = (*j)["needItems"].get<std::int64_t>();
  c.need_deletes = (*j)["needDeletes"].get<std::int64_t>();
  c.need_bytes = (*j)["needBytes"].get<std::int64_t>();
  return {c, {}};
}

Parsed<std::set<std::string>> parse_remote_need(const std::string& body) {
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

Parsed<std::int64_t> parse_last_event_id(const std::string& body, std::int64_t since) {
  auto j = parse_json(body);
  if (!j || !j->is_array()) return failed<std::int64_t>("events: not a list: " + excerpt(body));
  std::int64_t last = since;
  for (auto& e : *j) {
    if (!e.is_object() || !e["id"].is_number_integer()) return failed<std::int64_t>("events: an event without id");
    last = std::max(last, e["id"].get<std::int64_t>());
  }
  return {last, {}};
}

}  // namespace hasup::upload_gate
