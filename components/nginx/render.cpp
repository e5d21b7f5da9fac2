#include "components/nginx/render.hpp"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <optional>

#include "components/nginx/validate.hpp"
#include "supervisor/util/config_template.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::nginx {

namespace {

using kainjow::mustache::data;

// A key is a mustache name: no '.', which would read as a path.
bool safe_key(const std::string& key) {
  return is_config_token(key) && key.find_first_of(".:/@+-") == std::string::npos;
}

bool valid_port(int port) { return port >= 1 && port <= 65535; }

// Values were validated where they came from (config, validate.hpp for
// Consul's); checked again here because whitespace, ';', braces, quotes, '#'
// or '$' in nginx.conf would change what it says.
std::optional<std::string> unsafe(const std::string& what, const std::string& value) {
  if (is_config_token(value)) return std::nullopt;
  return "refusing to render " + what + " " + quoted_printable(value) + ": it could break nginx.conf";
}

std::string endpoint(const UpstreamServer& s) {
  const bool v6 = s.address.find(':') != std::string::npos;
  return (v6 ? "[" + s.address + "]" : s.address) + ":" + std::to_string(s.port);
}

// The service's template object, or the reason it cannot be rendered.
std::optional<std::string> service_data(const ServiceSet& set, const std::string& local_node, data& out) {
  if (auto e = unsafe("service name", set.name)) return e;
  const bool has_local = !local_node.empty() && std::any_of(set.servers.begin(), set.servers.end(),
                                                            [&](const UpstreamServer& s) { return s.node == local_node; });
  if (!safe_key(set.key)) return "refusing service key " + quoted_printable(set.key) + ": not a plain mustache name";
  data servers = data::type::list;
  for (const auto& s : set.servers) {
    for (auto [what, value] : {std::pair{"server address", &s.address}, {"server node", &s.node},
                               {"server service id", &s.service_id}})
      if (auto e = unsafe(what, *value)) return e;
    if (!valid_port(s.port)) return "refusing server port " + std::to_string(s.port);
    data server;
    server.set("address", s.address);
    server.set("port", std::to_string(s.port));
    server.set("node", s.node);
    server.set("service_id", s.service_id);
    server.set("endpoint", endpoint(s));
    server.set("backup", data(has_local && s.node != local_node));
    servers.push_back(server);
  }
  out.set("name", set.name);
  out.set("key", set.key);
  out.set("servers", servers);
  out.set("has_servers", data(!set.servers.empty()));
  out.set("no_servers", data(set.servers.empty()));
  return std::nullopt;
}

}  // namespace

Rendered render(const std::string& template_text, const NginxModel& m) {
  Rendered out;
  for (auto [what, value] : {std::pair{"node name", &m.node_name}, {"runtime dir", &m.runtime_dir},
                             {"log dir", &m.log_dir}, {"resources dir", &m.resources_dir}})
    if (auto e = unsafe(what, *value)) {
      out.error = *e;
      return out;
    }
  if (!m.user.empty())
    if (auto e = unsafe("user", m.user)) {
      out.error = *e;
      return out;
    }
  if (!m.listen_address.empty())
    if (auto e = unsafe("listen address", m.listen_address)) {
      out.error = *e;
      return out;
    }
  if (!m.status_page_users_file.empty()) {
    for (auto [what, value] : {std::pair{"status page users file", &m.status_page_users_file},
                               {"status page API host", &m.status_page_api_host}})
      if (auto e = unsafe(what, *value)) {
        out.error = *e;
        return out;
      }
    if (!valid_port(m.status_page_api_port)) {
      out.error = "refusing status page API port " + std::to_string(m.status_page_api_port);
      return out;
    }
  }
  if (!valid_port(m.listen_port)) {
    out.error = "refusing listen port " + std::to_string(m.listen_port);
    return out;
  }
  data root;
  root.set("node_name", m.node_name);
  root.set("listen_port", std::to_string(m.listen_port));
  // nginx's listen: "port", "addr:port" or "[v6]:port".
  std::string listen = std::to_string(m.listen_port);
  if (!m.listen_address.empty())
    listen = (m.listen_address.find(':') != std::string::npos ? "[" + m.listen_address + "]" : m.listen_address) + ":" + listen;
  root.set("listen", listen);
  // kainjow takes an empty string as true: leave user out so {{#user}} is skipped.
  if (!m.user.empty()) root.set("user", m.user);
  root.set("runtime_dir", m.runtime_dir);
  root.set("log_dir", m.log_dir);
  root.set("resources_dir", m.resources_dir);
  if (!m.status_page_users_file.empty()) {  // absent: {{#status_page}} is skipped
    data page;
    page.set("users_file", m.status_page_users_file);
    page.set("api", endpoint({m.status_page_api_host, m.status_page_api_port, "", ""}));
    root.set("status_page", page);
  }
  data limits;
  limits.set("max_requests_per_client", std::to_string(m.limits.max_requests_per_client));
  limits.set("max_requests", std::to_string(m.limits.max_requests));
  limits.set("upstream_read_timeout_s", std::to_string(m.limits.upstream_read_timeout_s));
  root.set("limits", limits);
  data services = data::type::list;
  for (const auto& set : m.services) {
    data service;
    if (auto e = service_data(set, m.local_node, service)) {
      out.error = *e;
      return out;
    }
    // A key equal to a top-level name would silently replace it.
    if (set.key == "services" || root.get(set.key) != nullptr) {
      out.error = "refusing service key " + quoted_printable(set.key) + ": already a template name";
      return out;
    }
    services.push_back(service);
    root.set(set.key, service);
  }
  root.set("services", services);
  return render_config(template_text, root);
}

}  // namespace hasup::nginx
