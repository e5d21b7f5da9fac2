// Bad input: Consul answering garbage or 500, records written by another
// version, a Consul that is not there yet, broken config on reload. Each gets a
// clear log line, the loop keeps running, and nothing is written from a
// half-parsed state.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "supervisor/consul/parse.hpp"
#include "tests/integration/cluster_fixture.hpp"
#include "tests/testbed/garbling_proxy.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(ClusterTest, UnreadableRecordsAreReportedAndIgnoredWhileTheClusterRuns) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  // A record from a future version, held by a live session as a real member's would be.
  auto session = consul_->put(0, "/v1/session/create", R"({"Name":"other-version","Checks":[]})");
  ASSERT_TRUE(session.ok && session.response.status == 200) << session.response.body;
  std::string sid = json::parse(session.response.body)["ID"];
  json future = {{"schema", 2}, {"name", "n9"}, {"whatever", true}};
  auto put = consul_->put(0, "/v1/kv/ha-supervisor/members/n9?acquire=" + sid, future.dump());
  ASSERT_TRUE(put.ok && put.response.body.find("true") != std::string::npos);
  // Debris without a session, and a maintenance intent that is not JSON.
  ASSERT_TRUE(consul_->put(0, "/v1/kv/ha-supervisor/members/n8", "{not json").ok);
  ASSERT_TRUE(consul_->put(0, "/v1/kv/ha-supervisor/intent/maintenance/n1", "yes please").ok);

  ASSERT_TRUE(wait_until([&] {
    auto doc = sup(1).cluster();
    return doc && (*doc)["unreadable"].size() == 3;
  }, 5s));
  auto doc = *sup(1).cluster();
  std::string unreadable = doc["unreadable"].dump();
  EXPECT_TRUE(contains(unreadable, "written with schema 2, this supervisor reads schema 1")) << unreadable;
  EXPECT_TRUE(contains(unreadable, "not held by any session")) << unreadable;
  EXPECT_TRUE(contains(unreadable, "maintenance intent is not")) << unreadable;
  EXPECT_EQ(doc["members"].size(), 3u) << "unreadable records are not members";
  EXPECT_EQ(doc["maintenance"].size(), 0u) << "a garbled intent is not acted on";
  EXPECT_TRUE(wait_until([&] { return contains(sup(1).log(), "ignoring unreadable record \"ha-supervisor/members/n9\""); }, 3s));
  // The loop goes on: same leader, everyone healthy, and the published view has only real members.
  EXPECT_EQ(leader_index(), leader);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sup(i).is_healthy());
  auto state = (*sup(leader).cluster())["cluster_state"];
  EXPECT_EQ(state["members"], json::array({"n1", "n2", "n3"}));
}

TEST_F(ClusterTest, ConsulAnsweringMalformedListingsGetsNothingWritten) {
  // Everything is forwarded to the real agent except the recursive listing of
  // the cluster's keys, which comes back as broken JSON.
  GarblingConsulProxy proxy(consul_->agent(0).http, [](const http::ServerRequest& r) -> std::optional<http::ServerResponse> {
    if (r.method == "GET" && r.path.rfind("/v1/kv/", 0) == 0 && r.query.count("recurse")) {
      http::ServerResponse garbage;
      garbage.body = R"([{"Key":"ha-supervisor/leader","Value":"not base64!!",)";
      garbage.headers["X-Consul-Index"] = "77";
      return garbage;
    }
    return std::nullopt;
  });
  SupervisorOptions o = options_for(0);
  o.consul_http = proxy.port();
  add_supervisor(0, o);
  // It registers and opens a session (those answers are fine), then waits.
  ASSERT_TRUE(wait_until([&] { return contains(sup(0).log(), "waiting for the first read of the cluster's keys"); }, 10s))
      << sup(0).log();
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(sup(0).running());
  EXPECT_EQ(sup(0).get_status("/health"), 503);
  EXPECT_TRUE(contains(sup(0).log(), "consul answer not understood")) << "a clear line about the garbage";
  for (const auto& r : proxy.seen()) {
    bool kv_write = r.path.rfind("/v1/kv/", 0) == 0 && r.method != "GET";
    EXPECT_FALSE(kv_write) << "wrote " << r.method << " " << r.path << r.query << " without a whole view";
    EXPECT_NE(r.path, "/v1/txn") << "fenced write without a whole view";
  }
}

TEST_F(ClusterTest, ConsulAnswering500KeepsTheLoopRunningAndSaysWhy) {
  GarblingConsulProxy proxy(consul_->agent(0).http, [](const http::ServerRequest&) -> std::optional<http::ServerResponse> {
    http::ServerResponse r;
    r.status = 500;
    r.content_type = "text/plain";
    r.body = "rpc error: No cluster leader";
    return r;
  });
  SupervisorOptions o = options_for(0);
  o.consul_http = proxy.port();
  add_supervisor(0, o);
  ASSERT_TRUE(wait_until([&] { return proxy.seen().size() >= 5; }, 10s));
  std::string body;
  EXPECT_EQ(sup(0).get_status("/health", &body), 503);
  EXPECT_TRUE(contains(body, "consul answered 500")) << body;
  EXPECT_TRUE(sup(0).running());
  for (const auto& r : proxy.seen()) EXPECT_EQ(r.method, "GET") << r.path << ": nothing but reads while Consul fails";
}

TEST(ConsulNotYetThere, SupervisorWaitsWithAClearReasonThenJoins) {
  if (!ConsulCluster::available()) GTEST_SKIP() << "consul binary missing: run scripts/setup";
  ConsulCluster consul(3, "late");
  SupervisorOptions o;
  o.name = "n1";
  o.consul_http = consul.agent(0).http;
  SupervisorProcess sup(o, consul.dir());
  sup.start();
  std::string body;
  // The reason names the error once the first call has failed (a /health
  // answered before that says only what it waits for).
  EXPECT_TRUE(wait_until([&] { return sup.get_status("/health", &body) == 503 && contains(body, "refused"); }, 5s))
      << body;
  EXPECT_TRUE(contains(body, "waiting for the local Consul agent")) << body;
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(sup.running());
  consul.start();
  ASSERT_TRUE(wait_until([&] { return sup.is_leader(); }, 20s)) << sup.log();
}

TEST_F(ClusterTest, SighupAppliesLiveKeysNamesRestartKeysAndRefusesBrokenFiles) {
  add_supervisor(0, options_for(0));
  ASSERT_TRUE(wait_until([&] { return sup(0).is_leader(); }, 20s));
  SupervisorOptions changed = options_for(0);
  changed.address = "127.0.0.2";
  changed.extra_config = "loop: { log_repeat_s = 120; };";
  sup(0).rewrite_config(changed);
  sup(0).signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return contains(sup(0).log(), "reloaded"); }, 5s));
  auto log = sup(0).log();
  EXPECT_TRUE(contains(log, "applied live: loop.log_repeat_s")) << log;
  EXPECT_TRUE(contains(log, "needs a restart to apply: node.address")) << log;

  SupervisorOptions broken = changed;
  broken.extra_config = "loop: { interval_ms = \"soon\"; };\nbogus: { x = 1; };";
  sup(0).rewrite_config(broken);
  sup(0).signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return contains(sup(0).log(), "reload refused"); }, 5s));
  log = sup(0).log();
  EXPECT_TRUE(contains(log, "loop.interval_ms: expected int")) << log;
  EXPECT_TRUE(contains(log, "bogus")) << log;
  EXPECT_TRUE(sup(0).running());
  EXPECT_TRUE(sup(0).is_leader()) << "a refused reload changes nothing";
}

TEST_F(ClusterTest, AclTokenNeverReachesTheLog) {
  const std::string token = "5e1f0c2a-token-that-must-not-leak";
  SupervisorOptions o = options_for(0);
  o.consul_section = "token = \"" + token + "\";";
  add_supervisor(0, o);
  ASSERT_TRUE(wait_until([&] { return sup(0).is_leader(); }, 20s));
  sup(0).signal(SIGHUP);  // a reload logs what changed: still no token
  ASSERT_TRUE(wait_until([&] { return contains(sup(0).log(), "reloaded"); }, 5s));
  sup(0).terminate();
  EXPECT_FALSE(contains(sup(0).log(), token));
  EXPECT_FALSE(contains(sup(0).log(), "must-not-leak"));
}

TEST(CheckConfig, ExitsNonZeroAndPrintsEveryErrorWithItsLine) {
  std::string dir = make_temp_dir("check");
  write_file(dir + "/bad.conf", "node: { name = \"n1\"; };\nconsul: { port = 99999; lock_delay = 3; };\n");
  write_file(dir + "/good.conf", "node: { name = \"n1\"; address = \"127.0.0.1\"; };\n");
  auto bad = Process::spawn({SupervisorProcess::binary(), "--check-config", dir + "/bad.conf"}, dir + "/bad.out");
  EXPECT_EQ(bad.wait(10s), 1);
  auto out = read_file(dir + "/bad.out");
  EXPECT_TRUE(contains(out, dir + "/bad.conf:2: consul.port")) << out;
  EXPECT_TRUE(contains(out, dir + "/bad.conf:2: consul.lock_delay: unknown key")) << out;
  EXPECT_TRUE(contains(out, "node.address: required key missing")) << out;
  auto good = Process::spawn({SupervisorProcess::binary(), "--check-config", dir + "/good.conf"}, dir + "/good.out");
  EXPECT_EQ(good.wait(10s), 0) << read_file(dir + "/good.out");
  remove_tree(dir);
}

}  // namespace
}  // namespace hasup::testbed
