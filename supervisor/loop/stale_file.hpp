#pragma once
// A daemon still running an older config than its file. Each driver writes
// its daemon's file and then reloads the unit; a supervisor that dies between
// the two (or a reload job that fails) leaves a file that matches what the
// supervisor renders while the daemon runs the text before it, and comparing
// files never notices. systemd knows when the unit last became active (its
// StateChangeTimestamp moves when a start, a restart or a reload ends), and
// the file's mtime says when it was written: a file newer than the unit's
// last state change has not been read by the daemon. A reload that follows
// from this is a catch-up reload.
//
// The views of the components include this file: it needs nothing of the
// snapshot but its declaration.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hasup::loop {

using WallTime = std::chrono::system_clock::time_point;

// The rule, here and nowhere else: the unit is active and its last state
// change is older than the file, so the daemon may run what the file held
// before. Unknown times say nothing (false).
bool daemon_may_run_an_older_file(std::optional<WallTime> file_written, std::optional<WallTime> unit_state_changed,
                                  std::string_view active_state);

// Least time from the end of one catch-up reload to the next: a reload that
// failed (or a file whose time is ahead of the clock, which no reload can
// catch up with) is tried again at this pace, never in a loop.
inline constexpr std::chrono::milliseconds kCatchUpSpacing{10000};

// A daemon's config file as its driver sees it, and the catch-up reloads it ran.
struct ConfigFileState {
  std::optional<WallTime> written;  // the file's mtime; nullopt: absent or unreadable
  std::uint64_t catch_up_reloads = 0;  // that succeeded, since this supervisor started
  std::optional<std::chrono::milliseconds> since_catch_up;  // since the last one ended; nullopt: none yet
  std::string catch_up_error;  // why the last one failed; "" after a success
};

// What a driver keeps of its catch-up reloads, and its file for the view.
class CatchUpRecord {
 public:
  // A catch-up reload's job ended: "" when the reload succeeded, else why not.
  void ended(const std::string& error);
  // The file at `path` (its mtime read now) and the reloads so far.
  ConfigFileState observe(const std::string& path) const;

 private:
  std::uint64_t reloads_ = 0;
  std::optional<std::chrono::steady_clock::time_point> ended_at_;
  std::string error_;
};

struct Snapshot;
struct Plan;

// What a component's decision does with the rule for its daemon.
struct CatchUp {
  bool reload_now = false;  // plan the reload (the component's apply, AfterWrite::reload, catch_up set)
  std::string note;         // for the plan's reason; "" when the daemon runs its file
};

// The rule and its guards for `daemon` (its name in the reason) running
// `unit`: nothing while `busy` (a job of the component is under way) nor
// within kCatchUpSpacing of the last catch-up reload; `held_by` is the
// component's own reason to wait ("" none), said in the note. Asks the plan
// for a cycle when the wait ends.
CatchUp decide_catch_up(std::string_view daemon, const ConfigFileState& file, const std::string& unit, bool busy,
                        const std::string& held_by, const Snapshot& s, Plan& plan);

// The status fields every component with a config file shows.
void add_catch_up_status(const ConfigFileState& file, nlohmann::json& status);

}  // namespace hasup::loop
