#include "components/upload-gate/inotify_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace hasup::upload_gate {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kWatchMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

std::string join(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool is_syncthing_internal(const std::string& relative_path) {
  std::size_t begin = 0;
  bool first = true;
  while (begin <= relative_path.size()) {
    auto end = relative_path.find('/', begin);
    if (end == std::string::npos) end = relative_path.size();
    std::string part = relative_path.substr(begin, end - begin);
    if (part == ".stfolder" || part == ".stversions") return true;
    if (first && part == ".stignore") return true;
    if (starts_with(part, ".syncthing.") && ends_with(part, ".tmp")) return true;
    if (starts_with(part, "~syncthing~") && ends_with(part, ".tmp")) return true;
    first = false;
    begin = end + 1;
  }
  return false;
}

InotifyWatcher::InotifyWatcher(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

InotifyWatcher::~InotifyWatcher() {
  if (readable_) {
    boost::system::error_code ignored;
    readable_->close(ignored);  // closes fd_
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string InotifyWatcher::start(boost::asio::io_context& io) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return std::string("inotify_init1: ") + std::strerror(errno);
  {
    std::lock_guard lock(mutex_);
    int wd = inotify_add_watch(fd_, root_.c_str(), kWatchMask);
    if (wd < 0) return "cannot watch " + root_ + ": " + std::strerror(errno);
    directories_[wd] = "";
    watch_tree_locked("", false);
  }
  readable_ = std::make_unique<boost::asio::posix::stream_descriptor>(io, fd_);
  wait_readable();
  return {};
}

void InotifyWatcher::wait_readable() {
  readable_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      drain_locked();
    }
    wait_readable();
  });
}

ChangeLog::WindowId InotifyWatcher::open_window() {
  std::lock_guard lock(mutex_);
  return log_.open();
}

WindowChanges InotifyWatcher::close_window(ChangeLog::WindowId id) {
  std::lock_guard lock(mutex_);
  drain_locked();
  retry_unwatched_locked();
  WindowChanges changes = log_.close(id);
  if (!unwatched_.empty()) changes.overflowed = true;
  return changes;
}

std::map<std::string, std::string> InotifyWatcher::unwatched_directories() {
  std::lock_guard lock(mutex_);
  return unwatched_;
}

// Everything in a directory watched late counts as changed: writes into it
// before its watch existed made no event.
void InotifyWatcher::retry_unwatched_locked() {
  if (unwatched_.empty()) return;
  const auto missing = unwatched_;
  for (const auto& [dir, why] : missing) watch_tree_locked(dir, true);
  if (unwatched_.empty()) spdlog::info("inotify: every directory is watched again");
}

std::size_t InotifyWatcher::watched_directories() {
  std::lock_guard lock(mutex_);
  return directories_.size();
}

std::size_t InotifyWatcher::tracked_paths() {
  std::lock_guard lock(mutex_);
  return log_.tracked_paths();
}

void InotifyWatcher::drain_locked() {
  alignas(inotify_event) char buffer[64 * 1024];
  while (true) {
    ssize_t got = ::read(fd_, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;  // EAGAIN: nothing more queued
    for (char* p = buffer; p < buffer + got;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      std::string name = event->len ? std::string(event->name) : std::string();
      handle_event_locked(event->wd, event->mask, name);
      p += sizeof(inotify_event) + event->len;
    }
  }
}

void InotifyWatcher::handle_event_locked(int wd, std::uint32_t mask, const std::string& name) {
  if (mask & IN_Q_OVERFLOW) {
    spdlog::warn("inotify queue overflowed: writes in flight fall back to checking the whole folder");
    log_.overflow();
    return;
  }
  if (mask & IN_IGNORED) {
    directories_.erase(wd);
    return;
  }
  auto dir = directories_.find(wd);
  if (dir == directories_.end() || name.empty()) return;
  std::string path = join(dir->second, name);
  if (is_syncthing_internal(path)) return;

  if (mask & (IN_DELETE | IN_MOVED_FROM)) {
    log_.record(path, ChangeKind::removed);
  } else if (mask & (IN_CREATE | IN_MOVED_TO)) {
    log_.record(path, ChangeKind::created);
    // A directory moved in keeps the watch descriptors of its subdirectories
    // (same inodes): adding them again returns the same descriptors and
    // corrects their paths.
    if (mask & IN_ISDIR) watch_tree_locked(path, true);
  } else if (mask & IN_CLOSE_WRITE) {
    log_.record(path, ChangeKind::closed);
  } else if (mask & IN_MODIFY) {
    log_.record(path, ChangeKind::written);
  } else if (mask & IN_ATTRIB) {
    log_.record(path, ChangeKind::attribute);
  }
}

// Watches `relative_dir` and every directory below; with count_contents every
// entry found is recorded as created (it may have been written before the
// watch existed, so no event for it would ever come).
void InotifyWatcher::watch_tree_locked(const std::string& relative_dir, bool count_contents) {
  std::string absolute = relative_dir.empty() ? root_ : root_ + "/" + relative_dir;
  if (!relative_dir.empty()) {
    int wd = inotify_add_watch(fd_, absolute.c_str(), kWatchMask);
    if (wd < 0 && (errno == ENOENT || errno == ENOTDIR)) {  // gone again, or not a directory any more
      unwatched_.erase(relative_dir);
      return;
    }
    if (wd < 0) {
      std::string why = std::strerror(errno);
      if (errno == ENOSPC) why += " (the inotify watch limit, fs.inotify.max_user_watches, is reached)";
      if (unwatched_.emplace(relative_dir, why).second)
        spdlog::error("inotify: cannot watch {}: {}: until it is watched, every write waits until the whole "
                      "folder is in sync",
                      absolute, why);
      return;
    }
    unwatched_.erase(relative_dir);
    directories_[wd] = relative_dir;
  }
  std::error_code ec;
  fs::directory_iterator it(absolute, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string path = join(relative_dir, name);
    if (is_syncthing_internal(path)) continue;
    if (count_contents) log_.record(path, ChangeKind::created);
    std::error_code type_ec;
    if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) watch_tree_locked(path, count_contents);
  }
}

}  // namespace hasup::upload_gate
