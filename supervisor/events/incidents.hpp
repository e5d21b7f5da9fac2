#pragma once
// The failover flight recorder: each incident of the timeline (events tied by
// assign_incidents) as one record with its phases, each the first event of
// its kind after the incident opened, timed from the opening event where the
// event was seen:
//   detection            the opening event (the first sign: gossip, a failed
//                        write probe, a health change, a lost member)
//   decision             the supervisors' answer: a new leader, or the
//                        leader's word that a member is gone
//   database promotion   a node's database primary
//   floating-IP move     a node holds the floating IP
//   first write          a write probe through a node's endpoint succeeds
//   nginx convergence    the last nginx reload of the incident
// A phase the incident did not need (no promotion when a replica crashed) is
// absent, not zero.
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "supervisor/events/event.hpp"

namespace hasup::events {

struct Phase {
  std::string name;
  std::chrono::milliseconds after{0};  // since the incident opened
  Event event;
};

struct Incident {
  std::string id;
  Event opened;                       // its first event
  std::chrono::milliseconds lasted{0};  // first event to last
  std::vector<Phase> phases;          // in the order of the names above, those seen
  std::vector<Event> events;          // all of them, in time order
};

// `events` as assign_incidents left them (merged, in time order).
std::vector<Incident> summarize_incidents(const std::vector<Event>& events);

// Over: its last failure sign is more than kIncidentGap before `now_utc`
// (nothing more can join it).
bool incident_over(const Incident& incident, const std::string& now_utc);

// The incidents to count once (the failover metrics): those over and not in
// `counted`, whose ids are added to it. On the first call (`counted` empty and
// `first` true) every incident already over is only remembered, not returned:
// this process did not see it happen, and another may have counted it.
std::vector<const Incident*> newly_over(const std::vector<Incident>& incidents, const std::string& now_utc,
                                        std::set<std::string>& counted, bool first);

}  // namespace hasup::events
