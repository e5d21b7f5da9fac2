#pragma once
// keepalived's notify FIFO lines, e.g. `INSTANCE "ha_manager" MASTER 150`.
// Pure: the supervisor reads the FIFO and hands each line here.
#include <optional>
#include <string>

namespace hasup::keepalived {

struct NotifyEvent {
  std::string kind;   // INSTANCE or GROUP
  std::string name;   // the instance or sync group
  std::string state;  // MASTER, BACKUP, FAULT, STOP, DELETED
  int priority = 0;
  bool operator==(const NotifyEvent&) const = default;
};

// nullopt for anything that is not exactly such a line (keepalived writes
// other kinds, e.g. for LVS; garbage must not become a state).
std::optional<NotifyEvent> parse_notify_line(const std::string& line);

}  // namespace hasup::keepalived
