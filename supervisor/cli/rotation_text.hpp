#pragma once
// hactl rotate: the status API's GET /rotate as one line for an operator.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup::cli {

// Where the rotation under way stands ("" when none is).
std::string render_rotation_step(const nlohmann::json& state);

}  // namespace hasup::cli
