#pragma once
// nginx.conf from templates/nginx.conf.mustache and an NginxModel, with kainjow
// mustache. Pure: the caller reads the template and writes the result.
#include <string>

#include "components/nginx/model.hpp"
#include "supervisor/util/config_template.hpp"

namespace hasup::nginx {

using Rendered = RenderedConfig;

// Template data: node_name, listen ("80", "addr:80" or "[v6]:80"), listen_port, user (absent when empty), runtime_dir,
// log_dir, resources_dir, and services: a list of {name, key, servers,
// has_servers, no_servers}, each also set under its key ({{#rest_service.servers}}).
// A server is {address, port, node, service_id, endpoint, backup} with endpoint
// "1.2.3.4:80" or "[::1]:80"; backup is true for another node's instance while
// the service has one on model.local_node.
Rendered render(const std::string& template_text, const NginxModel& model);

}  // namespace hasup::nginx
