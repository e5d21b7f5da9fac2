#pragma once
// A real 3-server Consul cluster plus one supervisor per agent, as on three
// manager machines. Each test gets a fresh cluster on free loopback ports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "tests/testbed/consul_cluster.hpp"
#include "tests/testbed/supervisor_process.hpp"

namespace hasup::testbed {

// Polls /leader on every given status port until stopped, counting samples in
// which more than one node claims leadership. Touches only ports, never the
// Process objects the test thread is killing and restarting.
class DoubleLeaderSampler {
 public:
  explicit DoubleLeaderSampler(std::vector<unsigned short> ports) : ports_(std::move(ports)) {
    thread_ = std::thread([this] { run(); });
  }
  ~DoubleLeaderSampler() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  int double_leader_samples() const { return doubles_; }
  int samples() const { return samples_; }

 private:
  void run() {
    while (running_) {
      int leaders = 0;
      for (auto port : ports_) {
        http::Request r;
        r.target = "/leader";
        http::Policy policy;
        policy.timeout = std::chrono::milliseconds(500);
        auto o = http::request_sync({"127.0.0.1", port}, r, policy);
        if (o.ok && o.response.status == 200) ++leaders;
      }
      ++samples_;
      if (leaders > 1) ++doubles_;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  std::vector<unsigned short> ports_;
  std::atomic<bool> running_{true};
  std::atomic<int> doubles_{0};
  std::atomic<int> samples_{0};
  std::thread thread_;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ConsulCluster::available()) GTEST_SKIP() << "consul binary missing at " << ConsulCluster::binary() << ": run scripts/setup";
    consul_ = std::make_unique<ConsulCluster>(3, "it");
    consul_->start();
  }

  void TearDown() override {
    supervisors_.clear();
    if (::testing::Test::HasFailure() && consul_) {
      std::cerr << "test directory kept for inspection: " << consul_->dir() << "\n";
      setenv("HASUP_KEEP_TEST_DIRS", "1", 1);
    }
    consul_.reset();
    unsetenv("HASUP_KEEP_TEST_DIRS");
  }

  SupervisorOptions options_for(int i) {
    SupervisorOptions o;
    o.name = "n" + std::to_string(i + 1);
    o.consul_http = consul_->agent(i).http;
    return o;
  }

  SupervisorProcess& add_supervisor(int i, SupervisorOptions options) {
    supervisors_.resize(std::max<std::size_t>(supervisors_.size(), static_cast<std::size_t>(i) + 1));
    supervisors_[static_cast<std::size_t>(i)] = std::make_unique<SupervisorProcess>(options, consul_->dir());
    supervisors_[static_cast<std::size_t>(i)]->start();
    return *supervisors_[static_cast<std::size_t>(i)];
  }

  void start_supervisors(int count = 3) {
    for (int i = 0; i < count; ++i) add_supervisor(i, options_for(i));
  }

  SupervisorProcess& sup(int i) { return *supervisors_.at(static_cast<std::size_t>(i)); }

  // Index of the one supervisor answering /leader with 200; -1 for none, -2 for several.
  int leader_index() {
    int found = -1;
    for (std::size_t i = 0; i < supervisors_.size(); ++i) {
      if (!supervisors_[i] || !supervisors_[i]->running()) continue;
      if (supervisors_[i]->is_leader()) {
        if (found >= 0) return -2;
        found = static_cast<int>(i);
      }
    }
    return found;
  }

  int wait_for_leader(std::chrono::milliseconds timeout, int not_this = -1) {
    int leader = -1;
    wait_until([&] {
      leader = leader_index();
      return leader >= 0 && leader != not_this;
    }, timeout, std::chrono::milliseconds(20));
    return leader;
  }

  std::vector<unsigned short> api_ports() {
    std::vector<unsigned short> ports;
    for (auto& s : supervisors_)
      if (s) ports.push_back(s->api_port());
    return ports;
  }

  std::uint64_t leader_epoch(int viewer) {
    auto doc = sup(viewer).cluster();
    if (!doc || !(*doc)["leader"].is_object()) return 0;
    return (*doc)["leader"]["epoch"].get<std::uint64_t>();
  }

  // Waits until every running supervisor lists exactly `count` members.
  bool wait_for_members(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_until([&] {
      for (auto& s : supervisors_) {
        if (!s || !s->running()) continue;
        auto doc = s->cluster();
        if (!doc || live_members(*doc) != count) return false;
      }
      return true;
    }, timeout);
  }

  // Ends every session on agent i's node, as Consul does at the session TTL
  // (or at a node's failure): its keys go, and the lock-delay starts.
  bool destroy_sessions_on(int i) {
    auto sessions = consul_->get(i, "/v1/session/node/" + consul_->agent(i).name);
    if (!sessions.ok || sessions.response.status != 200) return false;
    for (const auto& session : nlohmann::json::parse(sessions.response.body, nullptr, false))
      if (!consul_->put(i, "/v1/session/destroy/" + session.value("ID", ""), "").ok) return false;
    return true;
  }

  // Three supervisors with a leader; then a follower killed (SIGKILL) and its
  // sessions ended as at the session TTL. The leader's index, or -1.
  int leader_with_a_follower_gone_for_good(int& follower) {
    start_supervisors();
    int leader = wait_for_leader(std::chrono::seconds(20));
    if (leader < 0 || !wait_for_members(3, std::chrono::seconds(10))) return -1;
    follower = (leader + 1) % 3;
    sup(follower).kill();
    return destroy_sessions_on(follower) ? leader : -1;
  }

  std::size_t member_count(int viewer) {
    auto doc = sup(viewer).cluster();
    return doc ? live_members(*doc) : 0;
  }

  std::unique_ptr<ConsulCluster> consul_;
  std::vector<std::unique_ptr<SupervisorProcess>> supervisors_;
};

}  // namespace hasup::testbed
