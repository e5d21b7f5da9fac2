#pragma once
// The broker's section of this node's status (GET /cluster, "self").
#include <nlohmann/json.hpp>

#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

nlohmann::json broker_status(const Snapshot& s);

}  // namespace hasup::loop
