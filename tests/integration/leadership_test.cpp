// Leadership through a Consul lock, against a real 3-server Consul 1.8.7.
#include <signal.h>

#include "tests/integration/cluster_fixture.hpp"

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

}  // namespace
}  // namespace hasup::testbed
