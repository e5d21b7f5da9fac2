#include "components/nginx/validate.hpp"

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/printable.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <tuple>

namespace hasup::nginx {

namespace {


bool only(const std::string& value, std::string_view extra) {
  return std::all_of(value.begin(), value.end(), [extra](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// Rejected's fields are printed as they are: strip the quotes quoted_printable() adds.
std::string printable(const std::string& value) {
  std::string q = quoted_printable(value);
  return q.substr(1, q.size() - 2);
}

// The first reason the instance is unusable, if any.
std::optional<std::string> problem(const std::string& service_name, const consul::ServiceInstance& instance,
                                   const std::string& address, Accept accept) {
  if (accept == Accept::passing && instance.status != "passing")
    return "not passing (" + printable(instance.status) + ")";
  if (accept == Accept::failing_on_live_node && (instance.status == "passing" || !instance.node_alive))
    return instance.node_alive ? "passing" : "its node failed";
  if (instance.service != service_name) return "service name " + quoted_printable(instance.service) + " is not the one asked for";
  if (!is_plain_name(instance.service_id)) return "service id " + quoted_printable(instance.service_id) + " is not [A-Za-z0-9._-]{1,128}";
  if (!is_plain_name(instance.node)) return "node name " + quoted_printable(instance.node) + " is not [A-Za-z0-9._-]{1,128}";
  if (!host_problem(address).empty())
    return "address " + quoted_printable(address) + " is not an IP address or host name";
  if (instance.port < 1 || instance.port > 65535) return "port " + std::to_string(instance.port) + " is not 1..65535";
  for (const auto& tag : instance.tags)
    if (tag.empty() || !only(tag, "._:=-")) return "tag " + quoted_printable(tag) + " is not [A-Za-z0-9._:=-]+";
  return std::nullopt;
}

}  // namespace

std::string template_key(const std::string& service_name) {
  std::string key = service_name;
  std::replace_if(key.begin(), key.end(), [](char c) { return c == '-' || c == '.'; }, '_');
  return key;
}

Validated validate_instances(const std::string& service_name, const std::vector<consul::ServiceInstance>& instances,
                             Accept accept) {
  Validated out;
  out.set.name = service_name;
  out.set.key = template_key(service_name);
  for (const auto& instance : instances) {
    // Consul leaves the service address empty when the service uses its node's.
    const std::string& address = instance.address.empty() ? instance.node_address : instance.address;
    if (auto why = problem(service_name, instance, address, accept)) {
      out.rejected.push_back({printable(instance.service), printable(instance.service_id), printable(instance.node), *why});
      continue;
    }
    out.set.servers.push_back({address, instance.port, instance.node, instance.service_id});
  }
  // Sorted, so the same instances always render the same file (no reload for
  // a mere reordering). Two registrations of one address and port are one
  // server to nginx: keep the first by service id, so the choice is stable.
  auto& servers = out.set.servers;
  std::sort(servers.begin(), servers.end(), [](const UpstreamServer& a, const UpstreamServer& b) {
    return std::tie(a.address, a.port, a.service_id, a.node) < std::tie(b.address, b.port, b.service_id, b.node);
  });
  servers.erase(std::unique(servers.begin(), servers.end(),
                            [](const UpstreamServer& a, const UpstreamServer& b) {
                              return a.address == b.address && a.port == b.port;
                            }),
                servers.end());
  return out;
}

}  // namespace hasup::nginx
