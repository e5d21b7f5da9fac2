#include "supervisor/cli/event_table.hpp"

#include <chrono>
#include <map>

#include "supervisor/util/utc_time.hpp"

namespace hasup::cli {

namespace {

std::string text_of(const nlohmann::json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string render_events(const nlohmann::json& doc, std::set<std::string>& printed, bool with_notes) {
  std::string out;
  std::map<std::string, std::string> last_reason;  // by node: say it again only when it changed
  auto list = doc.find("events");
  if (list != doc.end() && list->is_array()) {
    for (const auto& e : *list) {
      if (!e.is_object()) continue;
      const std::string id = text_of(e, "id");
      if (id.empty() || printed.count(id)) continue;
      printed.insert(id);
      const std::string node = text_of(e, "node");
      std::string line = padded(text_of(e, "at"), 25) + padded(node, 6) +
                         padded(text_of(e, "component") + "/" + text_of(e, "kind"), 22) + text_of(e, "text");
      if (auto by = text_of(e, "requested_by"); !by.empty()) line += " (asked by " + by + ")";
      if (e.value("late", false)) line += " (late: reached Consul after the node was cut off)";
      if (auto incident = text_of(e, "incident"); !incident.empty()) line += "  [incident " + incident + "]";
      out += line + "\n";
      const std::string reason = text_of(e, "reason");
      if (!reason.empty() && last_reason[node] != reason) out += "    why: " + reason + "\n";
      last_reason[node] = reason;
    }
  }
  if (!with_notes) return out;
  if (auto problems = doc.find("problems"); problems != doc.end() && problems->is_array())
    for (const auto& p : *problems)
      if (p.is_string()) out += "problem: " + p.get<std::string>() + "\n";
  if (auto partial = text_of(doc, "partial"); !partial.empty()) out += "partial: " + partial + "\n";
  if (auto unwritten = text_of(doc, "unwritten"); !unwritten.empty()) out += "unwritten: " + unwritten + "\n";
  return out;
}

namespace {

std::string seconds_text(const nlohmann::json& ms_value, bool plus) {
  if (!ms_value.is_number_integer()) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, plus ? "+%.3f s" : "%.1f s", ms_value.get<long long>() / 1000.0);
  return buf;
}

std::string event_words(const nlohmann::json& e) {
  if (!e.is_object()) return "?";
  return text_of(e, "node") + " " + text_of(e, "component") + "/" + text_of(e, "kind") + ": " + text_of(e, "text");
}

const nlohmann::json* phase_named(const nlohmann::json& incident, const char* name) {
  auto phases = incident.find("phases");
  if (phases == incident.end() || !phases->is_array()) return nullptr;
  for (const auto& p : *phases)
    if (p.is_object() && text_of(p, "name") == name) return &p;
  return nullptr;
}

std::string partial_note(const nlohmann::json& doc) {
  auto partial = text_of(doc, "partial");
  return partial.empty() ? "" : "partial: " + partial + "\n";
}

}  // namespace

std::string render_incidents(const nlohmann::json& doc) {
  static const char* columns[] = {"decision", "database promotion", "floating-IP move", "first write", "nginx convergence"};
  std::string out = padded("INCIDENT", 26) + padded("OPENED", 25) + padded("LASTED", 9) + padded("DECISION", 10) +
                    padded("DB PROMOTED", 12) + padded("IP MOVED", 10) + padded("1ST WRITE", 10) +
                    padded("NGINX", 10) + "OPENED BY\n";
  auto list = doc.find("incidents");
  if (list == doc.end() || !list->is_array() || list->empty()) return "no incidents in the timeline\n" + partial_note(doc);
  for (const auto& incident : *list) {
    if (!incident.is_object()) continue;
    const auto opened = incident.value("opened", nlohmann::json::object());
    std::string line = padded(text_of(incident, "id"), 26) + padded(text_of(opened, "at"), 25) +
                       padded(seconds_text(incident.value("lasted_ms", nlohmann::json()), false), 9);
    const std::size_t widths[] = {10, 12, 10, 10, 10};
    for (std::size_t i = 0; i < 5; ++i) {
      const auto* phase = phase_named(incident, columns[i]);
      line += padded(phase ? seconds_text(phase->value("after_ms", nlohmann::json()), true) : "-", widths[i]);
    }
    out += line + event_words(opened) + "\n";
  }
  return out + partial_note(doc);
}

std::string render_incident(const nlohmann::json& doc) {
  auto list = doc.find("incidents");
  if (list == doc.end() || !list->is_array() || list->empty() || !(*list)[0].is_object())
    return "no such incident\n" + partial_note(doc);
  const auto& incident = (*list)[0];
  const auto opened = incident.value("opened", nlohmann::json::object());
  std::string out = "incident " + text_of(incident, "id") + ": opened " + text_of(opened, "at") + " (" +
                    event_words(opened) + "), " + std::to_string(incident.value("event_count", 0)) + " events over " +
                    seconds_text(incident.value("lasted_ms", nlohmann::json()), false) + "\nphases:\n";
  if (auto phases = incident.find("phases"); phases != incident.end() && phases->is_array())
    for (const auto& p : *phases)
      if (p.is_object())
        out += "  " + padded(text_of(p, "name"), 20) + padded(seconds_text(p.value("after_ms", nlohmann::json()), true), 12) +
               event_words(p.value("event", nlohmann::json())) + "\n";
  out += "events:\n";
  if (auto events = incident.find("events"); events != incident.end() && events->is_array())
    for (const auto& e : *events)
      if (e.is_object()) {
        std::string line = "  " + padded(text_of(e, "at"), 25) + event_words(e);
        if (e.value("late", false)) line += " (late)";
        out += line + "\n";
      }
  return out + partial_note(doc);
}

std::string utc_seconds_ago(long seconds) {
  return utc_iso8601(std::chrono::system_clock::now() - std::chrono::seconds(seconds), false);
}

}  // namespace hasup::cli
