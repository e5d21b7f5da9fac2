#pragma once
// A real Consul cluster (the 1.8.7 binary scripts/setup unpacks) of N server
// agents on 127.0.0.1 with ports picked free at start: other agents on this
// machine are left alone. Settings follow TESTBED.md: raft_multiplier 1,
// autopilot cleanup_dead_servers off, dns and grpc off.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/http/client.hpp"
#include "tests/testbed/process.hpp"

namespace hasup::testbed {

struct ConsulAgent {
  std::string name;
  unsigned short http = 0, serf_lan = 0, serf_wan = 0, server = 0;
  std::string dir;
  std::string log;
  std::unique_ptr<Process> process;
};

enum class ConsulApi { http, https };

class ConsulCluster {
 public:
  // https: the API on each agent's `http` port is HTTPS only (plain HTTP off),
  // with the certificate components/patroni/generate-secrets makes for a real
  // cluster; every call below then verifies it against that CA (ca_file()).
  explicit ConsulCluster(int servers = 3, const std::string& tag = "consul", ConsulApi api = ConsulApi::http);
  ~ConsulCluster();

  static std::string binary();
  static bool available();  // false when scripts/setup has not been run

  // Starts every agent and waits until all agree on a Raft leader. Throws on failure.
  void start(std::chrono::seconds timeout = std::chrono::seconds(60));
  int size() const { return static_cast<int>(agents_.size()); }
  ConsulAgent& agent(int i) { return agents_.at(static_cast<std::size_t>(i)); }

  void start_agent(int i);
  void kill_agent(int i);    // SIGKILL: a crashed agent
  void freeze_agent(int i);  // SIGSTOP: a hung or cut-off agent (no answers, no gossip)
  void thaw_agent(int i);
  bool agent_running(int i);

  // Synchronous HTTP to agent i (for assertions), 3 s timeout.
  http::Outcome get(int i, const std::string& target);
  http::Outcome put(int i, const std::string& target, const std::string& body);
  http::Outcome del(int i, const std::string& target);
  std::string raft_leader(int i);  // "" when none or unreachable
  bool all_agree_on_leader();

  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/tls/ca.pem"; }  // with ConsulApi::https
  http::Endpoint endpoint(int i) { return {"127.0.0.1", agent(i).http, tls_}; }

 private:
  void write_config(int i);
  void make_certificates();
  std::string dir_;
  ConsulApi api_;
  std::shared_ptr<const http::TlsTrust> tls_;
  std::vector<ConsulAgent> agents_;
};

}  // namespace hasup::testbed
