#include "supervisor/util/files.hpp"

#include <fcntl.h>
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

std::string write_file_atomically(const std::string& path, const std::string& text, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return "cannot write " + tmp + ": " + std::strerror(errno);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return error;
  }
  return {};
}

}  // namespace hasup
