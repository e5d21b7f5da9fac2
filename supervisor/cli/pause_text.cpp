#include "supervisor/cli/pause_text.hpp"

#include "supervisor/util/printable.hpp"

namespace hasup::cli {

namespace {

// A string field made safe for the terminal; "" when absent or not a string.
std::string field(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? terminal_safe(it->get<std::string>()) : std::string();
}

bool flag(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

std::string render_pause(const nlohmann::json& pause) {
  if (!pause.is_object()) return {};
  std::string out;
  const std::string reason = field(pause, "reason");
  if (flag(pause, "paused")) {
    out += "PAUSED";
    if (!field(pause, "by").empty()) out += " by " + field(pause, "by") + " at " + field(pause, "at");
    if (!reason.empty()) out += " (" + reason + ")";
    out += ": no failover, no floating IP move but by VRRP, no settings or logins pushed; hactl resume ends it\n";
  }
  auto following = pause.find("patroni_following");
  if (following != pause.end() && following->is_boolean() && !following->get<bool>())
    out += std::string("pause: Patroni is not ") + (flag(pause, "paused") ? "paused" : "resumed") +
           " yet (the leader asks it)\n";
  if (!field(pause, "error").empty()) out += "pause: " + field(pause, "error") + "\n";
  if (!field(pause, "patroni_error").empty()) out += "pause: Patroni refused: " + field(pause, "patroni_error") + "\n";
  if (!field(pause, "advice").empty()) out += "ACTION NEEDED: " + field(pause, "advice") + "\n";
  if (!flag(pause, "paused") && out.empty() && following == pause.end()) {
    auto patroni = pause.find("patroni_paused");
    if (patroni != pause.end() && patroni->is_boolean() && patroni->get<bool>())
      out += "pause: Patroni is paused (patronictl pause?) although the cluster is not: Patroni will not fail over\n";
  }
  return out;
}

}  // namespace hasup::cli
