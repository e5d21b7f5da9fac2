#pragma once
// `hactl status`: the /cluster document as a table an operator reads at a glance.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup::cli {

// Never throws: a document missing fields is shown with "?" where they lack.
std::string render_status_table(const nlohmann::json& cluster_document);

}  // namespace hasup::cli
