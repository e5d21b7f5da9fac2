#pragma once
// hactl cold-start: the status API's GET /cold-start as lines for an operator.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup::cli {

// The cluster's database after a power loss: its primary or whom it waits
// for, a stored acceptance and this node's newest request to Patroni.
std::string render_cold_start(const nlohmann::json& doc);

// The dry run of accepting one node (the document's "preview").
std::string render_accept_preview(const nlohmann::json& preview);

}  // namespace hasup::cli
