// What an operator reads about the replicated folders' filesystem: its room
// in `hactl status` (the node's own), and "filesystem FULL" in its row of the
// member table when its folders' filesystem is full (the floating IP leaves
// it: DecideVip.ANodeWhoseFilesFilesystemIsFullGivesTheIpUp).
#include <gtest/gtest.h>

#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/status_table.hpp"
#include "supervisor/loop/decide.hpp"
#include "supervisor/util/filesystem_space.hpp"
#include "tests/unit/cluster_snapshots.hpp"

namespace hasup::loop {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(FilesFilesystemStatus, ShowsTheRoomAndAFullFilesystem) {
  Snapshot s = sample::three_node_cluster("n1");
  s.files.enabled = true;
  s.files.space.space = util::FilesystemSpace{40ull << 20, 1ull << 30};
  s.files.full = true;
  const auto doc = api::cluster_document(s, decide(s));
  EXPECT_EQ(doc["self"]["files"]["space"]["free_bytes"], 40ull << 20);
  EXPECT_EQ(doc["self"]["files"]["problem"], "files: the folders' filesystem is full");
  const auto table = cli::render_status_table(doc);
  EXPECT_TRUE(contains(table, "files filesystem: 40.0 MiB free of 1.0 GiB")) << table << doc["self"]["files"].dump();

  s.files.space = {std::nullopt, "statvfs /opt/manager/resources: Permission denied"};
  s.files.full = false;
  const auto unread = cli::render_status_table(api::cluster_document(s, decide(s)));
  EXPECT_TRUE(contains(unread, "files filesystem: not read: statvfs /opt/manager/resources: Permission denied")) << unread;
}

// The node's own row is read from its view, not from its published record:
// FULL shows there before the record with it reaches Consul.
TEST(FilesFilesystemStatus, TheNodesOwnRowSaysFullFromItsView) {
  Snapshot s = sample::three_node_cluster("n2");
  s.files.enabled = true;
  s.files.full = true;
  const auto doc = api::cluster_document(s, decide(s));
  for (const auto& m : doc["members"])
    EXPECT_EQ(m["files"], m["name"] == "n2" ? "filesystem FULL" : "in sync, 2/2 peers") << m["name"];
}

}  // namespace
}  // namespace hasup::loop
