#pragma once
// Which resource a request names, decided from its method and target alone
// (pure: no I/O). Cloudify's paths under /api/v3.1.
#include <string>
#include <string_view>

namespace hasup::rest_standin {

enum class Resource { status, blueprint, blueprint_archive };

struct Route {
  int refusal = 0;    // 0: matched; else the status to answer (400, 404, 405)
  std::string error;  // why, when refused
  std::string allow;  // the Allow header of a 405
  Resource resource = Resource::status;
  std::string id;  // blueprint id, percent-decoded and valid
};

Route route(std::string_view method, std::string_view target);

// [A-Za-z0-9][A-Za-z0-9_.-]{0,127} and no "..": safe as one folder name.
bool valid_id(std::string_view id);

}  // namespace hasup::rest_standin
