#pragma once
// hactl settings: the status API's GET /settings as text for an operator.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup::cli {

std::string render_settings(const nlohmann::json& doc);

}  // namespace hasup::cli
