#pragma once
// Parsers of what syncthing's REST API (1.19) reports: the one set for the
// supervisor's snapshot and the upload gate. Pure: the unit tests feed JSON
// captured from a real syncthing 1.19.2. Each returns the whole answer or an
// error naming what is wrong: a garbled answer is reported, never half used,
// and never reads as "replicated".
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hasup::syncthing {

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // when !value
};

// GET /rest/system/status -> myID (a well-formed device id).
Parsed<std::string> parse_my_id(std::string_view body);

// GET /rest/system/connections -> device id -> connected. A paused device
// counts as not connected: nothing is exchanged with it.
Parsed<std::map<std::string, bool>> parse_connections(std::string_view body);

// GET /rest/db/completion?folder=F&device=D: how far a peer is from the
// folder's global state.
struct Completion {
  double percent = 0;  // 0..100
  std::int64_t need_items = 0;
  std::int64_t need_bytes = 0;
  std::int64_t need_deletes = 0;
  bool complete() const { return need_items == 0 && need_deletes == 0 && need_bytes == 0; }
  bool operator==(const Completion&) const = default;
};
Parsed<Completion> parse_completion(std::string_view body);

// GET /rest/db/status?folder=F: this node's own view of the folder.
struct FolderStatus {
  std::string state;            // idle, scanning, syncing, error, ...
  std::string error;            // the folder's own error ("folder marker missing", ...), empty when none
  std::int64_t need_items = 0;  // files, directories, symlinks and deletes this node still has to apply
  std::int64_t need_bytes = 0;
  std::int64_t pull_errors = 0;
  bool operator==(const FolderStatus&) const = default;
};
Parsed<FolderStatus> parse_folder_status(std::string_view body);

// GET /rest/db/file?folder=F&file=P (200 only; 404 means "never indexed").
struct DbFile {
  bool local_is_global = false;  // local version vector == global one, same deletion state
  bool local_deleted = false;
  bool local_invalid = false;    // ignored or unreadable here: never sent to peers
  std::string version;           // the local version vector, as one comparable string
  std::vector<std::string> available_on;  // connected peers holding the global version
};
Parsed<DbFile> parse_db_file(std::string_view body);

// GET /rest/config/folders/F: the ids of the devices the folder is shared with.
Parsed<std::vector<std::string>> parse_folder_devices(std::string_view body);

// GET /rest/config/devices: id -> name; a name that could not go into a
// response header as it is becomes the id's first block.
Parsed<std::map<std::string, std::string>> parse_device_names(std::string_view body);

// GET /rest/db/remoteneed?folder=F&device=ID: the names the peer still needs.
// A deletion is on a peer when the peer holds the deleted version (db/file
// availability) or does not need it: syncthing's Need() never asks a device to
// delete a file it never had, so such a peer never shows in the availability.
Parsed<std::set<std::string>> parse_remote_need(std::string_view body);

// GET /rest/config: the whole config's devices (id and name as written).
// Refused unless it is an object with a list of devices that all have an id.
struct ConfigDevice {
  std::string id;
  std::string name;
  bool operator==(const ConfigDevice&) const = default;
};
Parsed<std::vector<ConfigDevice>> parse_config_devices(std::string_view body);

// GET /rest/config/restart-required: whether the config just applied needs a restart.
Parsed<bool> parse_restart_required(std::string_view body);

// GET /rest/events?events=...&since=N: the highest event id (or `since` when none).
Parsed<std::int64_t> parse_last_event_id(std::string_view body, std::int64_t since);

}  // namespace hasup::syncthing
