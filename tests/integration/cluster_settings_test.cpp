// The cluster's settings through the store, with real Consul and real
// supervisors: a change written on one node is applied on every node (live
// keys at once, the others named as waiting for a restart); bad settings,
// from the API or written into Consul by hand, change nothing and are said; a
// node that was down during a change starts again with it before it takes a
// role; settings Consul lost are restored from the nodes' copies.
#include <gtest/gtest.h>

#include "tests/integration/cluster_fixture.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json settings_of(SupervisorProcess& s) {
  std::string body;
  if (s.get_status("/settings", &body) != 200) return nullptr;
  auto doc = json::parse(body, nullptr, false);
  return doc.is_discarded() ? json(nullptr) : doc;
}

std::uint64_t stored_index(SupervisorProcess& s) {
  auto doc = settings_of(s);
  if (!doc.is_object() || !doc["stored"].is_object()) return 0;
  return doc["stored"]["index"].get<std::uint64_t>();
}

// `s` runs with `key` = `value`, applied from the store's current settings.
bool runs_with(SupervisorProcess& s, const std::string& key, int value) {
  auto doc = settings_of(s);
  return doc.is_object() && doc["effective"][key] == value && doc["stored"].is_object() &&
         doc["applied_index"] == doc["stored"]["index"];
}

int post_settings(SupervisorProcess& s, const json& body, std::string* answer) {
  return s.post("/settings", body.dump(), s.bearer(), answer);
}

TEST_F(ClusterTest, SettingsWrittenOnOneNodeReachEveryNodeBadOnesChangeNothing) {
  start_supervisors();
  ASSERT_TRUE(wait_for_members(3, 20s));
  std::string answer;

  // A live key and one that applies at a start, set on n1.
  ASSERT_EQ(post_settings(sup(0), {{"set", {{"vip.unfit_grace_ms", "2500"}, {"consul.lock_delay_ms", "4000"}}}}, &answer),
            200)
      << answer;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(wait_until([&] { return runs_with(sup(i), "vip.unfit_grace_ms", 2500); }, 10s))
        << sup(i).name() << ": " << settings_of(sup(i)).dump();
    auto doc = settings_of(sup(i));
    EXPECT_EQ(doc["pending"], json::array({"consul.lock_delay_ms"})) << doc.dump();
    EXPECT_EQ(doc["effective"]["consul.lock_delay_ms"], 3500) << "applies at the next start, not live";
    EXPECT_TRUE(wait_until([&] { return read_file(sup(i).settings_file()).find("\"vip.unfit_grace_ms\":2500") !=
                                        std::string::npos; }, 5s))
        << sup(i).name() << " keeps a copy: " << read_file(sup(i).settings_file());
  }
  // Every member's record says what it applied, seen from n2.
  EXPECT_TRUE(wait_until([&] {
    auto doc = settings_of(sup(1));
    for (const auto& name : {"n1", "n2", "n3"})
      if (!doc["nodes"].contains(name) || doc["nodes"][name]["applied_index"] != doc["stored"]["index"]) return false;
    return true;
  }, 10s)) << settings_of(sup(1)).dump();
  const std::uint64_t good_index = stored_index(sup(0));

  // Refused by the API, nothing written: a node's own key, a value out of range, a word for a number.
  EXPECT_EQ(post_settings(sup(1), {{"set", {{"node.name", "n9"}}}}, &answer), 400);
  EXPECT_NE(answer.find("not a cluster-wide key"), std::string::npos) << answer;
  EXPECT_EQ(post_settings(sup(1), {{"set", {{"db.probe_interval_ms", "5"}}}}, &answer), 400);
  EXPECT_NE(answer.find("out of range"), std::string::npos) << answer;
  EXPECT_EQ(post_settings(sup(1), {{"set", {{"vip.unfit_grace_ms", "soon"}}}}, &answer), 400);
  EXPECT_EQ(sup(1).post("/settings", R"({"set": {"vip.unfit_grace_ms": "1"}})", "", &answer), 401) << answer;
  EXPECT_EQ(stored_index(sup(0)), good_index);

  // Written into Consul by hand, past the API: every node refuses it, says why, keeps what it runs.
  auto put = consul_->put(0, "/v1/kv/ha-supervisor/settings", R"({"vip.unfit_grace_ms": "soon"})");
  ASSERT_TRUE(put.ok && put.response.status == 200) << put.error;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(wait_until([&] {
      auto doc = settings_of(sup(i));
      return doc.is_object() && doc["error"].get<std::string>().find("vip.unfit_grace_ms: expected int") !=
                                    std::string::npos;
    }, 10s)) << settings_of(sup(i)).dump();
    auto doc = settings_of(sup(i));
    EXPECT_EQ(doc["effective"]["vip.unfit_grace_ms"], 2500);
    EXPECT_EQ(doc["applied_index"], good_index);
    EXPECT_TRUE(sup(i).is_healthy()) << sup(i).name();
  }
  auto cluster = sup(1).cluster();
  ASSERT_TRUE(cluster);
  // An edit through the API mends it.
  ASSERT_EQ(post_settings(sup(2), {{"set", {{"vip.unfit_grace_ms", "2000"}}}}, &answer), 200) << answer;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(wait_until([&] { return runs_with(sup(i), "vip.unfit_grace_ms", 2000); }, 10s))
        << settings_of(sup(i)).dump();
    EXPECT_EQ(settings_of(sup(i))["error"], "");
  }
}

TEST_F(ClusterTest, ANodeDownDuringAChangeStartsAgainWithItAndLostSettingsAreRestored) {
  start_supervisors();
  ASSERT_TRUE(wait_for_members(3, 20s));
  std::string answer;
  ASSERT_EQ(post_settings(sup(0), {{"set", {{"vip.unfit_grace_ms", "2500"}}}}, &answer), 200) << answer;
  ASSERT_TRUE(wait_until([&] { return runs_with(sup(2), "vip.unfit_grace_ms", 2500); }, 10s));
  // n3 stops; a key that applies only at a start changes meanwhile.
  sup(2).terminate();
  ASSERT_EQ(post_settings(sup(0), {{"set", {{"consul.lock_delay_ms", "4000"}}}}, &answer), 200) << answer;
  // n3 starts with its copy (older), reads the store, and starts again to apply it.
  sup(2).start();
  EXPECT_EQ(sup(2).wait_exit(30s), 75) << sup(2).log();
  EXPECT_NE(sup(2).log().find("which apply at a start: starting again with them"), std::string::npos);
  EXPECT_NE(read_file(sup(2).settings_file()).find("\"consul.lock_delay_ms\":4000"), std::string::npos)
      << read_file(sup(2).settings_file());
  sup(2).start();  // what systemd's Restart=always does
  ASSERT_TRUE(wait_for_members(3, 20s));
  EXPECT_TRUE(wait_until([&] {
    auto doc = settings_of(sup(2));
    return doc.is_object() && doc["effective"]["consul.lock_delay_ms"] == 4000 && doc["pending"].empty();
  }, 10s)) << settings_of(sup(2)).dump();
  EXPECT_EQ(sup(2).wait_exit(3s), -1) << "no second restart: " << sup(2).log();

  // Consul loses the settings: the leader writes back its copy; nothing changes on any node.
  const auto before = settings_of(sup(0))["stored"]["settings"];
  // n1 and n2 ran through the change: the key that applies at a start waits for theirs.
  EXPECT_EQ(settings_of(sup(0))["pending"], json::array({"consul.lock_delay_ms"}));
  auto deleted = consul_->del(0, "/v1/kv/ha-supervisor/settings");
  ASSERT_TRUE(deleted.ok && deleted.response.status == 200) << deleted.error;
  EXPECT_TRUE(wait_until([&] {
    auto doc = settings_of(sup(1));
    return doc.is_object() && doc["stored"].is_object() && doc["stored"]["settings"] == before;
  }, 10s)) << settings_of(sup(1)).dump();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(wait_until([&] { return runs_with(sup(i), "vip.unfit_grace_ms", 2500); }, 10s))
        << settings_of(sup(i)).dump();
    EXPECT_EQ(settings_of(sup(i))["pending"], i == 2 ? json::array() : json::array({"consul.lock_delay_ms"}))
        << sup(i).name();
  }
}

}  // namespace
}  // namespace hasup::testbed
