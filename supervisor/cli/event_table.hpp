#pragma once
// hactl events: the status API's GET /events document as lines an operator
// reads, one per event, the decision's reason under it when it changed.
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace hasup::cli {

// The events of `doc` not in `printed` (their ids are added to it), then the
// document's problems and partial warning. --follow calls it with each poll.
std::string render_events(const nlohmann::json& doc, std::set<std::string>& printed, bool with_notes = true);

// GET /incidents: one line per incident, each phase's offset from its start.
std::string render_incidents(const nlohmann::json& doc);
// GET /incidents?id=ID: the phases, then every event, timed from the start.
std::string render_incident(const nlohmann::json& doc);

// UTC `seconds` before now, in the form GET /events takes.
std::string utc_seconds_ago(long seconds);

}  // namespace hasup::cli
