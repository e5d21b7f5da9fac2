#pragma once
// The nginx test bed: a real Consul (one server), a real systemd 252 as PID 1
// of its own namespaces sharing the host's network (so nginx in it listens on
// this host's loopback), the real ha-nginx unit and template from components/
// and templates/, and an ha-supervisor that renders nginx's config from
// Consul and reloads nginx over the node's D-Bus. The REST instances are
// HttpBackends on loopback, registered in Consul by the test with TTL checks
// it passes and fails itself, so a health change happens exactly when the
// test says.
//
// Only host-global paths differ from a real node: nginx's config, runtime and
// log folders live in the node's scratch folder, and the unit's
// LogsDirectory= (/var/log of the host) is dropped.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "supervisor/http/client.hpp"
#include "tests/testbed/consul_cluster.hpp"
#include "tests/testbed/supervisor_process.hpp"
#include "tests/testbed/systemd_node.hpp"

namespace hasup::testbed {

struct NginxStackOptions {
  int wait_min_ms = 50;
  int wait_max_ms = 1000;
  int reload_interval_ms = 1000;
  int max_requests_per_client = 128;
};

class NginxStack {
 public:
  static constexpr const char* kNginx = "/usr/sbin/nginx";
  // Empty when the stack can run here (root, systemd, Consul, nginx), else why not.
  static std::string unavailable_reason();

  explicit NginxStack(const std::string& tag, NginxStackOptions options = {});
  ~NginxStack();
  NginxStack(const NginxStack&) = delete;
  NginxStack& operator=(const NginxStack&) = delete;

  // Consul alone, to register instances before the supervisor starts.
  void start_consul();
  // Consul (unless started), then the node, then the supervisor; returns once nginx serves
  // generation 1 (throws std::runtime_error with the logs otherwise).
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // A rest-service instance in Consul with a TTL check driven by set_passing().
  void register_instance(const std::string& id, const std::string& address, int port, bool passing = true);
  void set_passing(const std::string& id, bool passing);
  void deregister_instance(const std::string& id);

  int nginx_port() const { return nginx_port_; }
  // One GET through nginx (new connection, 2 s timeout).
  http::Outcome get(const std::string& target);
  // self.nginx of the supervisor's /cluster document; nullopt when unreachable.
  std::optional<nlohmann::json> nginx_status();
  std::uint64_t generation();  // 0 when unknown
  std::uint64_t reloads();

  const std::string& template_path() const { return template_path_; }  // the supervisor's copy
  const std::string& conf_path() const { return conf_path_; }
  std::string resources_dir() const { return dir_ + "/resources"; }  // nginx's /resources/
  SupervisorProcess& supervisor() { return *supervisor_; }
  SystemdNode& node() { return *node_; }
  ConsulCluster& consul() { return *consul_; }
  std::string logs();  // supervisor log and the node's journal-less nginx error log
  std::string access_log() const;  // nginx's access log as it is now

 private:
  NginxStackOptions options_;
  std::unique_ptr<ConsulCluster> consul_;
  std::unique_ptr<SystemdNode> node_;
  std::unique_ptr<SupervisorProcess> supervisor_;
  std::string dir_;
  std::string template_path_;
  std::string conf_path_;
  int nginx_port_ = 0;
  bool consul_started_ = false;
};

// Polls `condition` every 20 ms until it holds or the time is up.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace hasup::testbed
