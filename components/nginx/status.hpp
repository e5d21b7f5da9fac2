#pragma once
// nginx's section of this node's status document (GET /cluster, "self").
// Pure: built from the snapshot, tested with the rest of the document.
#include <nlohmann/json.hpp>

#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

nlohmann::json nginx_status(const Snapshot& s);

}  // namespace hasup::loop
