// The change log's windows: a write waits for every change made while it was
// in flight (its own and, safely, its neighbours'), not for older or later
// ones, not for files still open for writing; an overflow marks every open
// window; memory is released once no window needs it.
#include <gtest/gtest.h>

#include "components/upload-gate/change_log.hpp"
#include "components/upload-gate/inotify_watcher.hpp"

namespace hasup::upload_gate {
namespace {

using Paths = std::vector<std::string>;

TEST(GateChangeLog, AWindowSeesOnlyChangesWhileItWasOpen) {
  ChangeLog log;
  log.record("before.bin", ChangeKind::created);  // no window open: nobody waits for it
  auto w = log.open();
  log.record("blueprints/a/archive", ChangeKind::created);
  log.record("blueprints/a/archive", ChangeKind::closed);
  auto changes = log.close(w);
  EXPECT_EQ(changes.paths, Paths{"blueprints/a/archive"});
  EXPECT_FALSE(changes.overflowed);
  auto later = log.open();
  EXPECT_TRUE(log.close(later).paths.empty());
}

TEST(GateChangeLog, ConcurrentWritesShareTheirChanges) {
  ChangeLog log;
  auto first = log.open();
  log.record("one", ChangeKind::created);
  auto second = log.open();
  log.record("two", ChangeKind::created);
  auto first_changes = log.close(first);
  log.record("three", ChangeKind::created);
  auto second_changes = log.close(second);
  EXPECT_EQ(first_changes.paths, (Paths{"one", "two"}));
  // "one" changed before the second write started: not its concern.
  EXPECT_EQ(second_changes.paths, (Paths{"three", "two"}));
}

TEST(GateChangeLog, APathChangedBeforeAndDuringAWindowCounts) {
  ChangeLog log;
  auto old_window = log.open();
  log.record("shared", ChangeKind::created);
  auto w = log.open();
  log.record("shared", ChangeKind::attribute);
  log.close(old_window);
  EXPECT_EQ(log.close(w).paths, Paths{"shared"});
}

TEST(GateChangeLog, FilesStillOpenForWritingAreLeftToTheWriteThatClosesThem) {
  ChangeLog log;
  auto long_upload = log.open();
  log.record("big.upload-tmp", ChangeKind::created);
  log.record("big.upload-tmp", ChangeKind::written);
  auto small = log.open();
  log.record("small", ChangeKind::created);
  log.record("small", ChangeKind::written);
  log.record("small", ChangeKind::closed);
  log.record("big.upload-tmp", ChangeKind::written);
  auto small_changes = log.close(small);
  EXPECT_EQ(small_changes.paths, Paths{"small"});
  EXPECT_EQ(small_changes.still_writing, 1u);
  log.record("big.upload-tmp", ChangeKind::closed);
  log.record("big.upload-tmp", ChangeKind::removed);
  log.record("big", ChangeKind::created);
  auto long_changes = log.close(long_upload);
  EXPECT_EQ(long_changes.paths, (Paths{"big", "big.upload-tmp", "small"}));
  EXPECT_EQ(long_changes.still_writing, 0u);
}

TEST(GateChangeLog, OverflowMarksEveryOpenWindowButNotLaterOnes) {
  ChangeLog log;
  auto a = log.open();
  auto b = log.open();
  log.overflow();
  EXPECT_TRUE(log.close(a).overflowed);
  EXPECT_TRUE(log.close(b).overflowed);
  auto c = log.open();
  EXPECT_FALSE(log.close(c).overflowed);
}

TEST(GateChangeLog, TooManyPathsIsAnOverflow) {
  ChangeLog log(10);
  auto w = log.open();
  for (int i = 0; i < 20; ++i) log.record("f" + std::to_string(i), ChangeKind::created);
  auto changes = log.close(w);
  EXPECT_TRUE(changes.overflowed);
  EXPECT_LE(log.tracked_paths(), 10u);
}

TEST(GateChangeLog, MemoryIsReleasedWhenNoWindowNeedsIt) {
  ChangeLog log;
  auto w = log.open();
  for (int i = 0; i < 100; ++i) log.record("f" + std::to_string(i), ChangeKind::created);
  EXPECT_EQ(log.tracked_paths(), 100u);
  log.close(w);
  EXPECT_EQ(log.tracked_paths(), 0u);
  EXPECT_EQ(log.open_windows(), 0u);
  EXPECT_TRUE(log.close(12345).paths.empty());  // an unknown window is harmless
}

TEST(GateChangeLog, SyncthingsOwnPathsAreNeverWaitedFor) {
  EXPECT_TRUE(is_syncthing_internal(".stfolder"));
  EXPECT_TRUE(is_syncthing_internal(".stignore"));
  EXPECT_TRUE(is_syncthing_internal(".stversions/a/b~20260101.bin"));
  EXPECT_TRUE(is_syncthing_internal("blueprints/.syncthing.archive.tmp"));
  EXPECT_TRUE(is_syncthing_internal("blueprints/~syncthing~archive.tmp"));
  EXPECT_FALSE(is_syncthing_internal("blueprints/a/.stignore"));
  EXPECT_FALSE(is_syncthing_internal("blueprints/a/archive"));
  EXPECT_FALSE(is_syncthing_internal(".syncthing.notes"));
}

}  // namespace
}  // namespace hasup::upload_gate
