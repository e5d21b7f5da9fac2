#include "supervisor/util/filesystem_space.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace hasup::util {

FilesystemSpaceRead read_filesystem_space(const std::string& dir) {
  FilesystemSpaceRead out;
  if (dir.empty()) {
    out.error = "no directory configured";
    return out;
  }
  struct statvfs st {};
  std::string path = dir;
  int rc = ::statvfs(path.c_str(), &st);
  if (rc != 0 && (errno == ENOENT || errno == EACCES)) {
    path = std::filesystem::path(dir).parent_path().string();
    rc = path.empty() ? -1 : ::statvfs(path.c_str(), &st);
  }
  if (rc != 0) {
    out.error = "statvfs " + path + ": " + std::strerror(errno);
    return out;
  }
  out.space = FilesystemSpace{static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize,
                        static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize};
  return out;
}

bool filesystem_full(const FilesystemSpace& space, bool was_full) {
  return space.free_bytes < (was_full ? kRoomAgainBytes : kFullBelowBytes);
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

std::string filesystem_space_text(const FilesystemSpace& space) {
  return bytes_text(space.free_bytes) + " free of " + bytes_text(space.total_bytes);
}

nlohmann::json filesystem_space_json(const FilesystemSpaceRead& read) {
  if (!read.space) return {{"error", read.error}};
  return {{"free_bytes", read.space->free_bytes}, {"total_bytes", read.space->total_bytes},
          {"text", filesystem_space_text(*read.space)}};
}

}  // namespace hasup::util
