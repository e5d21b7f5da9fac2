#include "supervisor/loop/stale_file.hpp"

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"
#include "supervisor/util/files.hpp"

namespace hasup::loop {

// Only "active": starting, the daemon reads the file anyway; reloading, it is
// reading it now (the state change that ends it will be newer than the file).
bool daemon_may_run_an_older_file(std::optional<WallTime> file_written, std::optional<WallTime> unit_state_changed,
                                  std::string_view active_state) {
  return file_written && unit_state_changed && active_state == "active" && *unit_state_changed < *file_written;
}

CatchUp decide_catch_up(std::string_view daemon, const ConfigFileState& file, const std::string& unit, bool busy,
                        const std::string& held_by, const Snapshot& s, Plan& plan) {
  if (!s.units_connected) return {};
  auto view = s.units.find(unit);
  if (view == s.units.end() ||
      !daemon_may_run_an_older_file(file.written, view->second.state_changed, view->second.active_state))
    return {};
  const std::string name(daemon);
  const std::string found = name + ": the file was written after " + name +
                            " last (re)loaded (the supervisor stopped between write and reload?)";
  if (busy) return {false, found + ": reloading once the running job ends"};
  if (file.since_catch_up && *file.since_catch_up < kCatchUpSpacing) {
    plan.wake_within(kCatchUpSpacing - *file.since_catch_up);
    // No countdown: the reason is logged whenever it changes.
    return {false, found + ": " +
                       (file.catch_up_error.empty() ? "reloaded, yet its state change is still older than the file"
                                                    : "the reload failed (" + file.catch_up_error + ")") +
                       "; next try " + std::to_string(kCatchUpSpacing.count() / 1000) + " s after the last"};
  }
  if (!held_by.empty()) return {false, found + ": reloading once " + held_by};
  return {true, found + ": reloading"};
}

void CatchUpRecord::ended(const std::string& error) {
  if (error.empty()) ++reloads_;
  error_ = error;
  ended_at_ = std::chrono::steady_clock::now();
}

ConfigFileState CatchUpRecord::observe(const std::string& path) const {
  ConfigFileState state;
  state.written = file_mtime(path);
  state.catch_up_reloads = reloads_;
  if (ended_at_)
    state.since_catch_up =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *ended_at_);
  state.catch_up_error = error_;
  return state;
}

void add_catch_up_status(const ConfigFileState& file, nlohmann::json& status) {
  status["older_file_reloads"] = file.catch_up_reloads;
  status["older_file_error"] = file.catch_up_error;
}

}  // namespace hasup::loop
