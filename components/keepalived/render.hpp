#pragma once
// keepalived.conf from the template in templates/ and a VrrpModel, with
// kainjow mustache. Pure: the caller reads the template and writes the result.
#include <string>

#include "components/keepalived/model.hpp"
#include "supervisor/util/config_template.hpp"

namespace hasup::keepalived {

using Rendered = RenderedConfig;

Rendered render(const std::string& template_text, const VrrpModel& model);

}  // namespace hasup::keepalived
