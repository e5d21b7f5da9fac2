#include "supervisor/cli/pause_text.hpp"

#include "supervisor/cli/json_fields_text.hpp"

namespace hasup::cli {

std::string render_pause(const nlohmann::json& pause) {
  if (!pause.is_object()) return {};
  std::string out;
  const std::string reason = string_field(pause, "reason");
  if (true_field(pause, "paused")) {
    out += "PAUSED";
    if (!string_field(pause, "by").empty()) out += " by " + string_field(pause, "by") + " at " + string_field(pause, "at");
    if (!reason.empty()) out += " (" + reason + ")";
    out += ": no failover, no floating IP move but by VRRP, no settings or logins pushed; hactl resume ends it\n";
  }
  auto following = pause.find("patroni_following");
  if (following != pause.end() && following->is_boolean() && !following->get<bool>())
    out += std::string("pause: Patroni is not ") + (true_field(pause, "paused") ? "paused" : "resumed") +
           " yet (the leader asks it)\n";
  if (!string_field(pause, "error").empty()) out += "pause: " + string_field(pause, "error") + "\n";
  if (!string_field(pause, "patroni_error").empty()) out += "pause: Patroni refused: " + string_field(pause, "patroni_error") + "\n";
  if (!string_field(pause, "advice").empty()) out += "ACTION NEEDED: " + string_field(pause, "advice") + "\n";
  if (!true_field(pause, "paused") && out.empty() && following == pause.end()) {
    auto patroni = pause.find("patroni_paused");
    if (patroni != pause.end() && patroni->is_boolean() && patroni->get<bool>())
      out += "pause: Patroni is paused (patronictl pause?) although the cluster is not: Patroni will not fail over\n";
  }
  return out;
}

}  // namespace hasup::cli
