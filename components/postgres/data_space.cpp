#include "components/postgres/data_space.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace hasup::db {

DataSpaceRead read_data_space(const std::string& data_dir) {
  DataSpaceRead out;
  if (data_dir.empty()) {
    out.error = "no data directory configured";
    return out;
  }
  struct statvfs st {};
  std::string path = data_dir;
  int rc = ::statvfs(path.c_str(), &st);
  if (rc != 0 && (errno == ENOENT || errno == EACCES)) {
    path = std::filesystem::path(data_dir).parent_path().string();
    rc = path.empty() ? -1 : ::statvfs(path.c_str(), &st);
  }
  if (rc != 0) {
    out.error = "statvfs " + path + ": " + std::strerror(errno);
    return out;
  }
  out.space = DataSpace{static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize,
                        static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize};
  return out;
}

bool data_full(const DataSpace& space, bool was_full) {
  return space.free_bytes < (was_full ? kDataRoomAgainBytes : kDataFullBelowBytes);
}

namespace {
std::string bytes_text(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}
}  // namespace

std::string data_space_text(const DataSpace& space) {
  return bytes_text(space.free_bytes) + " free of " + bytes_text(space.total_bytes);
}

}  // namespace hasup::db
