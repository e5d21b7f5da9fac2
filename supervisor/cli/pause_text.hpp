#pragma once
// hactl's words for the cluster's pause (GET /pause, and the "pause" section
// of this node's status): paused since when and by whom, what the operator
// must do when the primary is gone meanwhile; "" when not paused and nothing
// is wrong.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup::cli {

std::string render_pause(const nlohmann::json& pause);

}  // namespace hasup::cli
