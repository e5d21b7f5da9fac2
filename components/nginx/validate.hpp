#pragma once
// Consul's passing instances of one watched service -> the upstream servers
// nginx may proxy to. What Consul returns is data anyone who can register a
// service controls, not config: every field that could reach nginx.conf (or a
// log line) is checked here, and an instance with one bad field is left out.
#include <string>
#include <vector>

#include "components/nginx/model.hpp"
#include "supervisor/consul/types.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::nginx {

// An instance left out, and why. Every field is printable as it is: control
// characters are escaped and long values cut, so a newline in Consul's data
// cannot forge a log line.
struct Rejected {
  std::string service;
  std::string service_id;
  std::string node;
  std::string reason;  // e.g. address "1.2.3.4; include /etc/shadow" is not an IP address or host name
};

struct Validated {
  ServiceSet set;  // sorted by address and port, one server per address and port
  std::vector<Rejected> rejected;
};

// Which instances a set is made of: those passing their checks (nginx's
// upstreams), or those failing them on a node Consul's gossip has alive (the
// fallback when none passes: components/nginx/view.hpp). Any other is refused.
enum class Accept { passing, failing_on_live_node };

Validated validate_instances(const std::string& service_name, const std::vector<consul::ServiceInstance>& instances,
                             Accept accept = Accept::passing);

// "rest-service" -> "rest_service": '-' and '.' are not usable in a mustache name.
std::string template_key(const std::string& service_name);

}  // namespace hasup::nginx
