#include "supervisor/events/event.hpp"

#include <nlohmann/json.hpp>
#include <regex>

#include "supervisor/util/utc_time.hpp"

namespace hasup::events {

using nlohmann::json;

json to_json(const Event& e, bool with_incident) {
  json out{{"id", e.id}, {"at", e.at}, {"node", e.node}, {"component", e.component}, {"kind", e.kind},
           {"text", e.text}};
  if (!e.reason.empty()) out["reason"] = e.reason;
  if (!e.requested_by.empty()) out["requested_by"] = e.requested_by;
  if (e.opens_incident) out["opens_incident"] = true;
  if (e.late) out["late"] = true;
  if (with_incident && !e.incident.empty()) out["incident"] = e.incident;
  return out;
}

namespace {

bool string_field(const json& v, const char* name, bool required, std::string& out, std::string& error) {
  auto it = v.find(name);
  if (it == v.end()) {
    if (required) error = std::string("no \"") + name + "\"";
    return !required;
  }
  if (!it->is_string()) {
    error = std::string("\"") + name + "\" is not a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool bool_field(const json& v, const char* name, bool& out, std::string& error) {
  auto it = v.find(name);
  if (it == v.end()) return true;
  if (!it->is_boolean()) {
    error = std::string("\"") + name + "\" is not true or false";
    return false;
  }
  out = it->get<bool>();
  return true;
}

}  // namespace

std::optional<Event> event_from_json(const json& v, std::string& error) {
  if (!v.is_object()) {
    error = "an event is not an object";
    return std::nullopt;
  }
  Event e;
  if (!string_field(v, "id", true, e.id, error) || !string_field(v, "at", true, e.at, error) ||
      !string_field(v, "node", true, e.node, error) || !string_field(v, "component", true, e.component, error) ||
      !string_field(v, "kind", true, e.kind, error) || !string_field(v, "text", true, e.text, error) ||
      !string_field(v, "reason", false, e.reason, error) ||
      !string_field(v, "requested_by", false, e.requested_by, error) ||
      !bool_field(v, "opens_incident", e.opens_incident, error) || !bool_field(v, "late", e.late, error))
    return std::nullopt;
  if (!is_utc_time(e.at)) {
    error = "\"at\" is not a UTC time (YYYY-MM-DDTHH:MM:SS.mmmZ): " + e.at.substr(0, 40);
    return std::nullopt;
  }
  return e;
}

std::string encode_ring(const std::string& node, const std::vector<Event>& events) {
  json list = json::array();
  for (const auto& e : events) list.push_back(to_json(e));
  return json{{"node", node}, {"events", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

RingDecode decode_ring(const std::string& expected_node, const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {{}, "not a JSON object"};
  auto node = doc.find("node");
  if (node == doc.end() || !node->is_string() || node->get<std::string>() != expected_node)
    return {{}, "\"node\" is not " + expected_node};
  auto list = doc.find("events");
  if (list == doc.end() || !list->is_array()) return {{}, "no \"events\" list"};
  RingDecode out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string error;
    auto e = event_from_json((*list)[i], error);
    if (!e) return {{}, "event " + std::to_string(i) + ": " + error};
    if (e->node != expected_node) return {{}, "event " + std::to_string(i) + " is from " + e->node.substr(0, 40)};
    out.events.push_back(std::move(*e));
  }
  return out;
}

std::string utc_now_ms() { return utc_iso8601(std::chrono::system_clock::now(), true); }

bool is_utc_time(const std::string& text) {
  static const std::regex format(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z)");
  return text.size() <= 24 && std::regex_match(text, format);
}

}  // namespace hasup::events
