// The cluster's pause through hactl and the API, against a real 3-server
// Consul 1.8.7 and three supervisors: written once, seen on every node,
// refused without the token or with a malformed body, resumed from another node.
#include <fstream>

#include "tests/integration/cluster_fixture.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

TEST_F(ClusterTest, HactlPauseIsSeenOnEveryNodeAndHactlResumeFromAnotherEndsIt) {
  start_supervisors();
  ASSERT_TRUE(wait_for_members(3, 15s));
  auto every_node_says_paused = [&](bool paused) {
    for (int i = 0; i < 3; ++i) {
      auto doc = sup(i).cluster();
      if (!doc || !(*doc)["self"]["pause"].is_object() || (*doc)["self"]["pause"]["paused"] != paused) return false;
    }
    return true;
  };
  std::string out_dir = make_temp_dir("hactl");
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() { remove_tree(dir); }
  } remove_out_dir{out_dir};
  const std::string out = out_dir + "/out";
  auto run_hactl = [&](int node, std::vector<std::string> args) {
    args.insert(args.begin(), {SupervisorProcess::hactl(), "--api", "127.0.0.1:" + std::to_string(sup(node).api_port()),
                               "--token-file", sup(node).token_file()});
    std::ofstream(out, std::ios::trunc).close();  // each run's words only
    return Process::spawn(args, out).wait(10s);
  };
  std::string answer;
  EXPECT_EQ(sup(0).post("/pause", R"({"paused": true})", "", &answer), 401) << answer;
  const std::string token = "Bearer " + read_file(sup(0).token_file()).substr(0, 64);
  EXPECT_EQ(sup(0).post("/pause", R"({"paused": "yes"})", token, &answer), 400) << answer;
  EXPECT_EQ(sup(0).post("/pause", R"({"paused": true, "reason": "a\nb"})", token, &answer), 400) << answer;
  ASSERT_TRUE(every_node_says_paused(false)) << "no refused request paused anything";

  ASSERT_EQ(run_hactl(0, {"pause", "--reason", "Consul servers upgraded"}), 0) << read_file(out);
  EXPECT_NE(read_file(out).find("PAUSED by api@" + sup(0).name()), std::string::npos) << read_file(out);
  ASSERT_TRUE(wait_until([&] { return every_node_says_paused(true); }, 10s)) << "every node shows the pause";
  ASSERT_EQ(run_hactl(2, {"status"}), 0);
  EXPECT_NE(read_file(out).find("PAUSED by api@" + sup(0).name() + " at "), std::string::npos) << read_file(out);
  EXPECT_NE(read_file(out).find("(Consul servers upgraded): no failover"), std::string::npos) << read_file(out);
  // Settings are not pushed while paused.
  EXPECT_EQ(run_hactl(1, {"settings", "set", "vip.unfit_grace_ms=2500"}), 1) << read_file(out);
  EXPECT_NE(read_file(out).find("the cluster is paused"), std::string::npos) << read_file(out);
  EXPECT_EQ(run_hactl(1, {"pause"}), 0);
  EXPECT_NE(read_file(out).find("already paused: nothing written"), std::string::npos) << read_file(out);

  ASSERT_EQ(run_hactl(2, {"resume"}), 0) << read_file(out);
  ASSERT_TRUE(wait_until([&] { return every_node_says_paused(false); }, 10s));
  auto doc = sup(1).cluster();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["self"]["pause"]["by"], "api@" + sup(2).name()) << "who resumed, for status and history";
  ASSERT_EQ(run_hactl(1, {"status"}), 0);
  EXPECT_EQ(read_file(out).find("PAUSED"), std::string::npos) << read_file(out);
}

}  // namespace
}  // namespace hasup::testbed
