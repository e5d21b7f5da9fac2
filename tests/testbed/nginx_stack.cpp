#include "tests/testbed/nginx_stack.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/testbed/process.hpp"

namespace hasup::testbed {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::string NginxStack::unavailable_reason() {
  if (auto why = SystemdNode::unavailable_reason(); !why.empty()) return why;
  if (!ConsulCluster::available()) return "Consul is not installed (run scripts/setup)";
  if (::access(kNginx, X_OK) != 0) return std::string(kNginx) + " is missing (run scripts/setup)";
  return {};
}

NginxStack::NginxStack(const std::string& tag, NginxStackOptions options) : options_(options) {
  consul_ = std::make_unique<ConsulCluster>(1, tag + "-consul");
  node_ = std::make_unique<SystemdNode>(tag, NodeNetwork::host);
  dir_ = node_->dir() + "/nginx";
  // nginx's workers run as nobody and must reach their temp folders.
  ::chmod(node_->dir().c_str(), 0755);
  std::filesystem::create_directories(dir_);
  ::chmod(dir_.c_str(), 0755);
  template_path_ = dir_ + "/nginx.conf.mustache";
  conf_path_ = dir_ + "/nginx.conf";
  write_file(template_path_, read_file(HA_SOURCE_DIR "/templates/nginx.conf.mustache"));
  std::string unit = read_file(HA_SOURCE_DIR "/components/nginx/ha-nginx.service");
  const std::string real_conf = "/etc/ha-supervisor/nginx/nginx.conf";
  for (auto at = unit.find(real_conf); at != std::string::npos; at = unit.find(real_conf))
    unit.replace(at, real_conf.size(), conf_path_);
  // Its own /tmp would hide the test's files, which live under /tmp.
  std::string kept;
  std::stringstream lines(unit);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("LogsDirectory=", 0) != 0 && line.rfind("PrivateTmp=", 0) != 0) kept += line + "\n";
  node_->add_unit("ha-nginx.service", kept);
}

NginxStack::~NginxStack() {
  if (supervisor_) supervisor_->terminate();
  supervisor_.reset();
  if (node_) node_->shutdown();
  consul_.reset();
}

void NginxStack::start_consul() {
  if (consul_started_) return;
  consul_->start();
  consul_started_ = true;
}

void NginxStack::start(std::chrono::milliseconds timeout) {
  start_consul();
  node_->boot();
  nginx_port_ = free_port();
  SupervisorOptions o;
  o.name = "n1";
  o.consul_http = consul_->agent(0).http;
  o.extra_config = "systemd: { bus_address = \"" + node_->bus_address() + "\"; };\n" +
                   "nginx: { enabled = true; services = \"rest-service\"; template = \"" + template_path_ +
                   "\"; conf_path = \"" + conf_path_ + "\"; unit = \"ha-nginx.service\"; listen_address = \"127.0.0.1\";"
                   " listen_port = " + std::to_string(nginx_port_) + "; user = \"\"; runtime_dir = \"" + dir_ +
                   "/run\"; log_dir = \"" + dir_ + "/log\"; resources_dir = \"" + dir_ + "/resources\";" +
                   " wait_min_ms = " + std::to_string(options_.wait_min_ms) + "; wait_max_ms = " +
                   std::to_string(options_.wait_max_ms) + "; reload_interval_ms = " +
                   std::to_string(options_.reload_interval_ms) + "; max_requests_per_client = " +
                   std::to_string(options_.max_requests_per_client) + "; };\n";
  supervisor_ = std::make_unique<SupervisorProcess>(o, dir_);
  supervisor_->start();
  bool serving = eventually([&] { return generation() >= 1 && get("/nginx-health").response.status == 200; }, timeout);
  if (!serving) throw std::runtime_error("nginx did not come up through the supervisor:\n" + logs());
}

void NginxStack::register_instance(const std::string& id, const std::string& address, int port, bool passing) {
  nlohmann::json body = {{"ID", id},
                         {"Name", "rest-service"},
                         {"Address", address},
                         {"Port", port},
                         {"Check", {{"CheckID", "check-" + id}, {"Name", "driven by the test"}, {"TTL", "600s"},
                                    {"Status", passing ? "passing" : "critical"}}}};
  auto o = consul_->put(0, "/v1/agent/service/register", body.dump());
  if (!o.ok || o.response.status != 200)
    throw std::runtime_error("registering " + id + ": " + (o.ok ? o.response.body : o.error));
}

void NginxStack::set_passing(const std::string& id, bool passing) {
  auto o = consul_->put(0, std::string("/v1/agent/check/") + (passing ? "pass" : "fail") + "/check-" + id, "");
  if (!o.ok || o.response.status != 200)
    throw std::runtime_error("check of " + id + ": " + (o.ok ? o.response.body : o.error));
}

void NginxStack::deregister_instance(const std::string& id) {
  auto o = consul_->put(0, "/v1/agent/service/deregister/" + id, "");
  if (!o.ok || o.response.status != 200)
    throw std::runtime_error("deregistering " + id + ": " + (o.ok ? o.response.body : o.error));
}

http::Outcome NginxStack::get(const std::string& target) {
  http::Request r;
  r.target = target;
  http::Policy policy;
  policy.timeout = 2000ms;
  return http::request_sync({"127.0.0.1", static_cast<unsigned short>(nginx_port_)}, r, policy);
}

std::optional<nlohmann::json> NginxStack::nginx_status() {
  if (!supervisor_) return std::nullopt;
  auto doc = supervisor_->cluster();
  if (!doc || !doc->contains("self") || !(*doc)["self"].contains("nginx")) return std::nullopt;
  return (*doc)["self"]["nginx"];
}

std::uint64_t NginxStack::generation() {
  auto s = nginx_status();
  return s ? s->value("generation", std::uint64_t{0}) : 0;
}

std::uint64_t NginxStack::reloads() {
  auto s = nginx_status();
  return s ? s->value("reloads", std::uint64_t{0}) : 0;
}

std::string NginxStack::access_log() const { return read_file(dir_ + "/log/access.log"); }

std::string NginxStack::logs() {
  std::string out = "--- supervisor log:\n" + (supervisor_ ? supervisor_->log() : std::string("(none)"));
  out += "\n--- nginx error log:\n" + read_file(dir_ + "/log/error.log");
  out += "\n--- node log:\n" + node_->log();
  return out;
}

}  // namespace hasup::testbed
