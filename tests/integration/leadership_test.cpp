// Leadership through a Consul lock, against a real 3-server Consul 1.8.7.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/cluster_fixture.hpp"
#include "tests/testbed/garbling_proxy.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

TEST_F(ClusterTest, ElectsExactlyOneLeaderAndEveryoneAgrees) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0) << "no single leader";
  // Everyone lists three members and names the same leader and epoch.
  ASSERT_TRUE(wait_until([&] {
    for (int i = 0; i < 3; ++i) {
      auto doc = sup(i).cluster();
      if (!doc || (*doc)["members"].size() != 3 || !(*doc)["leader"].is_object()) return false;
      if ((*doc)["leader"]["name"] != sup(leader).name()) return false;
    }
    return true;
  }, 10s));
  auto a = *sup(0).cluster();
  auto b = *sup(2).cluster();
  EXPECT_EQ(a["leader"]["epoch"], b["leader"]["epoch"]);
  EXPECT_GT(a["leader"]["epoch"].get<std::uint64_t>(), 0u);
  // The leader published its fenced view of the members.
  ASSERT_TRUE(wait_until([&] {
    auto doc = sup(leader).cluster();
    return doc && (*doc)["cluster_state"].is_object() && (*doc)["cluster_state"]["members"].size() == 3;
  }, 5s));
  EXPECT_EQ(leader_index(), leader);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sup(i).is_healthy()) << sup(i).name();
}

// Any local user reaches the API on loopback; only root reads the token file,
// so a write without the token (or with an old one) changes nothing.
TEST_F(ClusterTest, TheApiWritesOnlyForWhoeverHoldsItsToken) {
  start_supervisors();
  ASSERT_TRUE(wait_for_members(3, 15s));
  auto& s = sup(0);
  const std::string on = R"({"enabled": true})";
  std::string answer;
  EXPECT_EQ(s.post("/maintenance", on, "", &answer), 401) << answer;
  EXPECT_NE(answer.find("run hactl as root"), std::string::npos) << answer;
  EXPECT_EQ(s.post("/forget", R"({"node": "n2"})", "", &answer), 401) << answer;
  std::string token = read_file(s.token_file());
  ASSERT_EQ(token.size(), 65u) << "64 hex digits and a newline";
  token.pop_back();
  std::string wrong = token;
  wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(s.post("/maintenance", on, "Bearer " + wrong, &answer), 403) << answer;
  EXPECT_EQ(s.post("/maintenance", on, token, &answer), 403) << "without the scheme: " << answer;
  auto doc = s.cluster();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["maintenance"].size(), 0u) << "no refused write reached Consul";
  EXPECT_EQ(s.post("/maintenance", on, "Bearer " + token, &answer), 202) << answer;
  ASSERT_TRUE(wait_until([&] {
    auto d = s.cluster();
    return d && (*d)["self"]["role"] == "maintenance";
  }, 10s));
  // A restart makes a new token: the old one is worth nothing.
  s.terminate();
  s.start();
  ASSERT_TRUE(wait_until([&] { return read_file(s.token_file()).size() == 65 && read_file(s.token_file()) != token + "\n"; }, 10s));
  // The token file is written before the API listens: wait for the API too
  // (a post in between finds nothing listening, which is not the refusal tested).
  ASSERT_TRUE(wait_until([&] { return s.cluster().has_value(); }, 10s)) << "the API never answered after the restart";
  EXPECT_EQ(s.post("/maintenance", R"({"enabled": false})", "Bearer " + token, &answer), 403) << answer;
  EXPECT_EQ(::access(s.token_file().c_str(), F_OK), 0);
  struct stat st {};
  ASSERT_EQ(::stat(s.token_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "root only";
}

}  // namespace
}  // namespace hasup::testbed

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;


TEST_F(ClusterTest, SigtermOfTheLeaderHandsOverAtOnce) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  DoubleLeaderSampler sampler(api_ports());
  auto t0 = std::chrono::steady_clock::now();
  sup(leader).signal(SIGTERM);
  int next = wait_for_leader(10s, leader);
  auto handover = std::chrono::steady_clock::now() - t0;
  ASSERT_GE(next, 0) << "nobody took over";
  EXPECT_NE(next, leader);
  // An explicit release needs no lock-delay: well under the 8 s of a crash.
  EXPECT_LT(handover, 3s) << "handover took " << std::chrono::duration_cast<std::chrono::milliseconds>(handover).count() << " ms";
  EXPECT_EQ(sup(leader).wait_exit(10s), 0) << "clean exit after SIGTERM";
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0);
  // Its member record went with its session.
  ASSERT_TRUE(wait_until([&] { return member_count(next) == 2; }, 5s));
  EXPECT_NE(sup(leader).log().find("released the leader lock"), std::string::npos);
}

// A supervisor dead for good (systemd restarts a killed one, which then adopts
// its session) loses its session at the session TTL: Consul invalidates it
// within twice the TTL, and the lock-delay follows.
TEST_F(ClusterTest, SigkillOfTheLeaderHandsOverWhenItsSessionExpires) {
  for (int i = 0; i < 3; ++i) {
    SupervisorOptions o = options_for(i);
    o.consul_section = "session_ttl_s = 10;";  // the smallest Consul takes: the test's wait
    add_supervisor(i, o);
  }
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  std::uint64_t old_epoch = leader_epoch(leader);
  DoubleLeaderSampler sampler(api_ports());
  sup(leader).kill();
  int next = wait_for_leader(40s, leader);
  ASSERT_GE(next, 0) << "nobody took over after the leader was killed";
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0);
  EXPECT_GT(leader_epoch(next), old_epoch) << "a new leader has a new, larger fencing epoch";
  ASSERT_TRUE(wait_until([&] { return member_count(next) == 2; }, 5s)) << "the dead node's record vanished";
}

TEST_F(ClusterTest, LeaderWhoseConsulAgentDiesStepsDownAndAnotherLeads) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  DoubleLeaderSampler sampler(api_ports());
  consul_->kill_agent(leader);
  // The cut-off supervisor steps down by itself within its bound (3 s + slack).
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return !sup(leader).is_leader(); }, 6s)) << "it kept claiming leadership";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(sup(leader).get_status("/health"), 503) << "a cut-off node is not healthy";
  int next = wait_for_leader(30s, leader);
  ASSERT_GE(next, 0) << "nobody took over";
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0) << "two leaders at once";
  auto doc = sup(leader).cluster();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["self"]["role"], "cut-off");
  EXPECT_TRUE((*doc)["stale"].get<bool>());
  EXPECT_NE(sup(leader).log().find("cut off"), std::string::npos);
}

TEST_F(ClusterTest, LeaderWhoseAgentIsFrozenStepsDownAndRejoinsAsFollower) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  DoubleLeaderSampler sampler(api_ports());
  consul_->freeze_agent(leader);  // answers nothing, gossips nothing: cut off
  ASSERT_TRUE(wait_until([&] { return !sup(leader).is_leader(); }, 6s));
  int next = wait_for_leader(30s, leader);
  ASSERT_GE(next, 0);
  const std::size_t log_at_thaw = sup(leader).log().size();
  consul_->thaw_agent(leader);
  // Back with the quorum: its old session is gone, it opens a new one and follows.
  ASSERT_TRUE(wait_until([&] {
    auto doc = sup(leader).cluster();
    return doc && (*doc)["self"]["role"] == "follower";
  }, 30s)) << "the healed node did not come back as a follower";
  ASSERT_TRUE(wait_for_members(3, 10s));
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0);
  // The sampler polls; a claim of a few milliseconds (the lock's view from
  // before the cut-off, acted on before it was re-read) shows only in the log.
  std::string healed = sup(leader).log().substr(log_at_thaw);
  EXPECT_EQ(healed.find("-> leader"), std::string::npos) << "the healed node called itself leader:\n" << healed;
  // Its peers' gossip called it failed while it was frozen: it rejoins
  // through them at once instead of waiting for serf's 30 s reconnect.
  EXPECT_NE(healed.find("gossip: rejoined through"), std::string::npos) << healed;
  EXPECT_EQ(leader_index(), next) << "healing must not move leadership back";
}

// When Consul's Raft leader crashes, a 1.8 agent holds back local check updates
// for 10-30 s, so the supervisors' liveness checks go critical: that must not
// end their sessions (it took every survivor's member record and the floating
// IP with it). Failing the check by hand is that moment.
TEST_F(ClusterTest, ACriticalLivenessCheckDoesNotEndTheSession) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  std::uint64_t epoch = leader_epoch(leader);
  DoubleLeaderSampler sampler(api_ports());
  for (int i = 0; i < 3; ++i) {
    auto failed = consul_->put(i, "/v1/agent/check/fail/ha-supervisor-alive-" + sup(i).name() + "?note=test", "");
    ASSERT_TRUE(failed.ok && failed.response.status == 200) << sup(i).name();
  }
  // Consul invalidates a session within moments of its check going critical.
  std::this_thread::sleep_for(3s);
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0);
  EXPECT_EQ(leader_index(), leader);
  EXPECT_EQ(leader_epoch(leader), epoch) << "the leader kept its lock: no handover";
  EXPECT_EQ(member_count(leader), 3u) << "every member record kept";
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(sup(i).log().find("is gone (Consul invalidated it)"), std::string::npos) << sup(i).name();
}

// After a node's session ends, Consul's lock-delay (3.5 s) refuses every
// acquire of its member key. The supervisor asks again every 250 ms
// (kLockRetry); before, it asked in a loop, ~200 writes a second for the whole
// lock-delay. Its requests pass a recording proxy (a test double that only
// forwards here) to be counted.
TEST_F(ClusterTest, ARefusedMemberKeyIsAskedForAgainEveryQuarterSecondNotInALoop) {
  int follower = -1;
  int leader = leader_with_a_follower_gone_for_good(follower);
  ASSERT_GE(leader, 0);
  GarblingConsulProxy proxy(consul_->agent(follower).http,
                            [](const http::ServerRequest&) -> std::optional<http::ServerResponse> { return std::nullopt; });
  SupervisorOptions o = options_for(follower);
  o.consul_http = proxy.port();
  add_supervisor(follower, o);
  ASSERT_TRUE(wait_for_members(3, 15s)) << "the member record is published once the lock-delay is over";
  const std::string member_key = "/v1/kv/ha-supervisor/members/" + sup(follower).name();
  int puts = 0;
  for (const auto& r : proxy.seen())
    if (r.method == "PUT" && r.path == member_key) ++puts;
  EXPECT_GE(puts, 3) << "refused during the lock-delay, then accepted";
  EXPECT_LE(puts, 3500 / 250 + 8) << "one try per 250 ms over a 3.5 s lock-delay, and a few updates after";
  const std::string log = sup(follower).log();
  EXPECT_NE(log.find("refused by Consul"), std::string::npos) << log;
  EXPECT_EQ(log.find("refused by Consul"), log.rfind("refused by Consul")) << "logged once per streak";
  EXPECT_NE(log.find("member record published"), std::string::npos) << log;
}

// Consul refusing a call outright (an ACL's 403 answers in a few ms): the
// supervisor asks again four times a second, not in a loop, and says it once.
TEST_F(ClusterTest, AServiceRegistrationConsulRefusesIsAskedForAgainEveryQuarterSecond) {
  std::atomic<bool> refuse{true};
  GarblingConsulProxy proxy(consul_->agent(0).http, [&](const http::ServerRequest& r) -> std::optional<http::ServerResponse> {
    if (refuse && r.path == "/v1/agent/service/register")
      return http::ServerResponse{403, "Permission denied: Missing service:write on ha-supervisor", "text/plain", {}};
    return std::nullopt;
  });
  SupervisorOptions o = options_for(0);
  o.consul_http = proxy.port();
  add_supervisor(0, o);
  std::this_thread::sleep_for(3s);
  int registrations = 0;
  for (const auto& r : proxy.seen())
    if (r.path == "/v1/agent/service/register") ++registrations;
  EXPECT_GE(registrations, 3) << "asked again while refused";
  EXPECT_LE(registrations, 3000 / 250 + 4) << "one try per 250 ms";
  const std::string log = sup(0).log();
  const std::string said = "warning registering the service: consul answered 403: Permission denied";
  EXPECT_NE(log.find(said), std::string::npos) << log;
  EXPECT_EQ(log.find(said), log.rfind(said)) << "the same refusal is warned about once (debug has each try)";
  refuse = false;
  EXPECT_TRUE(wait_until([&] { return sup(0).is_healthy(); }, 10s)) << "taken at once when Consul accepts";
}

// A consistent read proves the quorum as of when it was sent. Answers that
// arrive 3 s late (within the 3.5 s request timeout) carry facts 3 s old:
// counted from their arrival, contacts 3.5 s apart look fresh against the 4 s
// bound for ever; counted from the send, the proof goes past the bound
// before the next answer comes, and the node says it is cut off.
TEST_F(ClusterTest, QuorumFreshnessCountsFromWhenTheProbeWasSentNotWhenItsAnswerCame) {
  GarblingConsulProxy proxy(consul_->agent(0).http,
                            [](const http::ServerRequest&) -> std::optional<http::ServerResponse> { return std::nullopt; });
  SupervisorOptions o = options_for(0);
  o.consul_http = proxy.port();
  o.consul_section = "request_timeout_ms = 3500; quorum_loss_timeout_ms = 4000;";
  add_supervisor(0, o);
  ASSERT_TRUE(wait_until([&] { return sup(0).is_healthy(); }, 20s));
  proxy.delay_answers([](const http::ServerRequest& r) {
    const bool probe = r.path == "/v1/kv/ha-supervisor/leader" && r.query.count("consistent");
    return probe ? std::chrono::milliseconds(3000) : std::chrono::milliseconds(0);
  });
  EXPECT_TRUE(wait_until([&] { return sup(0).log().find("no Consul quorum for 4000 ms") != std::string::npos; }, 15s))
      << "a proof of quorum older than the bound was still taken as fresh";
}

TEST_F(ClusterTest, RestartedLeaderAdoptsItsSurvivingSessionAndStaysLeader) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  std::uint64_t epoch = leader_epoch(leader);
  DoubleLeaderSampler sampler(api_ports());
  sup(leader).kill();
  sup(leader).start();  // within the session TTL: the session still lives in Consul
  ASSERT_TRUE(wait_until([&] { return sup(leader).is_leader(); }, 10s));
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0);
  EXPECT_EQ(leader_epoch(leader), epoch) << "same lock, same epoch: no handover happened";
  EXPECT_NE(sup(leader).log().find("adopted this node's surviving session"), std::string::npos);
  for (int i = 0; i < 3; ++i)
    if (i != leader) {
      EXPECT_FALSE(sup(i).is_leader());
    }
}

TEST_F(ClusterTest, RestartedFollowerRebuildsItsStateFromConsul) {
  // Its session ends as at the session TTL (destroyed here rather than waited
  // for): the record goes with it.
  int follower = -1;
  int leader = leader_with_a_follower_gone_for_good(follower);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_until([&] { return member_count(leader) == 2; }, 15s));
  sup(follower).start();
  ASSERT_TRUE(wait_for_members(3, 15s));
  auto doc = sup(follower).cluster();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["self"]["role"], "follower");
  EXPECT_EQ((*doc)["leader"]["name"], sup(leader).name());
  EXPECT_EQ(leader_index(), leader);
}

TEST_F(ClusterTest, MembersJoinAndLeaveAtRuntimeAndTheLeaderPublishesTheView) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  // A fourth node joins (sharing agent 1's Consul, as a node of its own would).
  SupervisorOptions fourth = options_for(0);
  fourth.name = "n4";
  add_supervisor(3, fourth);
  ASSERT_TRUE(wait_for_members(4, 15s));
  auto published_members = [&] {
    auto doc = sup(leader).cluster();
    return doc && (*doc)["cluster_state"].is_object() ? (*doc)["cluster_state"]["members"].size() : 0u;
  };
  ASSERT_TRUE(wait_until([&] { return published_members() == 4; }, 5s));
  sup(3).terminate();
  ASSERT_TRUE(wait_for_members(3, 10s));
  ASSERT_TRUE(wait_until([&] { return published_members() == 3; }, 5s));
  EXPECT_EQ(leader_index(), leader) << "joins and leaves do not move leadership";
}

TEST_F(ClusterTest, MaintenanceIntentMovesLeadershipAwayAndBack) {
  start_supervisors();
  int leader = wait_for_leader(20s);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(wait_for_members(3, 10s));
  std::string api = "127.0.0.1:" + std::to_string(sup(leader).api_port());
  std::string out_dir = make_temp_dir("hactl");
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() { remove_tree(dir); }
  } remove_out_dir{out_dir};
  std::string out = out_dir + "/out";
  auto run_hactl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {SupervisorProcess::hactl(), "--api", api, "--token-file", sup(leader).token_file()});
    auto p = Process::spawn(args, out);
    return p.wait(10s);
  };
  // A name outside the node-name rule (supervisor/util/node_name.hpp) is refused, with the rule.
  EXPECT_EQ(run_hactl({"maintenance", "on", "N_1"}), 1) << read_file(out);
  EXPECT_NE(read_file(out).find("is not a valid node name ([a-z0-9][a-z0-9-]{0,62})"), std::string::npos)
      << read_file(out);
  ASSERT_EQ(run_hactl({"maintenance", "on"}), 0) << read_file(out);
  int next = wait_for_leader(10s, leader);
  ASSERT_GE(next, 0) << "leadership did not move off the node in maintenance";
  ASSERT_TRUE(wait_until([&] {
    auto doc = sup(leader).cluster();
    return doc && (*doc)["self"]["role"] == "maintenance";
  }, 5s));
  ASSERT_EQ(run_hactl({"status"}), 0);
  EXPECT_NE(read_file(out).find("maintenance"), std::string::npos);
  ASSERT_EQ(run_hactl({"maintenance", "off"}), 0);
  ASSERT_TRUE(wait_until([&] {
    auto doc = sup(leader).cluster();
    return doc && (*doc)["self"]["role"] == "follower";
  }, 5s));
  EXPECT_EQ(leader_index(), next);
}

}  // namespace
}  // namespace hasup::testbed
