#pragma once
// JSON text of a document that may carry outside strings (file names from the
// resources folder, another program's output): nlohmann's strict dump() throws
// on bytes that are not UTF-8, and nothing around the loop catches it, so one
// syncthing conflict copy with a Latin-1 name brought the supervisor down.
// Here such bytes become U+FFFD; everything else is dump() unchanged.
#include <nlohmann/json.hpp>
#include <string>

namespace hasup {

inline std::string json_text(const nlohmann::json& document, int indent = -1) {
  return document.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hasup
