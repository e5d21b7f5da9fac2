#include "components/keepalived/notify.hpp"

#include <array>
#include <sstream>

namespace hasup::keepalived {

std::optional<NotifyEvent> parse_notify_line(const std::string& line) {
  std::istringstream in(line);
  NotifyEvent e;
  std::string quoted_name, priority, rest;
  if (!(in >> e.kind >> quoted_name >> e.state >> priority) || (in >> rest)) return std::nullopt;
  if (e.kind != "INSTANCE" && e.kind != "GROUP") return std::nullopt;
  if (quoted_name.size() < 3 || quoted_name.front() != '"' || quoted_name.back() != '"') return std::nullopt;
  e.name = quoted_name.substr(1, quoted_name.size() - 2);
  static const std::array<const char*, 5> kStates{"MASTER", "BACKUP", "FAULT", "STOP", "DELETED"};
  bool known = false;
  for (const char* s : kStates) known = known || e.state == s;
  if (!known) return std::nullopt;
  if (priority.empty() || priority.size() > 3 || priority.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  e.priority = std::stoi(priority);
  if (e.priority > 255) return std::nullopt;
  return e;
}

}  // namespace hasup::keepalived
