#pragma once
// The cluster's timeline as a reader sees it: every node's ring merged in
// time order, the events of one incident tied by one id, and filtered.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "supervisor/events/event.hpp"

namespace hasup::events {

// How long after an incident's last opening event (a failure sign) other
// events still belong to it. A failover's parts (detection, promotion, the
// IP's move, the first write, nginx) come within seconds of each other; the
// routine events after it (a node restarting, reloads) do not keep it open.
inline constexpr std::chrono::seconds kIncidentGap{20};

// Rings by node, merged by time (then node, then id): one list.
std::vector<Event> merge_rings(const std::map<std::string, std::vector<Event>>& rings);

// Ties the events of an incident together. An event that opens an incident
// (a lost member, a failed health, an unplanned move) starts one, named by
// its id, unless one is still open; every event within kIncidentGap of the
// incident's last opening event joins it (and an opening one extends it).
// Deterministic: every reader of the same rings gets the same ids. `events`
// must be in merge_rings' order.
void assign_incidents(std::vector<Event>& events, std::chrono::milliseconds gap = kIncidentGap);

struct TimelineFilter {
  std::string since;  // UTC (is_utc_time); "" none
  std::string node;   // "" every node
};
std::vector<Event> filter_events(const std::vector<Event>& events, const TimelineFilter& filter);

// Milliseconds between two Event::at texts (b - a); 0 when either is not a time.
std::chrono::milliseconds between(const std::string& a, const std::string& b);
// "…:24Z" as "…:24.000Z": the one form that sorts as text.
std::string with_milliseconds(const std::string& utc);

}  // namespace hasup::events
