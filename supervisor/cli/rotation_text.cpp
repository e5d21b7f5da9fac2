#include "supervisor/cli/rotation_text.hpp"

namespace hasup::cli {

std::string render_rotation_step(const nlohmann::json& state) {
  if (!state.is_object()) return {};
  const auto& rotation = state.value("rotation", nlohmann::json());
  if (!rotation.is_object()) return {};
  const std::string login = rotation.value("login", "");
  std::string line = "generation " + std::to_string(rotation.value("generation", 0ULL)) + ", step " +
                     rotation.value("step", "") + ": ";
  if (rotation.contains("say") && rotation["say"].is_string()) {
    line += rotation["say"].get<std::string>();
  } else if (rotation.value("step", "") == "requested") {
    line += "the leader sets login " + login + "'s new password on the primary";
  } else {
    std::string waiting;
    for (const auto& n : rotation.value("waiting_for", nlohmann::json::array()))
      if (n.is_string()) waiting += (waiting.empty() ? "" : ", ") + n.get<std::string>();
    line += waiting.empty() ? "every node switched to login " + login + "; the leader refuses " +
                                  rotation.value("previous_login", "") + " next"
                            : "waiting for " + waiting + " to switch to login " + login;
  }
  for (const auto& e : state.value("errors", nlohmann::json::array()))
    if (e.is_string()) line += " (" + e.get<std::string>() + ")";
  return line;
}

}  // namespace hasup::cli
