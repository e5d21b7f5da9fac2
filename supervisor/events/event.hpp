#pragma once
// One entry of the cluster's event timeline: something a supervisor saw
// change (its role, the floating IP, the database, nginx, files, a member, an
// operator's intent, a refusal), with the decision's reason sentence. Each
// node keeps a ring of its own events and writes it whole to one Consul key
// (events/ring.hpp); readers merge the rings (events/timeline.hpp).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hasup::events {

struct Event {
  std::string id;         // NODE-SEQUENCE: unique in the cluster, ordered on its node
  std::string at;         // UTC, milliseconds: 2026-12-04T20:42:24.123Z (sorts as text)
  std::string node;       // where it was seen
  std::string component;  // supervisor, floating-ip, database, nginx, files, cluster, maintenance
  std::string kind;       // role, health, vrrp, primary, reload, state, member, intent, refusal, ...
  std::string text;       // what happened, one line
  std::string reason;     // the node's decision at that moment (the loop's reason sentence)
  std::string requested_by;  // for intents: who asked
  bool opens_incident = false;  // a failure or an unplanned move (timeline.hpp groups from here)
  bool late = false;      // reached Consul long after it happened (the node was cut off)
  std::string incident;   // set by the reader (assign_incidents), never stored

  bool operator==(const Event&) const = default;
};

nlohmann::json to_json(const Event& event, bool with_incident = false);
// A stored event, or nullopt with `error` naming the bad field.
std::optional<Event> event_from_json(const nlohmann::json& value, std::string& error);

// A node's ring as stored in Consul: {"node": NAME, "events": [...]}.
std::string encode_ring(const std::string& node, const std::vector<Event>& events);
struct RingDecode {
  std::vector<Event> events;  // all of them, or none with `error`
  std::string error;
};
// Whole or nothing: one bad event refuses the ring (it is written whole by
// its node, so a bad one means the value is not what a supervisor wrote).
RingDecode decode_ring(const std::string& expected_node, const std::string& text);

// Now in UTC with milliseconds, the format of Event::at.
std::string utc_now_ms();
// True for YYYY-MM-DDTHH:MM:SS[.mmm]Z: what `since` filters take.
bool is_utc_time(const std::string& text);

}  // namespace hasup::events
