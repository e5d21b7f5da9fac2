#include "supervisor/events/incidents.hpp"

#include <functional>
#include <map>

#include "supervisor/events/timeline.hpp"

namespace hasup::events {

namespace {

bool contains(const std::string& text, const char* words) { return text.find(words) != std::string::npos; }

struct PhaseRule {
  const char* name;
  std::function<bool(const Event&)> matches;
  bool last = false;  // the last such event, not the first
};

const std::vector<PhaseRule>& phase_rules() {
  static const std::vector<PhaseRule> rules = {
      {"decision",
       [](const Event& e) {
         return (e.component == "supervisor" && e.kind == "role" && contains(e.text, "-> leader")) ||
                (e.component == "cluster" && e.kind == "member" && contains(e.text, "no longer a member"));
       }},
      {"database promotion",
       [](const Event& e) { return e.component == "database" && e.kind == "primary" && contains(e.text, "is primary now"); }},
      {"floating-IP move",
       [](const Event& e) { return e.component == "floating-ip" && e.kind == "vrrp" && contains(e.text, "holds the floating IP"); }},
      {"first write",
       [](const Event& e) { return e.component == "database" && e.kind == "writable" && contains(e.text, "succeed again"); }},
      {"nginx convergence", [](const Event& e) { return e.component == "nginx" && e.kind == "reload"; }, true},
  };
  return rules;
}

}  // namespace

std::vector<Incident> summarize_incidents(const std::vector<Event>& events) {
  std::vector<Incident> out;
  std::map<std::string, std::size_t> index;
  for (const auto& e : events) {
    if (e.incident.empty()) continue;
    auto [it, fresh] = index.emplace(e.incident, out.size());
    if (fresh) {
      Incident incident;
      incident.id = e.incident;
      incident.opened = e;
      out.push_back(std::move(incident));
    }
    out[it->second].events.push_back(e);
  }
  for (auto& incident : out) {
    const std::string& t0 = incident.opened.at;
    incident.lasted = between(t0, incident.events.back().at);
    incident.phases.push_back({"detection", std::chrono::milliseconds(0), incident.opened});
    for (const auto& rule : phase_rules()) {
      const Event* found = nullptr;
      for (const auto& e : incident.events) {
        if (!rule.matches(e)) continue;  // the opening event too: a takeover can be the first sign
        found = &e;
        if (!rule.last) break;
      }
      if (found) incident.phases.push_back({rule.name, between(t0, found->at), *found});
    }
  }
  return out;
}

bool incident_over(const Incident& incident, const std::string& now_utc) {
  const Event* last_sign = &incident.opened;
  for (const auto& e : incident.events)
    if (e.opens_incident) last_sign = &e;
  return between(last_sign->at, now_utc) > kIncidentGap;
}

std::vector<const Incident*> newly_over(const std::vector<Incident>& incidents, const std::string& now_utc,
                                        std::set<std::string>& counted, bool first) {
  std::vector<const Incident*> out;
  for (const auto& incident : incidents) {
    if (counted.count(incident.id) || !incident_over(incident, now_utc)) continue;
    counted.insert(incident.id);
    if (!first) out.push_back(&incident);
  }
  // Ids whose incident left the rings (the oldest events dropped) cannot come back.
  std::set<std::string> present;
  for (const auto& incident : incidents) present.insert(incident.id);
  std::erase_if(counted, [&](const std::string& id) { return !present.count(id); });
  return out;
}

}  // namespace hasup::events
