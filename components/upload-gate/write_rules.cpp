#include "components/upload-gate/write_rules.hpp"

#include <algorithm>
#include <cctype>

namespace hasup::upload_gate {

std::vector<WriteRule> default_write_rules() { return {WriteRule{{"POST", "PUT", "PATCH", "DELETE"}, "/"}}; }

bool is_gated_write(const std::vector<WriteRule>& rules, std::string_view method, std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  for (const auto& rule : rules) {
    bool method_matches = std::find(rule.methods.begin(), rule.methods.end(), method) != rule.methods.end();
    if (method_matches && path.substr(0, rule.path_prefix.size()) == rule.path_prefix) return true;
  }
  return false;
}

std::string check_method_name(const std::string& method) {
  if (method.empty()) return "a method cannot be empty";
  for (unsigned char c : method) {
    if (!std::isupper(c) && c != '-' && c != '_')
      return "method '" + method + "' must be upper-case letters (as sent on the wire, e.g. PUT)";
  }
  return {};
}

}  // namespace hasup::upload_gate
