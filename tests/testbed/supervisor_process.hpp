#pragma once
// One ha-supervisor process for tests: writes its config, starts it, talks to
// its status API. It points at one Consul agent, as on a real node.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "supervisor/http/client.hpp"
#include "tests/testbed/process.hpp"

namespace hasup::testbed {

struct SupervisorOptions {
  std::string name;             // node.name
  std::string address = "127.0.0.1";
  unsigned short consul_http = 0;
  std::string key_prefix = "ha-supervisor";
  std::string extra_config;     // appended libconfig text (extra keys in groups must be whole groups)
  std::string consul_section;   // extra keys inside consul: { ... }
};

// Members with a live record in a /cluster document; it also lists registered
// nodes that are down, with role "down".
inline std::size_t live_members(const nlohmann::json& doc) {
  std::size_t n = 0;
  for (const auto& m : doc["members"])
    if (m["role"] != "down") ++n;
  return n;
}

class SupervisorProcess {
 public:
  SupervisorProcess(SupervisorOptions options, const std::string& dir);
  ~SupervisorProcess();

  static std::string binary();
  static std::string hactl();

  void start();
  void terminate();  // SIGTERM, waits up to 10 s for the exit
  void kill();       // SIGKILL
  void signal(int number);
  bool running();
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  int wait_exit(std::chrono::milliseconds timeout);

  unsigned short api_port() const { return api_port_; }
  // The API's write token file (api.token_file): rewritten at every start.
  const std::string& token_file() const { return token_file_; }
  // "Bearer TOKEN" with the token this start wrote: the Authorization of a write.
  std::string bearer() const;
  // This node's memory of the cluster's nodes (node.known_nodes_file): kept across restarts.
  const std::string& known_nodes_file() const { return known_nodes_file_; }
  // This node's copy of the cluster's settings (node.settings_file): kept across restarts.
  const std::string& settings_file() const { return settings_file_; }
  const std::string& name() const { return options_.name; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const;
  void rewrite_config(const SupervisorOptions& options);

  // Status API (2 s timeout); status 0 when unreachable.
  int get_status(const std::string& path, std::string* body = nullptr);
  bool is_leader() { return get_status("/leader") == 200; }
  bool is_healthy() { return get_status("/health") == 200; }
  std::optional<nlohmann::json> cluster();
  // POST to the status API with `authorization` as the header ("" none); the status, 0 when unreachable.
  int post(const std::string& path, const std::string& body, const std::string& authorization,
           std::string* answer = nullptr);

 private:
  std::string config_text(const SupervisorOptions& options) const;
  int call(const http::Request& r, std::chrono::milliseconds timeout, std::string* body);
  SupervisorOptions options_;
  std::string config_path_;
  std::string log_path_;
  std::string token_file_;
  std::string known_nodes_file_;
  std::string settings_file_;
  unsigned short api_port_;
  std::unique_ptr<Process> process_;
};

}  // namespace hasup::testbed
