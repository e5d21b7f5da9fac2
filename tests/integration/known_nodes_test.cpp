// A node leaves the cluster only through `hactl forget`: with real Consul and
// real supervisors, the registrations wiped from Consul (its data lost, or an
// ACL that hides nodes/) do not make a down node disappear, also across a
// restart of the supervisor; the operator's forget does, on every node.
#include <gtest/gtest.h>

#include "tests/integration/cluster_fixture.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

// The member row `name` in `viewer`'s /cluster, or null.
nlohmann::json row_of(SupervisorProcess& viewer, const std::string& name) {
  auto doc = viewer.cluster();
  if (!doc) return nullptr;
  for (const auto& m : (*doc)["members"])
    if (m["name"] == name) return m;
  return nullptr;
}

bool shows_down_and_kept(SupervisorProcess& viewer, const std::string& name) {
  auto row = row_of(viewer, name);
  return row.is_object() && row["role"] == "down" && row["health"].get<std::string>().find("kept") != std::string::npos;
}

TEST_F(ClusterTest, ANodeMissingFromConsulStaysUntilAnOperatorForgetsIt) {
  start_supervisors();
  ASSERT_TRUE(wait_for_members(3, 20s));
  ASSERT_TRUE(wait_until([&] { return read_file(sup(0).known_nodes_file()).find("\"n3\"") != std::string::npos; }, 5s))
      << "n1 remembers the nodes on disk";
  sup(2).terminate();  // n3 stops: down, still registered
  ASSERT_TRUE(wait_until([&] {
    auto row = row_of(sup(0), "n3");
    return row.is_object() && row["role"] == "down";
  }, 20s));

  // Consul loses every registration (the live nodes register themselves again).
  auto wiped = consul_->del(0, "/v1/kv/ha-supervisor/nodes/?recurse=true");
  ASSERT_TRUE(wiped.ok && wiped.response.status == 200) << wiped.error;
  for (int viewer : {0, 1})
    EXPECT_TRUE(wait_until([&] { return shows_down_and_kept(sup(viewer), "n3"); }, 10s))
        << sup(viewer).name() << " let n3 go without a forget: " << row_of(sup(viewer), "n3").dump();
  auto n3 = consul_->get(0, "/v1/kv/ha-supervisor/nodes/n3");
  EXPECT_EQ(n3.response.status, 404) << "the registration is really gone from Consul";

  // A restart keeps the memory: it is on disk.
  sup(0).terminate();
  sup(0).start();
  EXPECT_TRUE(wait_until([&] { return shows_down_and_kept(sup(0), "n3"); }, 20s))
      << "after a restart: " << row_of(sup(0), "n3").dump();

  // The operator forgets n3 on n2: a tombstone, and every node lets it go.
  std::string answer;
  EXPECT_EQ(sup(1).post("/forget", R"({"node": "n3"})", sup(1).bearer(), &answer), 200) << answer;
  for (int viewer : {0, 1})
    EXPECT_TRUE(wait_until([&] { return row_of(sup(viewer), "n3").is_null(); }, 10s)) << sup(viewer).name();
  EXPECT_TRUE(wait_until([&] { return read_file(sup(0).known_nodes_file()).find("\"n3\"") == std::string::npos; }, 5s))
      << read_file(sup(0).known_nodes_file());
  EXPECT_EQ(consul_->get(0, "/v1/kv/ha-supervisor/forgotten/n3").response.status, 200) << "the tombstone";
  EXPECT_EQ(sup(1).post("/forget", R"({"node": "n3"})", sup(1).bearer(), &answer), 404) << answer;

  // n3 provisioned again: its registration removes the tombstone.
  sup(2).start();
  ASSERT_TRUE(wait_for_members(3, 20s));
  EXPECT_TRUE(wait_until([&] { return consul_->get(0, "/v1/kv/ha-supervisor/forgotten/n3").response.status == 404; }, 5s));
  EXPECT_TRUE(wait_until([&] { return read_file(sup(0).known_nodes_file()).find("\"n3\"") != std::string::npos; }, 5s));
}

// A memory file that cannot be read is said, not half-used, and the node runs
// on what Consul knows (and writes a good file again).
TEST_F(ClusterTest, AnUnreadableMemoryIsReportedAndReplaced) {
  auto options = options_for(0);
  SupervisorProcess probe(options, consul_->dir());  // only for the file's path
  write_file(probe.known_nodes_file(), "{\"schema\":1,\"nodes\":[{\"schema\":1,\"name\":\"n9\"");
  start_supervisors();
  ASSERT_TRUE(wait_for_members(3, 20s));
  EXPECT_NE(sup(0).log().find("is unreadable (not a JSON object): starting without a memory"), std::string::npos);
  EXPECT_TRUE(wait_until([&] {
    auto decoded = nlohmann::json::parse(read_file(sup(0).known_nodes_file()), nullptr, false);
    return decoded.is_object() && decoded["nodes"].size() == 3;
  }, 5s)) << read_file(sup(0).known_nodes_file());
  EXPECT_TRUE(row_of(sup(0), "n9").is_null());
}

}  // namespace
}  // namespace hasup::testbed
