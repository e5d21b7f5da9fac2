// The supervisor with db.backend = stolon against real Consul: three
// supervisors start together, exactly one runs `stolonctl init` (through
// bootstrap_once), with the cluster spec rendered from templates/, and every
// node then reads stolon's clusterdata into its status.
//
// stolonctl is a TEST DOUBLE here (stolon is not in Debian and not on this
// machine): a script that logs its arguments and PUTs a real clusterdata dump
// from a stolon 0.17 cluster (tests/fixtures/stolon/) where stolonctl would
// write it. stolon's units are left out (db.stolon_units empty): no systemd here.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/integration/cluster_fixture.hpp"

namespace hasup::testbed {
namespace {

constexpr const char* kStolonctlTestDouble = R"(#!/bin/sh
# TEST DOUBLE of stolonctl, written by tests/integration/stolon_supervisor_test.cpp.
runs=$(dirname "$0")/runs
echo "$*" >>"$runs"
for a in "$@"; do
  case "$a" in
    --cluster-name=*) name=${a#*=} ;;
    --store-endpoints=*) endpoint=${a#*=} ;;
    --store-prefix=*) prefix=${a#*=} ;;
    --file=*) spec=${a#*=} ;;
  esac
done
cp "$spec" "$(dirname "$0")/spec-used.json" || exit 4
sleep 0.3
curl -sf -o /dev/null -X PUT --data-binary @"$(dirname "$0")/clusterdata.json" "$endpoint/v1/kv/$prefix/$name/clusterdata" || exit 3
)";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class StolonSupervisorTest : public ClusterTest {};

TEST_F(StolonSupervisorTest, ThreeNodesStartingTogetherInitialiseOnceAndAllReadTheClusterdata) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "the stolonctl test double needs /usr/bin/curl";
  const std::string dir = consul_->dir() + "/stolonctl";
  mkdir(dir.c_str(), 0755);
  {
    std::ofstream(dir + "/stolonctl") << kStolonctlTestDouble;
    chmod((dir + "/stolonctl").c_str(), 0755);
    std::ofstream(dir + "/clusterdata.json") << read_text(std::string(HA_SOURCE_DIR) + "/tests/fixtures/stolon/clusterdata-initial.json");
  }
  for (int i = 0; i < 3; ++i) {
    auto o = options_for(i);
    // stolon always waits for a standby: only the strict rule (schema.cpp).
    o.extra_config = "cluster: { durability = \"strict\"; };\n"
                     "db: { backend = \"stolon\"; scope = \"mgr\"; peer_network = \"127.0.0.0/8\"; stolon_units = \"\";\n"
                     "  stolonctl = \"" + dir + "/stolonctl\"; stolon_spec_file = \"" + consul_->dir() + "/spec-n" +
                     std::to_string(i + 1) + ".json\";\n"
                     "  stolon_spec_template = \"" + std::string(HA_SOURCE_DIR) + "/templates/stolon-cluster-spec.json.mustache\"; };\n";
    add_supervisor(i, o);
  }
  // Every node shows the primary from the real dump: keeper k3.
  bool all_read = wait_until([&] {
    for (int i = 0; i < 3; ++i) {
      auto doc = sup(i).cluster();
      if (!doc || !(*doc)["database"].is_object() || (*doc)["database"]["primary"] != "k3") return false;
    }
    return true;
  }, std::chrono::seconds(30));
  EXPECT_TRUE(all_read) << sup(0).log();
  auto runs = read_text(dir + "/runs");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), '\n'), 1) << "stolonctl init ran more than once:\n" << runs;
  EXPECT_NE(runs.find("--store-backend=consul"), std::string::npos) << runs;
  EXPECT_NE(runs.find(" init --yes --file="), std::string::npos) << runs;
  auto spec = nlohmann::json::parse(read_text(dir + "/spec-used.json"), nullptr, false);
  ASSERT_FALSE(spec.is_discarded()) << "the spec given to stolonctl is not JSON";
  EXPECT_EQ(spec["synchronousReplication"], true);
  auto doc = sup(1).cluster();
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["database"]["backend"], "stolon");
  EXPECT_EQ((*doc)["database"]["initialized"], true);
  // A supervisor restarted later finds clusterdata and never initialises again.
  sup(2).terminate();
  sup(2).start();
  EXPECT_TRUE(wait_until([&] { return sup(2).is_healthy(); }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  runs = read_text(dir + "/runs");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), '\n'), 1) << runs;
}

}  // namespace
}  // namespace hasup::testbed
