#pragma once
// syncthing 1.19 REST answers, parsed into plain values. Pure: the unit tests
// feed JSON captured from a real syncthing 1.19.2. Every parser says why an
// answer is unusable instead of guessing: a garbled answer must never read as
// "replicated".
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hasup::upload_gate {

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // when !value
};

// GET /rest/db/file?folder=F&file=P (200 only; 404 means "never indexed").
struct DbFile {
  bool local_is_global = false;  // local version vector == global one, same deletion state
  bool local_deleted = false;
  bool local_invalid = false;    // ignored or unreadable here: never sent to peers
  std::string version;           // the local version vector, as one comparable string
  std::vector<std::string> available_on;  // connected peers holding the global version
};
Parsed<DbFile> parse_db_file(const std::string& body);

// GET /rest/system/status
Parsed<std::string> parse_my_id(const std::string& body);

// GET /rest/config/folders/F: the ids of the devices the folder is shared with.
Parsed<std::vector<std::string>> parse_folder_devices(const std::string& body);

// GET /rest/config/devices: id -> name.
Parsed<std::map<std::string, std::string>> parse_device_names(const std::string& body);

// GET /rest/system/connections: id -> connected.
Parsed<std::map<std::string, bool>> parse_connections(const std::string& body);

// GET /rest/db/completion?folder=F&device=ID
struct Completion {
  std::int64_t need_items = 0;
  std::int64_t need_deletes = 0;
  std::int64_t need_bytes = 0;
  bool complete() const { return need_items == 0 && need_deletes == 0 && need_bytes == 0; }
};
Parsed<Completion> parse_completion(const std::string& body);

// GET /rest/db/remoteneed?folder=F&device=ID: the names the peer still needs.
// A deletion is on a peer when the peer holds the deleted version (db/file
// availability) or does not need it: syncthing's Need() never asks a device to
// delete a file it never had, so such a peer never shows in the availability.
Parsed<std::set<std::string>> parse_remote_need(const std::string& body);

// GET /rest/events?events=...&since=N: the highest event id (or `since` when none).
Parsed<std::int64_t> parse_last_event_id(const std::string& body, std::int64_t since);

}  // namespace hasup::upload_gate
