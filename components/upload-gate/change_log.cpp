#include "components/upload-gate/change_log.hpp"

#include <algorithm>

namespace hasup::upload_gate {

ChangeLog::WindowId ChangeLog::open() {
  WindowId id = next_window_++;
  windows_[id] = Window{next_change_, false};
  return id;
}

void ChangeLog::record(const std::string& path, ChangeKind kind) {
  // With no window open nobody waits for a change: keeping it would only grow
  // the log (syncthing pulling from peers writes here all the time).
  if (windows_.empty()) return;
  auto& entry = paths_[path];
  entry.last_change = next_change_++;
  switch (kind) {
    case ChangeKind::written: entry.writing = true; break;
    case ChangeKind::closed:
    case ChangeKind::removed: entry.writing = false; break;
    case ChangeKind::created:
    case ChangeKind::attribute: break;
  }
  if (paths_.size() > max_paths_) overflow();
}

void ChangeLog::overflow() {
  for (auto& [id, window] : windows_) window.overflowed = true;
  // The paths are of no use to an overflowed window; drop them to bound memory.
  // A later window must not inherit stale "writing" flags either.
  paths_.clear();
}

WindowChanges ChangeLog::close(WindowId id) {
  WindowChanges changes;
  auto it = windows_.find(id);
  if (it == windows_.end()) return changes;
  // Every recorded change has a number below next_change_ (the caller drained
  // the events first), so "changed at or after the window opened" is exactly
  // "changed while the window was open".
  changes.overflowed = it->second.overflowed;
  for (const auto& [path, entry] : paths_) {
    if (entry.last_change < it->second.first_change) continue;
    if (entry.writing) {
      ++changes.still_writing;
      continue;
    }
    changes.paths.push_back(path);
  }
  std::sort(changes.paths.begin(), changes.paths.end());
  windows_.erase(it);
  forget_old();
  return changes;
}

// Changes older than every open window can never be asked for again. A path
// still open for writing is kept: its close (a later change) is what matters,
// and its "writing" flag must survive until then.
void ChangeLog::forget_old() {
  if (windows_.empty()) {
    paths_.clear();
    return;
  }
  std::uint64_t oldest = next_change_;
  for (const auto& [id, window] : windows_) oldest = std::min(oldest, window.first_change);
  for (auto it = paths_.begin(); it != paths_.end();) {
    if (it->second.last_change < oldest && !it->second.writing)
      it = paths_.erase(it);
    else
      ++it;
  }
}

}  // namespace hasup::upload_gate
