// A node's event ring in a real Consul 1.8.7: written whole to its own key,
// read back after a restart, merged with the other nodes' rings, and a ring
// that is not what a supervisor wrote named, never half-read.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <optional>

#include "supervisor/consul/client.hpp"
#include "supervisor/events/event.hpp"
#include "supervisor/loop/event_log.hpp"
#include "supervisor/loop/plan.hpp"
#include "tests/testbed/consul_cluster.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

class EventLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ConsulCluster::available()) return;
    cluster_ = new ConsulCluster(1, "events");
    cluster_->start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!cluster_) GTEST_SKIP() << "consul binary missing at " << ConsulCluster::binary() << ": run scripts/setup";
    consul::ClientSettings s;
    s.agent = {"127.0.0.1", cluster_->agent(0).http};
    s.request_timeout = 2000ms;
    client_ = std::make_unique<consul::Client>(io_, s);
    dir_ = std::string("events-test-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io_.restart();
      io_.run_for(20ms);
    }
    return done();
  }

  std::optional<std::string> stored(const std::string& node) {
    std::optional<std::optional<std::string>> out;
    client_->kv_get(dir_ + node, {}, [&](consul::Result<consul::KvRead> r) {
      out.emplace(r && r.value().entry ? std::optional<std::string>(r.value().entry->value) : std::nullopt);
    });
    run_until([&] { return out.has_value(); });
    return out ? *out : std::nullopt;
  }

  std::size_t stored_count(const std::string& node) {
    auto value = stored(node);
    if (!value) return 0;
    return events::decode_ring(node, *value).events.size();
  }

  // A cycle with a whole view of the cluster's keys and the quorum: the log
  // writes to Consul only after one.
  static void whole_view(loop::EventLog& log) {
    loop::Snapshot s;
    s.self = "n1";
    s.kv.known = true;
    s.consul.quorum_reachable = true;
    log.cycle(s, loop::Plan{});
  }

  loop::EventTimeline timeline(loop::EventLog& log) {
    std::optional<loop::EventTimeline> out;
    log.read_timeline([&](loop::EventTimeline t) { out = std::move(t); });
    run_until([&] { return out.has_value(); });
    return out ? *out : loop::EventTimeline{};
  }

  static ConsulCluster* cluster_;
  boost::asio::io_context io_;
  std::unique_ptr<consul::Client> client_;
  std::string dir_;
};

ConsulCluster* EventLogTest::cluster_ = nullptr;

TEST_F(EventLogTest, EventsReachTheNodesKeyAndARestartKeepsThem) {
  {
    boost::asio::steady_timer timer(io_);
    loop::EventLog log(*client_, timer, dir_, "n1");
    log.note("supervisor", "start", "supervisor started");
    log.note("supervisor", "config", "configuration reloaded");
    // Nothing is written before the node has a whole view of the keys.
    run_until([] { return false; }, 1500ms);
    EXPECT_FALSE(stored("n1").has_value()) << *stored("n1");
    whole_view(log);
    ASSERT_TRUE(run_until([&] { return stored_count("n1") == 2; })) << stored("n1").value_or("(no key)");
  }
  // The next run of n1 reads its ring back before it writes: nothing lost.
  boost::asio::steady_timer timer(io_);
  loop::EventLog again(*client_, timer, dir_, "n1");
  whole_view(again);
  again.note("supervisor", "start", "supervisor started again");
  ASSERT_TRUE(run_until([&] { return stored_count("n1") == 3; })) << stored("n1").value_or("(no key)");
  auto ring = events::decode_ring("n1", *stored("n1")).events;
  EXPECT_EQ(ring[0].text, "supervisor started");
  EXPECT_EQ(ring[2].text, "supervisor started again");
  EXPECT_FALSE(ring[2].late) << "written within a second: not late";
  ASSERT_EQ(again.ring().size(), 3u);
}

TEST_F(EventLogTest, TheTimelineMergesEveryNodesRingAndNamesAnUnreadableOne) {
  boost::asio::steady_timer t1(io_), t2(io_);
  loop::EventLog n1(*client_, t1, dir_, "n1"), n2(*client_, t2, dir_, "n2");
  whole_view(n1);
  whole_view(n2);
  n1.note("supervisor", "start", "n1 started");
  ASSERT_TRUE(run_until([&] { return stored_count("n1") == 1; }));
  n2.note("supervisor", "start", "n2 started");
  ASSERT_TRUE(run_until([&] { return stored_count("n2") == 1; }));
  // Not what a supervisor writes: refused whole, and said.
  std::optional<bool> put;
  client_->kv_put(dir_ + "n3", "{\"node\":\"n3\",\"events\":[{\"id\":1}]}", {},
                  [&](consul::Result<bool> r) { put = r && r.value(); });
  ASSERT_TRUE(run_until([&] { return put.has_value(); }) && *put);

  auto seen = timeline(n1);
  EXPECT_EQ(seen.partial, "");
  ASSERT_EQ(seen.events.size(), 2u);
  EXPECT_EQ(seen.events[0].text, "n1 started");
  EXPECT_EQ(seen.events[1].text, "n2 started");
  ASSERT_EQ(seen.problems.size(), 1u);
  EXPECT_NE(seen.problems[0].find(dir_ + "n3: unreadable: event 0: \"id\" is not a string"), std::string::npos)
      << seen.problems[0];
}

TEST_F(EventLogTest, WithoutConsulTheTimelineIsThisNodesOwnAndSaysSo) {
  consul::ClientSettings s;
  s.agent = {"127.0.0.1", 1};  // nothing listens on port 1
  s.request_timeout = 500ms;
  consul::Client unreachable(io_, s);
  boost::asio::steady_timer timer(io_);
  loop::EventLog log(unreachable, timer, dir_, "n1");
  log.note("supervisor", "role", "role follower -> cut-off");
  auto seen = timeline(log);
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_EQ(seen.events[0].text, "role follower -> cut-off");
  EXPECT_NE(seen.partial.find("Consul did not answer"), std::string::npos) << seen.partial;
  EXPECT_NE(seen.partial.find("never"), std::string::npos) << seen.partial;
}

}  // namespace
}  // namespace hasup::testbed
