#include "components/nginx/status.hpp"

#include "components/nginx/decide.hpp"

namespace hasup::loop {

using nlohmann::json;

json nginx_status(const Snapshot& s) {
  json upstreams = json::object();
  json rejected = json::array();
  for (const auto& service : s.nginx.services) {
    json servers = json::array();
    for (const auto& server : service.set.servers) servers.push_back(server.address + ":" + std::to_string(server.port));
    upstreams[service.name] = {{"known", service.known}, {"passing", servers}, {"watch_error", service.error}};
    for (const auto& r : service.rejected) rejected.push_back(service.name + ": " + r);
  }
  json status = {{"generation", s.nginx.generation},
          {"upstreams_fingerprint", s.nginx.fingerprint},
          {"serving", nginx_served_summary(s.nginx)},
          {"reloads", s.nginx.reloads},
          {"upstreams", upstreams},
          {"rejected_instances", rejected},
          {"refused_config", s.nginx.rejected_error},
          {"last_error", s.nginx.last_error}};
  add_catch_up_status(s.nginx.conf_file, status);
  return status;
}

}  // namespace hasup::loop
