// A primary whose database filesystem is full (supervisor/util/
// filesystem_space.hpp): the rule that calls a filesystem full, the member record
// that carries it, and the leader's switchover away from it to a synchronous
// standby with room (components/switchover/decide.cpp). The lab's disk-full
// fault (scripts/chaos) fills a real primary's filesystem.
#include <gtest/gtest.h>

#include <sys/statvfs.h>

#include <filesystem>

#include "components/pause/record.hpp"
#include "supervisor/util/filesystem_space.hpp"
#include "components/switchover/decide.hpp"
#include "components/switchover/record.hpp"
#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/status_table.hpp"
#include "supervisor/loop/decide.hpp"
#include "tests/unit/cluster_snapshots.hpp"

namespace hasup::loop {
namespace {

using switchover::Phase;
using switchover::SwitchoverRecord;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

constexpr std::int64_t kNow = 1'765'000'000'000;
constexpr std::uint64_t kMiB = 1ull << 20;

// n1 primary with a full database filesystem, n2 its synchronous standby,
// n3 a replica; n2 leads the supervisors.
Snapshot full_primary(const std::string& self = "n2") {
  Snapshot s = sample::three_node_cluster(self);
  s.wall_ms = kNow;
  s.switchover.enabled = true;
  s.kv.members["n1"].data_full = true;
  s.kv.members["n2"].data_full = false;
  s.kv.members["n3"].data_full = false;
  return s;
}

Plan leading() {
  Plan p;
  p.role = cluster::Role::leader;
  return p;
}

// A switchover from n1 to n2 as stored, in `phase` since `started`.
SwitchoverRecord stored_record(Phase phase, const std::string& requested_by, std::int64_t started) {
  SwitchoverRecord r;
  r.id = "so-0a1b2c3d";
  r.from = "n1";
  r.to = "n2";
  r.requested_by = requested_by;
  r.requested_at = "2026-12-05T23:00:00Z";
  r.phase = phase;
  r.phase_started_ms = started;
  return r;
}

TEST(DataSpace, FullBelowTheLowMarkAndStaysFullUntilThereIsRoomAgain) {
  EXPECT_FALSE(util::filesystem_full({util::kFullBelowBytes, 2048 * kMiB}, false));
  EXPECT_TRUE(util::filesystem_full({util::kFullBelowBytes - 1, 2048 * kMiB}, false));
  // Between the marks it keeps what it was: no flapping record.
  EXPECT_TRUE(util::filesystem_full({100 * kMiB, 2048 * kMiB}, true));
  EXPECT_FALSE(util::filesystem_full({100 * kMiB, 2048 * kMiB}, false));
  EXPECT_FALSE(util::filesystem_full({util::kRoomAgainBytes, 2048 * kMiB}, true));
  EXPECT_EQ(util::filesystem_space_text({12 * kMiB + kMiB / 2, 2048 * kMiB}), "12.5 MiB free of 2.0 GiB");
}

TEST(DataSpace, ReadsTheFilesystemOfTheDirectoryOrOfItsParentBeforeItExists) {
  const auto dir = std::filesystem::temp_directory_path();
  auto here = util::read_filesystem_space(dir.string());
  ASSERT_TRUE(here.space) << here.error;
  struct statvfs st {};
  ASSERT_EQ(::statvfs(dir.c_str(), &st), 0);
  EXPECT_EQ(here.space->total_bytes, static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize);
  auto not_yet = util::read_filesystem_space((dir / "ha-data-space-test-never-made").string());
  ASSERT_TRUE(not_yet.space) << not_yet.error;
  EXPECT_EQ(not_yet.space->total_bytes, here.space->total_bytes);
  auto nowhere = util::read_filesystem_space("/nonexistent-ha-dir/data");
  EXPECT_FALSE(nowhere.space);
  EXPECT_TRUE(contains(nowhere.error, "statvfs /nonexistent-ha-dir: No such file or directory")) << nowhere.error;
}

TEST(DataSpace, TheMemberRecordCarriesItAndKeepsFullUntilThereIsRoom) {
  auto s = full_primary("n1");
  s.db.data_space.space = util::FilesystemSpace{10 * kMiB, 2048 * kMiB};
  EXPECT_EQ(desired_member_record(s, cluster::Role::follower).data_full, std::optional<bool>(true));
  s.db.data_space.space = util::FilesystemSpace{100 * kMiB, 2048 * kMiB};  // room, but not enough yet
  EXPECT_EQ(desired_member_record(s, cluster::Role::follower).data_full, std::optional<bool>(true));
  s.kv.members["n1"].data_full = false;
  EXPECT_EQ(desired_member_record(s, cluster::Role::follower).data_full, std::optional<bool>(false));
  s.db.data_space = {std::nullopt, "statvfs /var/lib/ha-patroni: Permission denied"};
  EXPECT_EQ(desired_member_record(s, cluster::Role::follower).data_full, std::nullopt) << "not measured: absent";
  auto round = cluster::decode_member(cluster::encode(s.kv.members["n2"]));
  ASSERT_TRUE(round.record) << round.error;
  EXPECT_EQ(round.record->data_full, std::optional<bool>(false));
  auto text = cluster::encode(s.kv.members["n2"]);
  text.replace(text.find("\"data_full\":false"), 17, "\"data_full\":\"no\"");
  EXPECT_EQ(cluster::decode_member(text).error, "data_full is not a boolean");
}

TEST(DataFullSwitchover, TheLeaderHandsAFullPrimaryToItsSynchronousStandby) {
  auto s = full_primary();
  auto plan = leading();
  const auto note = decide_switchover(plan, s);
  const auto* w = plan.find<WriteSwitchover>();
  ASSERT_TRUE(w) << note;
  EXPECT_EQ(w->index, 0u) << "created only if none is stored";
  auto r = switchover::decode_switchover(w->text);
  ASSERT_TRUE(r.record) << r.error;
  EXPECT_EQ(r.record->from, "n1");
  EXPECT_EQ(r.record->to, "n2");
  EXPECT_EQ(r.record->phase, Phase::floating_ip);
  EXPECT_EQ(r.record->phase_started_ms, kNow);
  EXPECT_EQ(r.record->requested_by, "supervisor@n2: n1's database filesystem is full");
  EXPECT_TRUE(contains(note, "n1's database filesystem is full")) << note;
  // Not the leader: nothing.
  Plan follower;
  follower.role = cluster::Role::follower;
  decide_switchover(follower, full_primary("n3"));
  EXPECT_FALSE(follower.find<WriteSwitchover>());
  // A primary with room: nothing.
  auto roomy = full_primary();
  roomy.kv.members["n1"].data_full = false;
  auto quiet = leading();
  decide_switchover(quiet, roomy);
  EXPECT_FALSE(quiet.find<WriteSwitchover>());
}

TEST(DataFullSwitchover, NeverToAStandbyThatIsFullTooNorWhilePausedOrUnderWay) {
  auto s = full_primary();
  s.kv.members["n2"].data_full = true;
  auto plan = leading();
  auto note = decide_switchover(plan, s);
  EXPECT_FALSE(plan.find<WriteSwitchover>());
  EXPECT_TRUE(contains(note, "n2's database filesystem is full")) << note;
  // A manual switchover is refused the same way.
  EXPECT_TRUE(contains(preview_switchover(s, "n2").refusal, "n2's database filesystem is full"));

  auto paused = full_primary();
  pause::PauseRecord pause;
  pause.paused = true;
  pause.by = "api@n3";
  pause.at = "2026-12-06T02:30:00Z";
  paused.kv.pause = KvView::StoredValue{pause::encode(pause), 9};
  auto p2 = leading();
  decide_switchover(p2, paused);
  EXPECT_FALSE(p2.find<WriteSwitchover>());

  auto under_way = full_primary();
  const auto r = stored_record(Phase::floating_ip, "api@n3", kNow);
  under_way.kv.switchover = KvView::StoredValue{switchover::encode(r), 50};
  auto p3 = leading();
  decide_switchover(p3, under_way);
  const auto* w = p3.find<WriteSwitchover>();
  EXPECT_TRUE(!w || switchover::decode_switchover(w->text).record->id == r.id) << "only the one under way is carried on";
}

// The supervisors' failed switchover away from n1, as n2 requested it 1 s ago, stored at index 50.
SwitchoverRecord store_failed_try(Snapshot& s) {
  auto r = stored_record(Phase::failed, "supervisor@n2: n1's database filesystem is full", kNow - 1000);
  r.outcome = "step hold failed: x";
  s.kv.switchover = KvView::StoredValue{switchover::encode(r), 50};
  return r;
}

TEST(DataFullSwitchover, AFailedTryIsRepeatedOnlyAfterAPauseAndAnEndedOneIsReplaced) {
  auto s = full_primary();
  const auto r = store_failed_try(s);
  auto plan = leading();
  auto note = decide_switchover(plan, s);
  EXPECT_FALSE(plan.find<WriteSwitchover>()) << note;
  EXPECT_TRUE(contains(note, "tried again 60 s after that")) << note;
  s.wall_ms = r.phase_started_ms + kFullPrimaryRetry.count();
  auto later = leading();
  decide_switchover(later, s);
  const auto* w = later.find<WriteSwitchover>();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->index, 50u) << "replaces the ended record it read";
  EXPECT_NE(switchover::decode_switchover(w->text).record->id, r.id);
}

// The leader that requested the failed try is gone (its node crashed, say):
// the new leader waits out the same pause rather than trying again at once.
// An operator's failed switchover is no reason to wait.
TEST(DataFullSwitchover, ANewLeaderWaitsOutThePauseAfterItsPredecessorsFailedTry) {
  auto s = full_primary("n3");
  const auto r = store_failed_try(s);
  auto plan = leading();
  auto note = decide_switchover(plan, s);
  EXPECT_FALSE(plan.find<WriteSwitchover>()) << note;
  EXPECT_TRUE(contains(note, "tried again 60 s after that")) << note;

  for (const char* other : {"api@n2", "supervisor@n2: n3's database filesystem is full",
                            "supervisor@: n1's database filesystem is full"}) {
    auto operators = full_primary("n3");
    auto o = r;
    o.requested_by = other;
    operators.kv.switchover = KvView::StoredValue{switchover::encode(o), 50};
    auto p = leading();
    decide_switchover(p, operators);
    EXPECT_TRUE(p.find<WriteSwitchover>()) << other << " is not the supervisors' try for n1";
  }
}

TEST(DataFullSwitchover, StatusNamesTheFullFilesystem) {
  auto s = full_primary();
  s.db.data_space.space = util::FilesystemSpace{12 * kMiB, 2048 * kMiB};
  const auto doc = api::cluster_document(s, decide(s));
  std::string n1_db;
  for (const auto& m : doc["members"])
    if (m["name"] == "n1") n1_db = m["db"].get<std::string>();
  EXPECT_TRUE(contains(n1_db, "data filesystem FULL")) << n1_db;
  const auto table = cli::render_status_table(doc);
  EXPECT_TRUE(contains(table, "data filesystem: 12.0 MiB free of 2.0 GiB")) << table;
}

}  // namespace
}  // namespace hasup::loop
