#pragma once
// A filesystem's room, and the one rule that calls it full, for every volume
// the supervisor watches: the database's (a full primary still answers and
// holds its role while every write that needs a new block fails: the leader
// hands the primary over, components/switchover/decide.cpp) and the
// replicated files' (a full IP holder takes every upload and fails it: the
// node counts itself unfit, components/syncthing/decide.cpp).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace hasup::util {

struct FilesystemSpace {
  std::uint64_t free_bytes = 0;  // what an unprivileged writer (PostgreSQL, the REST service) may still use
  std::uint64_t total_bytes = 0;
  bool operator==(const FilesystemSpace&) const = default;
};

struct FilesystemSpaceRead {
  std::optional<FilesystemSpace> space;
  std::string error;  // why none: the filesystem could not be asked
  bool operator==(const FilesystemSpaceRead&) const = default;
};
// statvfs of the directory, or of its parent while it does not exist yet
// (the database's before the first base backup or initdb) or cannot be
// searched (the supervisor keeps no CAP_DAC_READ_SEARCH, and Patroni's
// directory is postgres's alone): the same filesystem unless the directory
// itself is a mount point.
FilesystemSpaceRead read_filesystem_space(const std::string& dir);

// Full below 64 MiB: PostgreSQL needs a 16 MiB WAL segment and the blocks of
// the next rows, an upload its whole size; a volume that small is out of room
// for an appliance. Full stays full until 256 MiB are free again, so a
// filesystem hovering at the mark does not flap (nor what it leads to: a
// switchover, the floating IP moving).
inline constexpr std::uint64_t kFullBelowBytes = 64ull << 20;
inline constexpr std::uint64_t kRoomAgainBytes = 256ull << 20;
bool filesystem_full(const FilesystemSpace& space, bool was_full);

// "12.0 MiB free of 2.0 GiB"
std::string filesystem_space_text(const FilesystemSpace& space);

// As the status API shows it: {"free_bytes", "total_bytes", "text"} or {"error"}.
nlohmann::json filesystem_space_json(const FilesystemSpaceRead& read);

}  // namespace hasup::util
