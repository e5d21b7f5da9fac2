#pragma once
// What nginx's config says for one node: plain values, no I/O. The upstream
// servers come from Consul (passing instances of the watched services) and are
// data, not config: validate.hpp turns Consul's answer into these, rejecting
// anything that is not a plain address, port and name.
#include <string>
#include <vector>

namespace hasup::nginx {

struct UpstreamServer {
  std::string address;     // IPv4, IPv6 (without brackets) or RFC 1123 host name
  int port = 0;            // 1..65535
  std::string node;        // Consul node name, for a comment in the config
  std::string service_id;  // Consul service ID
  bool operator==(const UpstreamServer&) const = default;
  auto operator<=>(const UpstreamServer&) const = default;
};

// One watched Consul service and its passing, valid instances (sorted, so the
// same set always renders the same text).
struct ServiceSet {
  std::string name;  // Consul service name, e.g. "rest-service"
  std::string key;   // its name in templates: '-' and '.' become '_', e.g. "rest_service"
  std::vector<UpstreamServer> servers;
  bool operator==(const ServiceSet&) const = default;
};

// What clients may ask of nginx (see nginx.* in the supervisor's config).
struct RequestLimits {
  int max_requests_per_client = 128;
  int max_requests = 256;
  int upstream_read_timeout_s = 720;
  bool operator==(const RequestLimits&) const = default;
};

// Node-specific values come from config; services from Consul.
struct NginxModel {
  std::string node_name;
  std::string listen_address;  // IP literal or host name; empty: every address
  int listen_port = 80;
  std::string user;           // worker user ("www-data"); empty: no user directive
  std::string runtime_dir;    // pid file and temp paths
  std::string log_dir;
  std::string resources_dir;  // served read-only under /resources/
  // The status page through nginx (/ha-status/): the htpasswd file ("" not
  // published) and the supervisor's API to proxy to (api.listen, api.port).
  std::string status_page_users_file;
  std::string status_page_api_host;
  int status_page_api_port = 0;
  RequestLimits limits;
  std::vector<ServiceSet> services;
  // The Consul node whose instances are this node's own. While a service has
  // one among its servers, the others render as `backup`: nginx sends
  // everything to this node's own instance and a peer only when it fails.
  std::string local_node;
  bool operator==(const NginxModel&) const = default;
};

}  // namespace hasup::nginx
