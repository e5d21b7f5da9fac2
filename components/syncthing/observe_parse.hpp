#pragma once
// Parsers of what syncthing's REST API reports, for the supervisor's snapshot.
// Each returns the whole answer or an error naming what is wrong: a garbled
// answer is reported, never half used.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hasup::syncthing {

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;
};

// GET /rest/system/status -> myID
Parsed<std::string> parse_my_id(std::string_view body);

// GET /rest/system/connections -> device id -> connected
Parsed<std::map<std::string, bool>> parse_connections(std::string_view body);

// GET /rest/db/completion?folder=F&device=D: how far a peer is from the
// folder's global state.
struct Completion {
  double percent = 0;  // 0..100
  std::int64_t need_items = 0;
  std::int64_t need_bytes = 0;
  std::int64_t need_deletes = 0;
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

}  // namespace hasup::syncthing
