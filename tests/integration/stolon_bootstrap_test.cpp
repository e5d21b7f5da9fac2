// stolon's exactly-once bootstrap (components/stolon/bootstrap_once.hpp)
// against a real 3-server Consul 1.8.7: nodes that start together run the init
// command once between them, all of them report success, a node that comes
// later never runs it, and a failed init is taken over by a waiting node.
// The init command is a TEST DOUBLE of `stolonctl init` (no stolon here): a
// shell script that logs each run, sleeps, and writes clusterdata with one
// PUT to Consul's HTTP API, as stolonctl does at its end.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "components/stolon/bootstrap_once.hpp"
#include "supervisor/consul/client.hpp"
#include "tests/testbed/consul_cluster.hpp"
#include "tests/testbed/process.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using stolon::BootstrapOutcome;

// Logs "NODE" to RUNS for each run; fails once (exit 1) if it can rename
// FAIL_ONCE away (rename is atomic: one run only); else PUTs clusterdata via
// the node's own agent and logs "NODE" to WRITES.
constexpr const char* kInitTestDouble = R"(#!/bin/sh
# TEST DOUBLE of `stolonctl init`, written by tests/integration/stolon_bootstrap_test.cpp.
#   stolonctl-init-test-double RUNS WRITES FAIL_ONCE CONSUL_HTTP_PORT KEY NODE
runs=$1 writes=$2 fail_once=$3 port=$4 key=$5 node=$6
echo "$node" >>"$runs"
sleep 0.3
if mv "$fail_once" "$fail_once.used" 2>/dev/null; then
  echo "test double: failing on purpose on $node" >&2
  exit 1
fi
curl -sf -o /dev/null -X PUT --data-binary "{\"formatVersion\":1,\"testDoubleWrittenBy\":\"$node\"}" \
  "http://127.0.0.1:$port/v1/kv/$key" || exit 3
echo "$node" >>"$writes"
)";

struct Result {
  BootstrapOutcome outcome = BootstrapOutcome::failed;
  std::string detail;
  std::string node;
};

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  if (access(path.c_str(), F_OK) != 0) return out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

int count(const std::vector<Result>& results, BootstrapOutcome outcome) {
  int n = 0;
  for (const auto& r : results) n += r.outcome == outcome ? 1 : 0;
  return n;
}

std::string describe(const std::vector<Result>& results) {
  std::string out;
  for (const auto& r : results) out += "\n  " + r.node + ": " + stolon::to_string(r.outcome) + ": " + r.detail;
  return out;
}

class StolonBootstrapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ConsulCluster::available()) return;
    cluster_ = new ConsulCluster(3, "stolon-bootstrap");
    cluster_->start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    if (!cluster_) GTEST_SKIP() << "consul binary missing at " << ConsulCluster::binary() << ": run scripts/setup";
    if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "the init test double needs /usr/bin/curl";
    dir_ = make_temp_dir("stolon-bootstrap-test");
    script_ = dir_ + "/stolonctl-init-test-double";
    write_file(script_, kInitTestDouble);
    ::chmod(script_.c_str(), 0755);
    test_name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("HASUP_KEEP_TEST_DIRS")) remove_tree(dir_);
  }

  // One round's keys and files.
  struct Round {
    std::string prefix, runs, writes, fail_once;
    std::string clusterdata_key() const { return prefix + "/clusterdata"; }
    std::string lock_key() const { return prefix + "/bootstrap-lock"; }
  };
  Round round(int n) {
    Round r;
    r.prefix = "stolon-bootstrap-test/" + test_name_ + "/round-" + std::to_string(n);
    r.runs = dir_ + "/runs-" + std::to_string(n);
    r.writes = dir_ + "/writes-" + std::to_string(n);
    r.fail_once = dir_ + "/fail-once-" + std::to_string(n);
    return r;
  }

  stolon::BootstrapSettings settings(const Round& r, int agent, const std::string& node) {
    stolon::BootstrapSettings s;
    s.clusterdata_key = r.clusterdata_key();
    s.lock_key = r.lock_key();
    s.node_name = node;
    s.init_argv = {script_, r.runs, r.writes, r.fail_once, std::to_string(cluster_->agent(agent).http),
                   r.clusterdata_key(), node};
    s.init_timeout = 5s;
    s.wait_timeout = 30s;
    s.retry_delay = 200ms;
    return s;
  }

  // Starts one bootstrapper per (agent, node), all at once on one io_context
  // (each with its own Consul client and agent), and runs them to the end.
  std::vector<Result> race(const Round& r, const std::vector<std::pair<int, std::string>>& nodes,
                           std::chrono::milliseconds wait_timeout = 30s) {
    boost::asio::io_context io;
    std::vector<std::unique_ptr<consul::Client>> clients;
    std::vector<std::optional<Result>> results(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      consul::ClientSettings cs;
      cs.agent = {"127.0.0.1", cluster_->agent(nodes[i].first).http};
      cs.request_timeout = 3000ms;
      clients.push_back(std::make_unique<consul::Client>(io, cs));
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      auto s = settings(r, nodes[i].first, nodes[i].second);
      s.wait_timeout = wait_timeout;
      stolon::bootstrap_once(io, *clients[i], s,
                             [&results, i, node = nodes[i].second](BootstrapOutcome o, std::string detail) {
                               results[i] = Result{o, std::move(detail), node};
                             });
    }
    auto all_done = [&] {
      for (const auto& x : results)
        if (!x) return false;
      return true;
    };
    auto deadline = std::chrono::steady_clock::now() + wait_timeout + 20s;
    while (!all_done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(100ms);
    }
    std::vector<Result> out;
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_TRUE(results[i].has_value()) << nodes[i].second << " never reported";
      if (results[i]) out.push_back(*results[i]);
    }
    // Let late handlers (a session destroy) finish before the clients go.
    io.restart();
    io.run_for(200ms);
    return out;
  }

  std::optional<nlohmann::json> kv_entry(const std::string& key) {
    auto got = cluster_->get(0, "/v1/kv/" + key + "?consistent");
    if (!got.ok || got.response.status != 200) return std::nullopt;
    auto doc = nlohmann::json::parse(got.response.body, nullptr, false);
    if (!doc.is_array() || doc.empty()) return std::nullopt;
    return doc[0];
  }
  bool lock_is_held(const std::string& key) {
    auto entry = kv_entry(key);
    return entry && entry->contains("Session");
  }

  static ConsulCluster* cluster_;
  std::string dir_, script_, test_name_;
};

ConsulCluster* StolonBootstrapTest::cluster_ = nullptr;

// n1, n2, n3 on agents 0, 1, 2, started in an order that rotates with the
// round: the first one started is not always the one that wins.
std::vector<std::pair<int, std::string>> three_nodes(int round) {
  std::vector<std::pair<int, std::string>> nodes = {{0, "n1"}, {1, "n2"}, {2, "n3"}};
  std::rotate(nodes.begin(), nodes.begin() + round % 3, nodes.end());
  return nodes;
}

TEST_F(StolonBootstrapTest, ThreeNodesStartingTogetherInitialiseExactlyOnceAndALaterNodeNever) {
  for (int n = 1; n <= 5; ++n) {
    SCOPED_TRACE("round " + std::to_string(n));
    auto r = round(n);
    auto results = race(r, three_nodes(n));
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(count(results, BootstrapOutcome::initialised_here), 1) << describe(results);
    EXPECT_EQ(count(results, BootstrapOutcome::initialised_elsewhere), 2) << describe(results);
    EXPECT_EQ(lines_of(r.runs).size(), 1u) << "the init command must run exactly once" << describe(results);
    EXPECT_EQ(lines_of(r.writes).size(), 1u);
    auto clusterdata = kv_entry(r.clusterdata_key());
    ASSERT_TRUE(clusterdata.has_value());
    EXPECT_FALSE(lock_is_held(r.lock_key())) << "the holder released the lock";
    for (const auto& x : results)
      if (x.outcome == BootstrapOutcome::initialised_here) {
        EXPECT_EQ(lines_of(r.runs), std::vector<std::string>{x.node}) << "the node that says so ran it";
      } else {
        EXPECT_NE(x.detail.find("lock holder: " + lines_of(r.runs).at(0)), std::string::npos)
            << "the others name the holder: " << x.detail;
      }

    // A node that joins later finds clusterdata and runs nothing.
    auto later = race(r, {{n % 3, "n4"}});
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].outcome, BootstrapOutcome::already_initialised) << later[0].detail;
    EXPECT_EQ(lines_of(r.runs).size(), 1u) << "a later node must never re-initialise";
  }
}

TEST_F(StolonBootstrapTest, AFailedInitIsReportedAndAWaitingNodeTakesOverAndInitialisesOnce) {
  for (int n = 1; n <= 3; ++n) {
    SCOPED_TRACE("round " + std::to_string(n));
    auto r = round(n);
    write_file(r.fail_once, "the first run of the init test double fails\n");
    auto t0 = std::chrono::steady_clock::now();
    auto results = race(r, three_nodes(n));
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(count(results, BootstrapOutcome::failed), 1) << describe(results);
    EXPECT_EQ(count(results, BootstrapOutcome::initialised_here), 1) << describe(results);
    EXPECT_EQ(count(results, BootstrapOutcome::initialised_elsewhere), 1) << describe(results);
    auto runs = lines_of(r.runs);
    ASSERT_EQ(runs.size(), 2u) << "the failed run, then one take-over" << describe(results);
    EXPECT_NE(runs[0], runs[1]) << "another node took over";
    EXPECT_EQ(lines_of(r.writes).size(), 1u) << "exactly one successful init";
    for (const auto& x : results) {
      if (x.outcome == BootstrapOutcome::failed) {
        EXPECT_EQ(x.node, runs[0]);
        EXPECT_NE(x.detail.find("exit 1"), std::string::npos) << x.detail;
        EXPECT_NE(x.detail.find("failing on purpose"), std::string::npos) << "the command's own words: " << x.detail;
      }
      if (x.outcome == BootstrapOutcome::initialised_here) {
        EXPECT_EQ(x.node, runs[1]);
      }
    }
    // An explicit release costs no lock-delay: the take-over is immediate.
    EXPECT_LT(took, 10s);
    EXPECT_FALSE(lock_is_held(r.lock_key()));
    EXPECT_TRUE(kv_entry(r.clusterdata_key()).has_value());
  }
}

// Someone else's session holds the lock (a node busy initialising) and no
// clusterdata comes: a waiter gives up at its deadline naming the holder, and
// takes over as soon as the lock is released without clusterdata.
TEST_F(StolonBootstrapTest, AWaiterGivesUpAtItsDeadlineAndTakesOverAReleasedLock) {
  auto r = round(1);
  auto created = cluster_->put(1, "/v1/session/create", R"({"Name":"stuck holder","LockDelay":"0s","TTL":"30s"})");
  ASSERT_TRUE(created.ok && created.response.status == 200) << created.error << created.response.body;
  std::string session = nlohmann::json::parse(created.response.body)["ID"];
  auto acquired = cluster_->put(1, "/v1/kv/" + r.lock_key() + "?acquire=" + session, "stuck-node");
  ASSERT_TRUE(acquired.ok && acquired.response.body.find("true") == 0) << acquired.response.body;

  auto t0 = std::chrono::steady_clock::now();
  auto gave_up = race(r, {{0, "n1"}}, 2s);
  ASSERT_EQ(gave_up.size(), 1u);
  EXPECT_EQ(gave_up[0].outcome, BootstrapOutcome::failed);
  EXPECT_NE(gave_up[0].detail.find("stuck-node"), std::string::npos) << gave_up[0].detail;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s) << "the deadline bounds the wait";
  EXPECT_TRUE(lines_of(r.runs).empty());

  // Released after a second, without clusterdata: the waiter initialises.
  std::thread releaser([this, &r, session] {
    std::this_thread::sleep_for(1s);
    cluster_->put(1, "/v1/kv/" + r.lock_key() + "?release=" + session, "");
  });
  auto took_over = race(r, {{2, "n3"}}, 20s);
  releaser.join();
  ASSERT_EQ(took_over.size(), 1u);
  EXPECT_EQ(took_over[0].outcome, BootstrapOutcome::initialised_here) << took_over[0].detail;
  EXPECT_EQ(lines_of(r.runs), std::vector<std::string>{"n3"});
  cluster_->put(1, "/v1/session/destroy/" + session, "");
}

}  // namespace
}  // namespace hasup::testbed
