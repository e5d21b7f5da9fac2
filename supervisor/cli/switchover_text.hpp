#pragma once
// hactl switchover's words: the dry run's plan or refusal, and each phase of
// a switchover under way, from GET /switchover's document.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup::cli {

std::string render_switchover_preview(const nlohmann::json& preview);
// One line for the switchover `last` (GET /switchover's "last"): its phase and
// how long it has lasted, or how it ended with each step's duration.
std::string render_switchover_step(const nlohmann::json& last);

}  // namespace hasup::cli
