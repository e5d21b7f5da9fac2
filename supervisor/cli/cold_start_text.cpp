#include "supervisor/cli/cold_start_text.hpp"

#include "supervisor/cli/json_fields_text.hpp"

#include "supervisor/util/printable.hpp"

namespace hasup::cli {

using nlohmann::json;

namespace {

std::string names(const json& o, const char* key) {
  std::string out;
  if (auto it = o.find(key); it != o.end() && it->is_array())
    for (const auto& name : *it)
      if (name.is_string()) out += (out.empty() ? "" : ", ") + terminal_safe(name.get<std::string>());
  return out;
}

}  // namespace

std::string render_cold_start(const json& doc) {
  std::string out;
  const std::string primary = string_field(doc, "primary");
  const std::string waits = names(doc, "waits_for");
  if (!primary.empty())
    out += "database: primary " + primary + "\n";
  else if (!waits.empty())
    out += "database: no primary; Patroni promotes only " + waits +
           " (the members that may hold every acknowledged commit)\n";
  else
    out += "database: no primary, and Patroni's keys name no members it waits for\n";
  if (auto a = doc.find("accepted"); a != doc.end() && a->is_object())
    out += "accepted as founder: " + string_field(*a, "node") + " (by " + string_field(*a, "requested_by") + " at " +
           string_field(*a, "requested_at") + ")\n";
  if (doc.contains("accepted_unreadable"))
    out += "a stored acceptance is unreadable: " + string_field(doc, "accepted_unreadable") + " (--cancel removes it)\n";
  if (auto last = doc.find("last_attempt"); last != doc.end() && last->is_object())
    out += "this node asked Patroni to fail over to " + string_field(*last, "node") + " " +
           std::to_string(last->value("seconds_ago", 0LL)) + " s ago: " + string_field(*last, "answer") + "\n";
  return out;
}

std::string render_accept_preview(const json& preview) {
  const std::string node = string_field(preview, "node");
  if (!preview.value("allowed", false)) return "accepting " + node + " is refused now: " + string_field(preview, "refusal") + "\n";
  return "accepting " + node + " as founder would lose " + string_field(preview, "loses") + "\n";
}

}  // namespace hasup::cli
