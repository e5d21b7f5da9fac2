#pragma once
// The database's filesystem: how much room it has, and the one rule that calls
// it full. A primary whose filesystem is full still answers and holds its
// role, but every write that needs a new block fails ("could not extend file
// ...: No space left on device"): nobody else notices, so the supervisor
// says so in the member record and the leader hands the primary to a
// synchronous standby with room (components/switchover/decide.cpp).
#include <cstdint>
#include <optional>
#include <string>

namespace hasup::db {

struct DataSpace {
  std::uint64_t free_bytes = 0;   // what an unprivileged writer (PostgreSQL) may still use
  std::uint64_t total_bytes = 0;
  bool operator==(const DataSpace&) const = default;
};

struct DataSpaceRead {
  std::optional<DataSpace> space;
  std::string error;  // why none: the filesystem could not be asked
};
// statvfs of the data directory, or of its parent while it does not exist
// yet (before the first base backup or initdb) or cannot be searched (the
// supervisor keeps no CAP_DAC_READ_SEARCH, and Patroni's directory is
// postgres's alone): the same filesystem unless the data directory itself is
// a mount point.
DataSpaceRead read_data_space(const std::string& data_dir);

// Full below 64 MiB: PostgreSQL needs a 16 MiB WAL segment and the blocks of
// the next rows; a volume that small is out of room for an appliance. Full
// stays full until 256 MiB are free again, so a filesystem hovering at the
// mark does not flap the member record (and the switchover it leads to).
inline constexpr std::uint64_t kDataFullBelowBytes = 64ull << 20;
inline constexpr std::uint64_t kDataRoomAgainBytes = 256ull << 20;
bool data_full(const DataSpace& space, bool was_full);

// "12.0 MiB free of 2.0 GiB"
std::string data_space_text(const DataSpace& space);

}  // namespace hasup::db
