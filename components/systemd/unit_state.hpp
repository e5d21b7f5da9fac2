#pragma once
// What the supervisor knows about one systemd unit: a plain value, read from
// org.freedesktop.systemd1 and handed to the control loop as a wake-up.
// Header-only and free of D-Bus types, so pure tests and the loop's snapshot
// can use it without the bus library.
#include <cstdint>
#include <string>
#include <string_view>

namespace hasup::systemd {

// The three questions the supervisor asks of a unit's ActiveState, each
// answered here and nowhere else.
// Running or on its way: a "start it" decision must leave it alone.
inline bool running_or_starting(std::string_view active_state) {
  return active_state == "active" || active_state == "activating" || active_state == "reloading" ||
         active_state == "deactivating";
}
// Up and settled: a new config reaches it by a reload; otherwise by a start.
inline bool reloadable(std::string_view active_state) { return active_state == "active"; }
// Serving clients: up, or re-reading its config while the old workers serve.
inline bool serving(std::string_view active_state) { return active_state == "active" || active_state == "reloading"; }

struct UnitState {
  std::string name;
  std::string load_state;    // loaded, not-found, masked, bad-setting, error, ...
  std::string active_state;  // active, inactive, activating, deactivating, failed, reloading
  std::string sub_state;     // running, dead, exited, auto-restart, start-pre, ...
  std::uint32_t n_restarts = 0;  // services: restarts done by Restart= since the unit was loaded
  std::uint32_t main_pid = 0;    // services: the main process (0 when none), as systemd numbers it
  // StateChangeTimestamp: when the unit last changed state (a start, a
  // restart, a reload's end), in µs since the epoch (CLOCK_REALTIME); 0 unknown.
  std::uint64_t state_change_usec = 0;

  bool operator==(const UnitState&) const = default;

  bool active() const { return reloadable(active_state); }
  bool running() const { return active_state == "active" && sub_state == "running"; }
  bool exists() const { return !load_state.empty() && load_state != "not-found"; }

  std::string to_string() const {
    std::string out = name + ": " + (load_state.empty() ? "?" : load_state) + " " +
                      (active_state.empty() ? "?" : active_state) + "/" + (sub_state.empty() ? "?" : sub_state);
    if (main_pid) out += ", main pid " + std::to_string(main_pid);
    if (n_restarts) out += ", " + std::to_string(n_restarts) + " restart(s)";
    return out;
  }
};

// Services carry the extra properties (NRestarts, MainPID); other unit types do not.
inline bool is_service(const std::string& unit) {
  static const std::string suffix = ".service";
  return unit.size() > suffix.size() && unit.compare(unit.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace hasup::systemd
