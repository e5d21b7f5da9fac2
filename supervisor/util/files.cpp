#include "supervisor/util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace hasup {

FileRead read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  if (status_error) return {{}, status_error.message()};
  if (!std::filesystem::is_regular_file(status)) return {{}, "not a regular file"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {{}, std::strerror(errno)};
  // In chunks, not into a buffer of the limit's size: the loop reads small
  // files every cycle, and zeroing a 1 MiB buffer each time was a fifth of an
  // idle supervisor's CPU (perf, 2026-12-03).
  std::string content;
  char chunk[16384];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    content.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (content.size() > max_bytes) return {{}, "larger than " + std::to_string(max_bytes) + " bytes"};
  }
  if (in.bad()) return {{}, "read failed"};
  return {std::move(content), {}};
}

std::optional<std::string> read_small_file(const std::string& path) {
  auto read = read_small_file(std::filesystem::path(path), kSmallFileLimit);
  if (!read.ok()) return std::nullopt;
  return std::move(read.content);
}

std::optional<std::chrono::system_clock::time_point> file_mtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  using namespace std::chrono;
  return system_clock::time_point(
      duration_cast<system_clock::duration>(seconds(st.st_mtim.tv_sec) + nanoseconds(st.st_mtim.tv_nsec)));
}

std::string touch_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
  std::string error;
  if (::futimens(fd, nullptr) != 0) error = "cannot set the time of " + path + ": " + std::strerror(errno);
  ::close(fd);
  return error;
}

std::string write_file_atomically(const std::string& path, const std::string& text, mode_t mode,
                                  std::optional<gid_t> group, std::optional<uid_t> owner) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(folder, ec);
  // Debris of a write a crash cut short: PATH.tmp.* beside it.
  const std::string debris_prefix = target.filename().string() + ".tmp.";
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.path().filename().string().rfind(debris_prefix, 0) == 0) ::unlink(entry.path().c_str());
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // O_CREAT|O_EXCL: never an existing file or link
  if (fd < 0) return "cannot write " + path + ".tmp.*: " + std::strerror(errno);
  auto fail = [&](const std::string& what) {
    std::string error = what + " " + tmp + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return error;
  };
  if (::fchmod(fd, mode) != 0) return fail("cannot set the mode of");
  if ((group || owner) && ::fchown(fd, owner.value_or(static_cast<uid_t>(-1)), group.value_or(static_cast<gid_t>(-1))) != 0)
    return fail("cannot set the owner or group of");
  for (std::size_t written = 0; written < text.size();) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  if (::close(fd) != 0) {
    std::string error = "cannot close " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return error;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return error;
  }
  // The rename is durable once the folder is.
  int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

std::string path_beside(const std::string& file, const std::string& name) {
  return (std::filesystem::path(file).parent_path() / name).string();
}

}  // namespace hasup
