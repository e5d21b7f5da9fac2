// The catch-up rule (supervisor/loop/stale_file.hpp): a daemon whose config
// file is newer than its unit's last state change has not read it.
#include <gtest/gtest.h>

#include <string>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"
#include "supervisor/loop/stale_file.hpp"

namespace hasup::loop {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

const WallTime kReloaded = WallTime(std::chrono::seconds(1'800'000'000));

TEST(StaleFileRule, AFileNewerThanTheActiveUnitsLastStateChangeMayNotRun) {
  EXPECT_TRUE(daemon_may_run_an_older_file(kReloaded + 1ms, kReloaded, "active"));
  EXPECT_TRUE(daemon_may_run_an_older_file(kReloaded + 1us, kReloaded, "active")) << "systemd counts in µs";
}

TEST(StaleFileRule, AFileTheUnitBecameActiveAfterIsRunning) {
  EXPECT_FALSE(daemon_may_run_an_older_file(kReloaded - 1ms, kReloaded, "active"));
  EXPECT_FALSE(daemon_may_run_an_older_file(kReloaded, kReloaded, "active"));
}

TEST(StaleFileRule, OnlyAnActiveUnitAndKnownTimesCount) {
  for (const char* state : {"reloading", "activating", "inactive", "failed", "deactivating", ""})
    EXPECT_FALSE(daemon_may_run_an_older_file(kReloaded + 1s, kReloaded, state)) << state;
  EXPECT_FALSE(daemon_may_run_an_older_file(std::nullopt, kReloaded, "active")) << "no file";
  EXPECT_FALSE(daemon_may_run_an_older_file(kReloaded + 1s, std::nullopt, "active")) << "systemd did not say";
}

// A snapshot whose unit `u.service` runs since kReloaded and whose file was
// written a second later.
Snapshot stale() {
  Snapshot s;
  s.units_connected = true;
  s.units["u.service"] = UnitView{"active", "running", 0, 42, kReloaded};
  return s;
}

ConfigFileState written_after() {
  ConfigFileState file;
  file.written = kReloaded + 1s;
  return file;
}

TEST(StaleFileDecide, ReloadsWithAReasonWhenTheFileIsNewer) {
  Snapshot s = stale();
  Plan plan;
  auto catch_up = decide_catch_up("d", written_after(), "u.service", false, "", s, plan);
  EXPECT_TRUE(catch_up.reload_now);
  EXPECT_EQ(catch_up.note,
            "d: the file was written after d last (re)loaded (the supervisor stopped between write and reload?): "
            "reloading");
  EXPECT_FALSE(plan.wake_after);
}

TEST(StaleFileDecide, NothingWhenTheUnitReloadedAfterTheWrite) {
  Snapshot s = stale();
  ConfigFileState file;
  file.written = kReloaded - 1s;
  Plan plan;
  auto catch_up = decide_catch_up("d", file, "u.service", false, "", s, plan);
  EXPECT_FALSE(catch_up.reload_now);
  EXPECT_EQ(catch_up.note, "");
}

TEST(StaleFileDecide, NothingWithoutSystemdOrTheUnit) {
  Snapshot s = stale();
  s.units_connected = false;
  Plan plan;
  EXPECT_EQ(decide_catch_up("d", written_after(), "u.service", false, "", s, plan).note, "");
  s.units_connected = true;
  EXPECT_EQ(decide_catch_up("d", written_after(), "other.service", false, "", s, plan).note, "");
}

TEST(StaleFileDecide, NotWhileAJobIsBusy) {
  Snapshot s = stale();
  Plan plan;
  auto catch_up = decide_catch_up("d", written_after(), "u.service", true, "", s, plan);
  EXPECT_FALSE(catch_up.reload_now);
  EXPECT_TRUE(contains(catch_up.note, "reloading once the running job ends"));
}

TEST(StaleFileDecide, TheComponentsOwnHoldIsSaid) {
  Snapshot s = stale();
  Plan plan;
  auto catch_up = decide_catch_up("d", written_after(), "u.service", false, "it is settled", s, plan);
  EXPECT_FALSE(catch_up.reload_now);
  EXPECT_TRUE(contains(catch_up.note, ": reloading once it is settled"));
}

// A reload job that failed leaves the rule true: the next try waits
// kCatchUpSpacing, says why, and wakes the loop when it may go.
TEST(StaleFileDecide, AFailedReloadIsTriedAgainOnlyAfterTheSpacing) {
  Snapshot s = stale();
  ConfigFileState file = written_after();
  file.since_catch_up = 3s;
  file.catch_up_error = "reload of u.service: failed";
  Plan plan;
  auto catch_up = decide_catch_up("d", file, "u.service", false, "", s, plan);
  EXPECT_FALSE(catch_up.reload_now);
  EXPECT_TRUE(contains(catch_up.note, "the reload failed (reload of u.service: failed); next try 10 s after the last"));
  ASSERT_TRUE(plan.wake_after);
  EXPECT_EQ(*plan.wake_after, milliseconds(7000));
  file.since_catch_up = kCatchUpSpacing;
  Plan later;
  EXPECT_TRUE(decide_catch_up("d", file, "u.service", false, "", s, later).reload_now);
}

// A file whose time is ahead of the clock stays newer after any reload: one
// try per spacing, never a loop.
TEST(StaleFileDecide, ASucceededReloadThatDidNotCatchUpIsNotRepeatedInALoop) {
  Snapshot s = stale();
  ConfigFileState file = written_after();
  file.since_catch_up = 50ms;
  file.catch_up_reloads = 1;
  Plan plan;
  auto catch_up = decide_catch_up("d", file, "u.service", false, "", s, plan);
  EXPECT_FALSE(catch_up.reload_now);
  EXPECT_TRUE(contains(catch_up.note, "reloaded, yet its state change is still older than the file"));
}

TEST(StaleFileStatus, CountsAndTheLastError) {
  ConfigFileState file;
  file.catch_up_reloads = 2;
  file.catch_up_error = "x";
  nlohmann::json status = nlohmann::json::object();
  add_catch_up_status(file, status);
  EXPECT_EQ(status["older_file_reloads"], 2);
  EXPECT_EQ(status["older_file_error"], "x");
}

}  // namespace
}  // namespace hasup::loop
