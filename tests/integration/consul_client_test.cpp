// The Consul client against a real Consul 1.8.7 server: every call the
// supervisor relies on, with the answers Consul really gives.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>

#include "supervisor/consul/client.hpp"
#include "tests/testbed/consul_cluster.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using namespace hasup::consul;

class ConsulClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ConsulCluster::available()) return;
    cluster_ = new ConsulCluster(1, "client");
    cluster_->start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!cluster_) GTEST_SKIP() << "consul binary missing at " << ConsulCluster::binary() << ": run scripts/setup";
    ClientSettings s;
    s.agent = {"127.0.0.1", cluster_->agent(0).http};
    s.request_timeout = 2000ms;
    client_ = std::make_unique<Client>(io_, s);
    prefix_ = std::string("client-test/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // Runs the io_context until the call's handler fired, and returns its result.
  template <class T, class Call>
  consul::Result<T> run(Call call) {
    std::optional<consul::Result<T>> out;
    call([&out](consul::Result<T> r) { out.emplace(std::move(r)); });
    io_.restart();
    while (!out && io_.run_one()) {
    }
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : consul::Result<T>(Error{Error::Kind::transport, 0, "no answer"});
  }

  std::string create_session(SessionSpec spec = {}) {
    if (spec.name.empty()) spec.name = "test";
    spec.lock_delay = 0ms;
    auto r = run<std::string>([&](auto h) { client_->session_create(spec, h); });
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? r.value() : "";
  }

  static ConsulCluster* cluster_;
  boost::asio::io_context io_;
  std::unique_ptr<Client> client_;
  std::string prefix_;
};

ConsulCluster* ConsulClientTest::cluster_ = nullptr;

TEST_F(ConsulClientTest, PutGetDeleteAndMissingKey) {
  auto put = run<bool>([&](auto h) { client_->kv_put(prefix_ + "/a", "hello\nbinary\x01", {}, h); });
  ASSERT_TRUE(put.ok() && put.value());
  auto got = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/a", {}, h); });
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got.value().entry.has_value());
  EXPECT_EQ(got.value().entry->value, "hello\nbinary\x01");
  EXPECT_GT(got.value().index, 0u);
  auto del = run<bool>([&](auto h) { client_->kv_delete(prefix_ + "/a", std::nullopt, false, h); });
  ASSERT_TRUE(del.ok() && del.value());
  auto missing = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/a", {}, h); });
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing.value().entry.has_value()) << "404 is an absent key, not an error";
}

TEST_F(ConsulClientTest, CasRefusesAStaleIndexAndCreateOnlyIfAbsent) {
  PutOptions create_only;
  create_only.cas = 0;
  ASSERT_TRUE(run<bool>([&](auto h) { client_->kv_put(prefix_ + "/k", "1", create_only, h); }).value());
  EXPECT_FALSE(run<bool>([&](auto h) { client_->kv_put(prefix_ + "/k", "2", create_only, h); }).value());
  auto read = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/k", {}, h); });
  PutOptions cas;
  cas.cas = read.value().entry->modify_index;
  EXPECT_TRUE(run<bool>([&](auto h) { client_->kv_put(prefix_ + "/k", "3", cas, h); }).value());
  EXPECT_FALSE(run<bool>([&](auto h) { client_->kv_put(prefix_ + "/k", "4", cas, h); }).value()) << "stale index";
  auto final_read = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/k", {}, h); });
  EXPECT_EQ(final_read.value().entry->value, "3");
}

TEST_F(ConsulClientTest, RecurseListsThePrefixOnly) {
  for (auto key : {"/x/1", "/x/2", "/y"})
    ASSERT_TRUE(run<bool>([&](auto h) { client_->kv_put(prefix_ + key, key, {}, h); }).value());
  auto tree = run<KvTree>([&](auto h) { client_->kv_list(prefix_ + "/x/", {}, h); });
  ASSERT_TRUE(tree.ok());
  ASSERT_EQ(tree.value().entries.size(), 2u);
  EXPECT_EQ(tree.value().entries[0].key, prefix_ + "/x/1");
  auto empty = run<KvTree>([&](auto h) { client_->kv_list(prefix_ + "/none/", {}, h); });
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().entries.empty());
  EXPECT_GT(empty.value().index, 0u) << "even a missing prefix gives an index to block on";
}

TEST_F(ConsulClientTest, BlockingQueryReturnsSoonAfterAChange) {
  ASSERT_TRUE(run<bool>([&](auto h) { client_->kv_put(prefix_ + "/w", "before", {}, h); }).value());
  auto first = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/w", {}, h); });
  ReadOptions blocking;
  blocking.index = first.value().index;
  blocking.wait = 10s;
  std::optional<consul::Result<KvRead>> woke;
  auto t0 = std::chrono::steady_clock::now();
  client_->kv_get(prefix_ + "/w", blocking, [&](consul::Result<KvRead> r) { woke.emplace(std::move(r)); });
  // A second client changes the key while the first is blocked.
  boost::asio::io_context other_io;
  Client other(other_io, client_->settings());
  std::optional<consul::Result<bool>> written;
  other.kv_put(prefix_ + "/w", "after", {}, [&](consul::Result<bool> r) { written.emplace(std::move(r)); });
  io_.restart();
  while (!woke) {
    other_io.poll();
    io_.run_one_for(10ms);
  }
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(woke->ok());
  EXPECT_EQ(woke->value().entry->value, "after");
  EXPECT_GT(woke->value().index, first.value().index);
  EXPECT_LT(waited, 5s) << "woke on the change, not at the end of the wait";
}

TEST_F(ConsulClientTest, SessionsLocksAndRenewal) {
  SessionSpec spec;
  spec.name = "locker";
  spec.ttl = 10s;
  spec.behavior = SessionSpec::Behavior::remove;
  std::string a = create_session(spec);
  std::string b = create_session();
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(run<bool>([&](auto h) { client_->lock_acquire(prefix_ + "/lock", a, "A", h); }).value());
  EXPECT_FALSE(run<bool>([&](auto h) { client_->lock_acquire(prefix_ + "/lock", b, "B", h); }).value())
      << "a held lock is refused: a value, not an error";
  auto held = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/lock", {}, h); });
  EXPECT_EQ(held.value().entry->session, a);
  EXPECT_EQ(held.value().entry->lock_index, 1u);
  EXPECT_TRUE(run<bool>([&](auto h) { client_->session_renew(a, h); }).value());
  auto info = run<std::optional<SessionInfo>>([&](auto h) { client_->session_info(a, h); });
  ASSERT_TRUE(info.ok() && info.value());
  EXPECT_EQ(info.value()->name, "locker");
  EXPECT_EQ(info.value()->behavior, "delete");
  EXPECT_TRUE(run<bool>([&](auto h) { client_->lock_release(prefix_ + "/lock", a, h); }).value());
  EXPECT_TRUE(run<bool>([&](auto h) { client_->lock_acquire(prefix_ + "/lock", b, "B", h); }).value())
      << "explicit release frees the lock at once";
  // Destroying a "delete" session removes the keys it holds.
  ASSERT_TRUE(run<bool>([&](auto h) { client_->kv_put(prefix_ + "/owned", "x", PutOptions{std::nullopt, a, ""}, h); }).value());
  ASSERT_TRUE(run<bool>([&](auto h) { client_->session_destroy(a, h); }).value());
  EXPECT_FALSE(run<bool>([&](auto h) { client_->session_renew(a, h); }).value()) << "a destroyed session is gone";
  auto owned = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/owned", {}, h); });
  EXPECT_FALSE(owned.value().entry.has_value());
  auto node_sessions = run<std::vector<SessionInfo>>([&](auto h) {
    client_->sessions_on_node(cluster_->agent(0).name, h);
  });
  ASSERT_TRUE(node_sessions.ok());
  bool found_b = false;
  for (const auto& s : node_sessions.value()) found_b = found_b || s.id == b;
  EXPECT_TRUE(found_b);
}

TEST_F(ConsulClientTest, TransactionIsFencedByTheLockHolder) {
  std::string a = create_session();
  std::string b = create_session();
  ASSERT_TRUE(run<bool>([&](auto h) { client_->lock_acquire(prefix_ + "/leader", a, "A", h); }).value());
  auto lock = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/leader", {}, h); });
  std::uint64_t epoch = lock.value().entry->modify_index;
  auto fenced = [&](const std::string& session, std::uint64_t index, const std::string& value) {
    std::vector<TxnOp> ops(3);
    ops[0].verb = TxnOp::Verb::check_session;
    ops[0].key = prefix_ + "/leader";
    ops[0].session = session;
    ops[1].verb = TxnOp::Verb::check_index;
    ops[1].key = prefix_ + "/leader";
    ops[1].index = index;
    ops[2].verb = TxnOp::Verb::set;
    ops[2].key = prefix_ + "/state";
    ops[2].value = value;
    return run<TxnResult>([&](auto h) { client_->txn(ops, h); });
  };
  auto ok = fenced(a, epoch, "from A");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok.value().committed);
  auto wrong_session = fenced(b, epoch, "from B");
  ASSERT_TRUE(wrong_session.ok()) << "a refused transaction is a value";
  EXPECT_FALSE(wrong_session.value().committed);
  EXPECT_FALSE(wrong_session.value().errors.empty());
  auto stale_epoch = fenced(a, epoch - 1, "stale");
  EXPECT_FALSE(stale_epoch.value().committed);
  auto state = run<KvRead>([&](auto h) { client_->kv_get(prefix_ + "/state", {}, h); });
  EXPECT_EQ(state.value().entry->value, "from A");
}

TEST_F(ConsulClientTest, ServiceWithTtlCheckLeavesPassingListWhenItFails) {
  ServiceRegistration r;
  r.id = "svc-" + prefix_.substr(prefix_.find('/') + 1);
  r.name = "client-test-svc";
  r.address = "127.0.0.1";
  r.port = 1234;
  CheckDefinition check;
  check.id = r.id + "-alive";
  check.ttl = 30s;
  r.checks.push_back(check);
  ASSERT_TRUE(run<bool>([&](auto h) { client_->service_register(r, h); }).ok());
  auto passing = run<HealthList>([&](auto h) { client_->health_service(r.name, true, {}, h); });
  ASSERT_TRUE(passing.ok());
  ASSERT_EQ(passing.value().instances.size(), 1u);
  EXPECT_EQ(passing.value().instances[0].port, 1234);
  EXPECT_EQ(passing.value().instances[0].status, "passing");
  ASSERT_TRUE(run<bool>([&](auto h) { client_->check_fail(check.id, "broken on purpose", h); }).ok());
  auto after = run<HealthList>([&](auto h) { client_->health_service(r.name, true, {}, h); });
  EXPECT_TRUE(after.value().instances.empty());
  auto all = run<HealthList>([&](auto h) { client_->health_service(r.name, false, {}, h); });
  ASSERT_EQ(all.value().instances.size(), 1u);
  EXPECT_EQ(all.value().instances[0].status, "critical");
  EXPECT_FALSE(run<bool>([&](auto h) { client_->check_pass("no-such-check", "", h); }).ok())
      << "an unknown check is an error the supervisor reacts to (it re-registers)";
  ASSERT_TRUE(run<bool>([&](auto h) { client_->service_deregister(r.id, h); }).ok());
}

TEST_F(ConsulClientTest, AgentSelfAndLeader) {
  auto self = run<AgentSelf>([&](auto h) { client_->agent_self(h); });
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self.value().node_name, cluster_->agent(0).name);
  EXPECT_EQ(self.value().version, "1.8.7");
  EXPECT_TRUE(self.value().server);
  auto leader = run<std::string>([&](auto h) { client_->status_leader(h); });
  ASSERT_TRUE(leader.ok());
  EXPECT_EQ(leader.value(), "127.0.0.1:" + std::to_string(cluster_->agent(0).server));
}

TEST_F(ConsulClientTest, EveryCallIsBoundedByItsTimeout) {
  cluster_->freeze_agent(0);
  ClientSettings s = client_->settings();
  s.request_timeout = 300ms;
  Client impatient(io_, s);
  auto t0 = std::chrono::steady_clock::now();
  auto r = run<KvRead>([&](auto h) { impatient.kv_get(prefix_ + "/any", {}, h); });
  auto took = std::chrono::steady_clock::now() - t0;
  cluster_->thaw_agent(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::timeout);
  EXPECT_LT(took, 2s);
}

TEST_F(ConsulClientTest, AnUnreachableAgentIsATransportError) {
  ClientSettings s = client_->settings();
  s.agent.port = free_port();
  Client nowhere(io_, s);
  auto r = run<bool>([&](auto h) { nowhere.kv_put("x", "y", {}, h); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::transport);
  EXPECT_NE(r.error().to_string().find("unreachable"), std::string::npos);
}

}  // namespace
}  // namespace hasup::testbed
