// What an operator reads about the replicated folders' filesystem: its room
// in `hactl status` (the node's own), and "filesystem FULL" in the member
// table for a node whose folders' filesystem is full (the floating IP leaves
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

TEST(FilesFilesystemStatus, APeerWhoseFilesystemIsFullSaysSoInTheMemberTable) {
  Snapshot s = sample::three_node_cluster("n2");
  s.kv.members["n1"].files_state = "filesystem FULL";
  s.kv.members["n1"].health = "files: the folders' filesystem is full";
  const auto table = cli::render_status_table(api::cluster_document(s, decide(s)));
  EXPECT_TRUE(contains(table, "filesystem FULL")) << table;
}

}  // namespace
}  // namespace hasup::loop
