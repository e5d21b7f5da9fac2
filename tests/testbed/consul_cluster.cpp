#include "tests/testbed/consul_cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace hasup::testbed {

using nlohmann::json;

ConsulCluster::ConsulCluster(int servers, const std::string& tag, ConsulApi api)
    : dir_(make_temp_dir(tag)), api_(api) {
  if (api_ == ConsulApi::https) make_certificates();
  for (int i = 0; i < servers; ++i) {
    ConsulAgent a;
    a.name = "consul" + std::to_string(i + 1);
    a.http = free_port();
    a.serf_lan = free_port();
    a.serf_wan = free_port();
    a.server = free_port();
    a.dir = dir_ + "/" + a.name;
    a.log = a.dir + ".log";
    std::filesystem::create_directories(a.dir + "/data");
    agents_.push_back(std::move(a));
  }
  for (int i = 0; i < servers; ++i) write_config(i);
}

ConsulCluster::~ConsulCluster() {
  for (auto& a : agents_) a.process.reset();
  if (!std::getenv("HASUP_KEEP_TEST_DIRS")) remove_tree(dir_);
}

std::string ConsulCluster::binary() { return HA_CONSUL_BIN; }

bool ConsulCluster::available() { return access(binary().c_str(), X_OK) == 0; }

// The cluster's real secrets file, its Consul certificate and CA as PEM files.
void ConsulCluster::make_certificates() {
  const std::string command = "cd '" + dir_ + "' && '" + HA_SOURCE_DIR +
                              "/components/patroni/generate-secrets' secrets && mkdir -m 0700 tls && "
                              "for p in ca cert key; do sed -n s/^consul_tls_$p=//p secrets | base64 -d >tls/$p.pem; done";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  std::string error;
  tls_ = http::load_tls_trust(ca_file(), error);
  if (!tls_) throw std::runtime_error("components/patroni/generate-secrets gave no usable CA: " + error);
}

// Every agent gets what a real node gets: components/consul/consul-config's
// output (raft_multiplier, gossip timings, session_ttl_min...), with this
// agent's ports; the tests then time what production does.
void ConsulCluster::write_config(int i) {
  const auto& a = agents_[static_cast<std::size_t>(i)];
  std::string command = std::string("'") + HA_SOURCE_DIR + "/components/consul/consul-config' --name " + a.name +
                        " --bind 127.0.0.1 --client '" +
                        // HTTPS: also on 127.0.0.2, an address its certificate does not name.
                        (api_ == ConsulApi::https ? "127.0.0.1 127.0.0.2" : "127.0.0.1") + "' --data-dir '" + a.dir + "/data' --expect " +
                        std::to_string(agents_.size()) + (api_ == ConsulApi::https ? " --https " : " --http ") +
                        std::to_string(a.http) + " --serf-lan " +
                        std::to_string(a.serf_lan) + " --serf-wan " + std::to_string(a.serf_wan) + " --server-port " +
                        std::to_string(a.server);
  for (const auto& other : agents_)
    if (other.name != a.name) command += " --join 127.0.0.1:" + std::to_string(other.serf_lan);
  std::string text;
  if (FILE* out = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
    if (::pclose(out) != 0) text.clear();
  }
  json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) throw std::runtime_error("components/consul/consul-config gave no config: " + command);
  if (api_ == ConsulApi::https) {  // as components/consul/install.sh's tls.json, for the API
    config["ca_file"] = ca_file();
    config["cert_file"] = dir_ + "/tls/cert.pem";
    config["key_file"] = dir_ + "/tls/key.pem";
  }
  write_file(a.dir + "/config.json", config.dump(2));
}

void ConsulCluster::start_agent(int i) {
  auto& a = agents_.at(static_cast<std::size_t>(i));
  a.process = std::make_unique<Process>(
      Process::spawn({binary(), "agent", "-config-file=" + a.dir + "/config.json"}, a.log));
}

void ConsulCluster::start(std::chrono::seconds timeout) {
  if (!available()) throw std::runtime_error("consul not found at " + binary() + ": run scripts/setup");
  for (int i = 0; i < size(); ++i) start_agent(i);
  bool formed = wait_until([this] { return all_agree_on_leader(); }, timeout, std::chrono::milliseconds(200));
  if (!formed) throw std::runtime_error("consul cluster did not elect a leader; logs in " + dir_);
  // Sessions need each node's serfHealth check, which the new Raft leader
  // registers a moment after its election: wait for it, or the first session
  // created can be refused.
  bool checks = wait_until([this] {
    for (int i = 0; i < size(); ++i) {
      auto o = get(0, "/v1/health/node/" + agent(i).name);
      if (!o.ok || o.response.body.find("\"serfHealth\"") == std::string::npos ||
          o.response.body.find("\"passing\"") == std::string::npos)
        return false;
    }
    return true;
  }, timeout, std::chrono::milliseconds(100));
  if (!checks) throw std::runtime_error("consul nodes' serfHealth checks never passed; logs in " + dir_);
}

void ConsulCluster::kill_agent(int i) { agents_.at(static_cast<std::size_t>(i)).process.reset(); }

void ConsulCluster::freeze_agent(int i) {
  auto& p = agents_.at(static_cast<std::size_t>(i)).process;
  if (!p) return;
  p->signal(SIGSTOP);
  if (!p->wait_stopped(std::chrono::seconds(2)))
    throw std::runtime_error("consul agent " + std::to_string(i) + " did not stop within 2 s of SIGSTOP");
}

void ConsulCluster::thaw_agent(int i) {
  auto& p = agents_.at(static_cast<std::size_t>(i)).process;
  if (p) p->signal(SIGCONT);
}

bool ConsulCluster::agent_running(int i) {
  auto& p = agents_.at(static_cast<std::size_t>(i)).process;
  return p && p->running();
}

http::Outcome ConsulCluster::get(int i, const std::string& target) {
  http::Request r;
  r.target = target;
  http::Policy policy;
  policy.timeout = std::chrono::milliseconds(3000);
  return http::request_sync(endpoint(i), r, policy);
}

http::Outcome ConsulCluster::put(int i, const std::string& target, const std::string& body) {
  http::Request r;
  r.method = http::Method::put;
  r.target = target;
  r.body = body;
  http::Policy policy;
  policy.timeout = std::chrono::milliseconds(3000);
  return http::request_sync(endpoint(i), r, policy);
}

http::Outcome ConsulCluster::del(int i, const std::string& target) {
  http::Request r;
  r.method = http::Method::del;
  r.target = target;
  http::Policy policy;
  policy.timeout = std::chrono::milliseconds(3000);
  return http::request_sync(endpoint(i), r, policy);
}

std::string ConsulCluster::raft_leader(int i) {
  auto o = get(i, "/v1/status/leader");
  if (!o.ok || o.response.status != 200) return "";
  auto parsed = json::parse(o.response.body, nullptr, false);
  return parsed.is_string() ? parsed.get<std::string>() : "";
}

bool ConsulCluster::all_agree_on_leader() {
  std::string first;
  for (int i = 0; i < size(); ++i) {
    if (!agent_running(i)) continue;
    auto leader = raft_leader(i);
    if (leader.empty() || (!first.empty() && leader != first)) return false;
    first = leader;
  }
  return !first.empty();
}

}  // namespace hasup::testbed
