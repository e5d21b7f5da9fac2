#include "supervisor/events/timeline.hpp"

#include <algorithm>
#include <ctime>
#include <optional>

namespace hasup::events {

std::vector<Event> merge_rings(const std::map<std::string, std::vector<Event>>& rings) {
  std::vector<Event> all;
  for (const auto& [node, events] : rings) all.insert(all.end(), events.begin(), events.end());
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) {
    auto at_a = with_milliseconds(a.at), at_b = with_milliseconds(b.at);
    if (at_a != at_b) return at_a < at_b;
    if (a.node != b.node) return a.node < b.node;
    return a.id < b.id;
  });
  return all;
}

namespace {

std::optional<std::chrono::milliseconds> epoch_ms(const std::string& at) {
  if (!is_utc_time(at)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(at.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(at.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(at.substr(8, 2));
  tm.tm_hour = std::stoi(at.substr(11, 2));
  tm.tm_min = std::stoi(at.substr(14, 2));
  tm.tm_sec = std::stoi(at.substr(17, 2));
  long long ms = at.size() > 20 ? std::stoi(at.substr(20, 3)) : 0;
  return std::chrono::milliseconds(static_cast<long long>(timegm(&tm)) * 1000 + ms);
}

}  // namespace

std::chrono::milliseconds between(const std::string& a, const std::string& b) {
  auto ta = epoch_ms(a), tb = epoch_ms(b);
  if (!ta || !tb) return std::chrono::milliseconds(0);
  return *tb - *ta;
}

std::string with_milliseconds(const std::string& utc) {
  if (utc.size() == 20 && utc.back() == 'Z') return utc.substr(0, 19) + ".000Z";
  return utc;
}

void assign_incidents(std::vector<Event>& events, std::chrono::milliseconds gap) {
  std::string open;  // the open incident's id
  std::string last_at;  // its last opening event's time
  for (auto& e : events) {
    bool within = !open.empty() && between(last_at, e.at) <= gap;
    if (within) {
      e.incident = open;
      if (e.opens_incident) last_at = e.at;
    } else if (e.opens_incident) {
      open = e.id;
      e.incident = open;
      last_at = e.at;
    } else {
      open.clear();
      e.incident.clear();
    }
  }
}

std::vector<Event> filter_events(const std::vector<Event>& events, const TimelineFilter& filter) {
  const std::string since = with_milliseconds(filter.since);
  std::vector<Event> out;
  for (const auto& e : events) {
    if (!since.empty() && with_milliseconds(e.at) < since) continue;
    if (!filter.node.empty() && e.node != filter.node) continue;
    out.push_back(e);
  }
  return out;
}

}  // namespace hasup::events
