#pragma once
// Which paths under the replicated folder changed during which requests, from
// what the file system reported (inotify), never from what the upstream says.
//
// Every observed change gets a sequence number. A write request opens a window
// when it starts and closes it once the upstream has answered (the caller
// drains inotify first, so every change the upstream made before answering is
// recorded). The window's changes are every path changed while it was open:
// changes of concurrent requests land in each other's windows too, which only
// makes a request wait for more than it wrote (safe).
//
// Pure: no inotify here, so the windows are unit-tested on their own.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace hasup::upload_gate {

enum class ChangeKind {
  created,   // a new entry (file, directory, link), or one found listing a new directory
  written,   // file data written: it may still be open for writing
  closed,    // a file open for writing was closed
  removed,   // deleted or moved away
  attribute  // permissions, times
};

struct WindowChanges {
  std::vector<std::string> paths;  // relative to the folder, '/' separated, sorted
  // Events were lost (inotify queue overflow, too many paths): the paths are
  // not the whole truth, the whole folder must be checked.
  bool overflowed = false;
  // Paths still open for writing when the window closed (left out of `paths`):
  // the bytes they will hold did not exist when the upstream answered, so they
  // cannot be what the answer acknowledges; the window that sees them closed
  // waits for them.
  std::size_t still_writing = 0;
};

class ChangeLog {
 public:
  using WindowId = std::uint64_t;
  explicit ChangeLog(std::size_t max_paths = 100000) : max_paths_(max_paths) {}

  WindowId open();
  void record(const std::string& path, ChangeKind kind);
  // Events were lost: every open window overflows.
  void overflow();
  // Ends the window and returns what changed while it was open.
  WindowChanges close(WindowId id);

  std::size_t open_windows() const { return windows_.size(); }
  std::size_t tracked_paths() const { return paths_.size(); }

 private:
  struct PathEntry {
    std::uint64_t last_change = 0;
    bool writing = false;
  };
  struct Window {
    std::uint64_t first_change = 0;
    bool overflowed = false;
  };
  void forget_old();

  std::size_t max_paths_;
  std::uint64_t next_change_ = 1;
  WindowId next_window_ = 1;
  std::unordered_map<std::string, PathEntry> paths_;
  std::map<WindowId, Window> windows_;
};

}  // namespace hasup::upload_gate
