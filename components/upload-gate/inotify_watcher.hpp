#pragma once
// Feeds the change log from inotify, recursively over the replicated folder.
//
// inotify watches one directory, not a tree: every directory gets its own
// watch, added when it appears. A file can be written into a new directory
// before its watch exists, so right after adding a watch the directory is
// listed and everything in it counts as changed.
//
// A directory whose watch cannot be added (the inotify watch limit,
// fs.inotify.max_user_watches, reached) would hide the writes into it: a write
// there would look like one that changed nothing and be answered at once,
// before any peer has the file. So while one is unwatched, every window says
// its changes are incomplete (overflowed: the whole folder is checked), and
// each closing window tries the missing watches again.
//
// Thread-safe: sessions open and close windows from any thread; the events are
// read on the io_context given to start() and, synchronously, by close_window()
// (a read after the upstream answered sees every event of the writes the
// upstream finished before answering).
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "components/upload-gate/change_log.hpp"

namespace hasup::upload_gate {

// syncthing's own files (.stfolder, .stignore, .stversions, its temp files):
// never replicated, never waited for.
bool is_syncthing_internal(const std::string& relative_path);

class InotifyWatcher {
 public:
  explicit InotifyWatcher(std::string root);
  ~InotifyWatcher();
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  // "" or why not (no inotify, root unreadable).
  std::string start(boost::asio::io_context& io);

  ChangeLog::WindowId open_window();
  WindowChanges close_window(ChangeLog::WindowId id);

  std::size_t watched_directories();
  std::size_t tracked_paths();
  // Directories whose watch could not be added (relative path -> why), until one is.
  std::map<std::string, std::string> unwatched_directories();

 private:
  void drain_locked();
  void handle_event_locked(int wd, std::uint32_t mask, const std::string& name);
  void watch_tree_locked(const std::string& relative_dir, bool count_contents);
  void retry_unwatched_locked();
  void wait_readable();

  std::string root_;
  int fd_ = -1;
  std::mutex mutex_;
  ChangeLog log_;
  std::unordered_map<int, std::string> directories_;  // watch descriptor -> path relative to root ("" for root)
  std::map<std::string, std::string> unwatched_;      // relative path -> why its watch failed
  std::unique_ptr<boost::asio::posix::stream_descriptor> readable_;
};

}  // namespace hasup::upload_gate
