#pragma once
// Which requests are writes whose files must be on the peers before the answer
// leaves: a method and a path prefix. Anything else is passed through.
#include <string>
#include <string_view>
#include <vector>

namespace hasup::upload_gate {

struct WriteRule {
  std::vector<std::string> methods;  // upper case, e.g. "PUT"
  std::string path_prefix = "/";     // matched against the target's path (before '?')
};

// Every POST, PUT, PATCH and DELETE on any path.
std::vector<WriteRule> default_write_rules();

bool is_gated_write(const std::vector<WriteRule>& rules, std::string_view method, std::string_view target);

// "" or why the method name cannot be a rule's (not an HTTP token).
std::string check_method_name(const std::string& method);

}  // namespace hasup::upload_gate
