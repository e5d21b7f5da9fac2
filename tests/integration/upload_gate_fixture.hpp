#pragma once
// Shared by the upload gate's integration tests: three real syncthing
// instances (tests/testbed/syncthing_cluster), the upstream test double
// writing into node 1's folder, and ha-upload-gate processes on node 1
// started with a config written per test.
#include <gtest/gtest.h>

#include "tests/integration/upload_gate_harness.hpp"

namespace hasup::testbed::gate {

// One syncthing cluster for every test of a suite (starting one takes seconds);
// a test that kills a node brings it back before it ends.
class GateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!SyncthingCluster::available()) return;
    cluster_ = std::make_unique<SyncthingCluster>(SyncthingOptions{3, "resources", false, "gate-st"});
    cluster_->start();
    key_file_ = cluster_->write_api_key_file(0, cluster_->dir() + "/n1-api-key");
    upstream_ = std::make_unique<UpstreamDouble>(cluster_->node(0).folder);
  }
  static void TearDownTestSuite() {
    upstream_.reset();
    cluster_.reset();
  }
  void SetUp() override {
    if (!SyncthingCluster::available()) GTEST_SKIP() << "syncthing not installed at " << SyncthingCluster::binary();
    ASSERT_TRUE(cluster_);
    for (int i = 0; i < cluster_->size(); ++i)
      if (!cluster_->node_running(i)) cluster_->restart_node(i);
    ASSERT_TRUE(cluster_->wait_all_connected(60s)) << "syncthing cluster not connected; logs in " << cluster_->dir();
  }

  std::unique_ptr<GateProcess> start_gate(const GateSettings& s = {}) {
    return std::make_unique<GateProcess>(cluster_->dir(), cluster_->node(0).folder, cluster_->folder_id(),
                                         cluster_->node(0).api_port, key_file_,
                                         s.upstream_port ? s.upstream_port : upstream_->port(), s);
  }
  std::string peer_folder(int i) { return cluster_->node(i).folder; }

  static inline std::unique_ptr<SyncthingCluster> cluster_;
  static inline std::unique_ptr<UpstreamDouble> upstream_;
  static inline std::string key_file_;
};

}  // namespace hasup::testbed::gate
