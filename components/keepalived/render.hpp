#pragma once
// keepalived.conf from the template in templates/ and a VrrpModel, with
// kainjow mustache. Pure: the caller reads the template and writes the result.
#include <string>

#include "components/keepalived/model.hpp"

namespace hasup::keepalived {

struct Rendered {
  std::string text;   // set when error is empty
  std::string error;  // template syntax error, or a value that must not reach the file
};

Rendered render(const std::string& template_text, const VrrpModel& model);

}  // namespace hasup::keepalived
