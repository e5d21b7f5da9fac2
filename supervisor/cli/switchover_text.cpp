#include "supervisor/cli/switchover_text.hpp"

#include "supervisor/util/printable.hpp"

namespace hasup::cli {

std::string render_switchover_preview(const nlohmann::json& preview) {
  if (!preview.is_object()) return "no preview in the supervisor's answer\n";
  const std::string from = terminal_safe(preview.value("from", ""));
  const std::string to = terminal_safe(preview.value("to", ""));
  if (preview.contains("refusal"))
    return "switchover refused: " + terminal_safe(preview.value("refusal", "")) + "\n";
  std::string out = "switchover from " + from + " to " + to + ":\n";
  int n = 1;
  if (auto steps = preview.find("steps"); steps != preview.end() && steps->is_array())
    for (const auto& step : *steps)
      if (step.is_string()) out += "  " + std::to_string(n++) + ". " + terminal_safe(step.get<std::string>()) + "\n";
  return out;
}

std::string render_switchover_step(const nlohmann::json& last) {
  if (!last.is_object()) return "no switchover recorded";
  const std::string phase = last.value("phase", "");
  std::string out = "switchover " + terminal_safe(last.value("id", "")) + " to " + terminal_safe(last.value("to", "")) +
                    ": " + terminal_safe(phase);
  if (phase == "done" || phase == "failed") {
    std::string steps;
    if (auto list = last.find("steps"); list != last.end() && list->is_array())
      for (const auto& step : *list)
        if (step.is_object())
          steps += (steps.empty() ? "" : ", ") + terminal_safe(step.value("name", "")) + " " +
                   std::to_string(step.value("ms", 0LL)) + " ms";
    return out + ": " + terminal_safe(last.value("outcome", "")) + (steps.empty() ? "" : " (" + steps + ")");
  }
  return out + " (" + std::to_string(last.value("phase_ms", 0LL)) + " ms so far)";
}

}  // namespace hasup::cli
