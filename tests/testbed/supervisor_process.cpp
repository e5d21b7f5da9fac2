#include "tests/testbed/supervisor_process.hpp"

#include <signal.h>

#include "supervisor/http/client.hpp"

namespace hasup::testbed {

SupervisorProcess::SupervisorProcess(SupervisorOptions options, const std::string& dir)
    : options_(std::move(options)),
      config_path_(dir + "/" + options_.name + ".conf"),
      log_path_(dir + "/" + options_.name + ".log"),
      token_file_(dir + "/" + options_.name + ".api-token"),
      known_nodes_file_(dir + "/" + options_.name + ".known-nodes.json"),
      settings_file_(dir + "/" + options_.name + ".cluster-settings.json"),
      api_port_(free_port()) {
  write_file(config_path_, config_text(options_));
}

SupervisorProcess::~SupervisorProcess() { process_.reset(); }

std::string SupervisorProcess::binary() { return HA_SUPERVISOR_BIN; }
std::string SupervisorProcess::hactl() { return HA_HACTL_BIN; }

std::string SupervisorProcess::config_text(const SupervisorOptions& o) const {
  return "node: { name = \"" + o.name + "\"; address = \"" + o.address + "\"; known_nodes_file = \"" +
         known_nodes_file() + "\"; settings_file = \"" + settings_file_ + "\"; };\n" +
         "consul: { host = \"127.0.0.1\"; port = " + std::to_string(o.consul_http) + "; key_prefix = \"" +
         o.key_prefix + "\"; " + o.consul_section + " };\n" + "api: { listen = \"127.0.0.1\"; port = " +
         std::to_string(api_port_) + "; token_file = \"" + token_file_ + "\"; };\n" + "log: { level = \"debug\"; };\n" + o.extra_config + "\n";
}

void SupervisorProcess::rewrite_config(const SupervisorOptions& options) {
  options_ = options;
  write_file(config_path_, config_text(options_));
}

void SupervisorProcess::start() {
  process_ = std::make_unique<Process>(Process::spawn({binary(), "--config", config_path_}, log_path_));
}

void SupervisorProcess::terminate() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::milliseconds(10000));
}

void SupervisorProcess::kill() {
  if (process_) process_->kill_and_reap();
}

void SupervisorProcess::signal(int number) {
  if (process_) process_->signal(number);
}

bool SupervisorProcess::running() { return process_ && process_->running(); }

int SupervisorProcess::wait_exit(std::chrono::milliseconds timeout) {
  return process_ ? process_->wait(timeout) : -1;
}

std::string SupervisorProcess::log() const { return read_file(log_path_); }

std::string SupervisorProcess::bearer() const {
  std::string token = read_file(token_file_);
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return "Bearer " + token;
}

int SupervisorProcess::call(const http::Request& r, std::chrono::milliseconds timeout, std::string* body) {
  http::Policy policy;
  policy.timeout = timeout;
  auto o = http::request_sync({"127.0.0.1", api_port_}, r, policy);
  if (!o.ok) return 0;
  if (body) *body = o.response.body;
  return o.response.status;
}

int SupervisorProcess::get_status(const std::string& path, std::string* body) {
  http::Request r;
  r.target = path;
  return call(r, std::chrono::milliseconds(2000), body);
}

int SupervisorProcess::post(const std::string& path, const std::string& body, const std::string& authorization,
                            std::string* answer) {
  http::Request r;
  r.method = http::Method::post;
  r.target = path;
  r.body = body;
  r.content_type = "application/json";
  if (!authorization.empty()) r.headers.emplace_back("Authorization", authorization);
  return call(r, std::chrono::milliseconds(5000), answer);
}

std::optional<nlohmann::json> SupervisorProcess::cluster() {
  std::string body;
  if (get_status("/cluster", &body) != 200) return std::nullopt;
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

}  // namespace hasup::testbed
