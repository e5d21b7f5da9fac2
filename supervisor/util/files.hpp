#pragma once
// Small local files: the config and its token file, rendered configs, track
// files. Read in one place, with a size limit and a reason when they cannot be.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace hasup {

struct FileRead {
  std::string content;
  std::string problem;  // empty when content was read: "not a regular file", "larger than N bytes", ...
  bool ok() const { return problem.empty(); }
};

// The whole file if it is a regular file of at most `max_bytes`. Only regular
// files: a FIFO or a device given by mistake would block or never end.
FileRead read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

// What the loop reads (templates, rendered configs, track files) stays far below this.
inline constexpr std::size_t kSmallFileLimit = 1 << 20;

// read_small_file(path, kSmallFileLimit)'s content, or nullopt, for callers
// that only ask "is it there, and what does it say".
std::optional<std::string> read_small_file(const std::string& path);

// Whole or not at all: a reader never sees a half-written file, nor one with
// the wrong mode or group. A new temp file beside it (a random name, opened
// O_EXCL|O_NOFOLLOW: nothing planted there is followed or reused), given its
// mode and group, fsynced, renamed over the path, and the folder fsynced. Temp
// files a crash left beside the path are removed first (one writer per path).
// `group`, `owner`: the file's group and owner (CAP_CHOWN); nullopt leaves
// them as made. Returns "" or what went wrong.
std::string write_file_atomically(const std::string& path, const std::string& text, mode_t mode,
                                  std::optional<gid_t> group = std::nullopt, std::optional<uid_t> owner = std::nullopt);

// `name` in the folder that holds `file`: the supervisor keeps its own state
// files (copies of Consul's records) beside its memory of the cluster's nodes.
std::string path_beside(const std::string& file, const std::string& name);

// The file's modification time (CLOCK_REALTIME, as systemd's timestamps);
// nullopt when it cannot be read.
std::optional<std::chrono::system_clock::time_point> file_mtime(const std::string& path);

// Sets the file's modification time to now, making it (mode 0644) when it is
// missing; a symbolic link there is refused, not followed. "" or what went wrong.
std::string touch_file(const std::string& path);

}  // namespace hasup
