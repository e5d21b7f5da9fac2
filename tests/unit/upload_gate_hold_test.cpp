// The upload gate's write hold (components/upload-gate/write_hold, hold_watch):
// the hold file parsed (valid, missing fields, bad ids, garbage, too large),
// the active rule (until_unix_ms, the hold.max_ms cap), the shared state
// (writes waiting in order, the acknowledgement only when nothing is at the
// upstream), its metrics, and the config group with its errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "components/upload-gate/config.hpp"
#include "components/upload-gate/hold_watch.hpp"
#include "components/upload-gate/metrics.hpp"
#include "components/upload-gate/write_hold.hpp"

namespace hasup::upload_gate {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string parse_error(const std::string& text) {
  auto r = parse_hold_file(text);
  EXPECT_FALSE(r.hold) << text;
  return r.error;
}

TEST(GateHoldFile, AValidFileGivesItsIdAndUntil) {
  auto r = parse_hold_file(R"({"id":"switchover-7f3a","until_unix_ms":1733400000123})");
  ASSERT_TRUE(r.hold) << r.error;
  EXPECT_EQ(r.hold->id, "switchover-7f3a");
  EXPECT_EQ(r.hold->until_unix_ms, 1733400000123);
  // Keys a newer supervisor may add are ignored; white space and order do not matter.
  auto extra = parse_hold_file("{ \"until_unix_ms\": 5,\n  \"id\": \"a b~!\", \"reason\": \"switchover to n2\" }\n");
  ASSERT_TRUE(extra.hold) << extra.error;
  EXPECT_EQ(extra.hold->id, "a b~!");
  EXPECT_EQ(extra.hold->until_unix_ms, 5);
  // A time in the past parses (and holds nothing: the active rule says so).
  auto past = parse_hold_file(R"({"id":"x","until_unix_ms":-1})");
  ASSERT_TRUE(past.hold);
  EXPECT_EQ(past.hold->until_unix_ms, -1);
  EXPECT_TRUE(parse_hold_file(R"({"id":")" + std::string(64, 'i') + R"(","until_unix_ms":1})").hold);
}

TEST(GateHoldFile, MissingFieldsAreNamed) {
  EXPECT_EQ(parse_error(R"({"until_unix_ms":1})"), "no \"id\"");
  EXPECT_EQ(parse_error(R"({"id":"x"})"), "no \"until_unix_ms\"");
  EXPECT_EQ(parse_error("{}"), "no \"id\"");
}

TEST(GateHoldFile, BadIdsAreRefused) {
  EXPECT_EQ(parse_error(R"({"id":"","until_unix_ms":1})"), "\"id\" has 0 characters: must have 1..64");
  EXPECT_EQ(parse_error(R"({"id":")" + std::string(65, 'i') + R"(","until_unix_ms":1})"),
            "\"id\" has 65 characters: must have 1..64");
  EXPECT_EQ(parse_error(R"({"id":"a\nb","until_unix_ms":1})"), "\"id\" must be printable ASCII");
  EXPECT_EQ(parse_error(R"({"id":"a\u0001","until_unix_ms":1})"), "\"id\" must be printable ASCII");
  EXPECT_EQ(parse_error("{\"id\":\"caf\xc3\xa9\",\"until_unix_ms\":1}"), "\"id\" must be printable ASCII");
  EXPECT_EQ(parse_error(R"({"id":7,"until_unix_ms":1})"), "\"id\" is not a string");
  EXPECT_EQ(parse_error(R"({"id":null,"until_unix_ms":1})"), "\"id\" is not a string");
}

TEST(GateHoldFile, UntilMustBeAnInteger) {
  const std::string why = "\"until_unix_ms\" is not an integer (milliseconds since 1970)";
  EXPECT_EQ(parse_error(R"({"id":"x","until_unix_ms":"1733400000123"})"), why);
  EXPECT_EQ(parse_error(R"({"id":"x","until_unix_ms":1.5})"), why);
  EXPECT_EQ(parse_error(R"({"id":"x","until_unix_ms":1e30})"), why);
  EXPECT_EQ(parse_error(R"({"id":"x","until_unix_ms":18446744073709551615})"), why);
  EXPECT_EQ(parse_error(R"({"id":"x","until_unix_ms":null})"), why);
}

TEST(GateHoldFile, GarbageAndHugeFilesAreRefused) {
  EXPECT_EQ(parse_error(""), "empty");
  EXPECT_EQ(parse_error("{\"id\": \"half"), "not JSON");
  EXPECT_EQ(parse_error("hold please"), "not JSON");
  EXPECT_EQ(parse_error(R"({"id":"x","until_unix_ms":1} trailing)"), "not JSON");
  EXPECT_EQ(parse_error("[\"x\", 1]"), "not a JSON object {\"id\": \"...\", \"until_unix_ms\": N}");
  EXPECT_EQ(parse_error("null"), "not a JSON object {\"id\": \"...\", \"until_unix_ms\": N}");
  // Valid JSON, but larger than any hold file: refused before parsing.
  std::string huge = R"({"id":"x","until_unix_ms":1,"pad":")" + std::string(5000, 'p') + "\"}";
  EXPECT_EQ(parse_error(huge), "over 4096 bytes");
}

TEST(GateHoldFile, TheAcknowledgementIsOneJsonObject) {
  EXPECT_EQ(hold_ack_text("switchover-7f3a", 1733400000456), "{\"id\":\"switchover-7f3a\",\"since_unix_ms\":1733400000456}\n");
  EXPECT_EQ(hold_ack_text("a\"b", 1), "{\"id\":\"a\\\"b\",\"since_unix_ms\":1}\n");
}

TEST(GateHoldRule, ActiveBeforeUntilAndWithinTheCap) {
  EXPECT_TRUE(hold_active(1000, 0ms, 15000ms, 999));
  EXPECT_FALSE(hold_active(1000, 0ms, 15000ms, 1000)) << "until_unix_ms passed";
  EXPECT_FALSE(hold_active(1000, 0ms, 15000ms, 5000));
  EXPECT_TRUE(hold_active(1000000, 14999ms, 15000ms, 0));
  EXPECT_FALSE(hold_active(1000000, 15000ms, 15000ms, 0)) << "max_ms since the gate saw it";
}

// --- the shared state, with the clocks given ------------------------------------

HoldRead valid(const std::string& id, std::int64_t until) {
  HoldRead r;
  r.state = HoldRead::State::valid;
  r.file = HoldFile{id, until};
  return r;
}
HoldRead absent() { return HoldRead{}; }
HoldRead invalid(const std::string& why) {
  HoldRead r;
  r.state = HoldRead::State::invalid;
  r.error = why;
  return r;
}

class GateWriteHold : public ::testing::Test {
 protected:
  HoldInstant at(std::int64_t ms) const {
    HoldInstant i;
    i.unix_ms = t0_.unix_ms + ms;
    i.steady = t0_.steady + std::chrono::milliseconds(ms);
    return i;
  }
  std::int64_t unix_at(std::int64_t ms) const { return t0_.unix_ms + ms; }
  static void run(std::vector<std::function<void()>> released) {
    for (auto& go : released) go();
  }

  HoldConfig config_;  // max 15000 ms
  HoldInstant t0_ = HoldInstant::now();
  WriteHold hold_{config_, nullptr};
};

TEST_F(GateWriteHold, WithoutAHoldWritesGoAtOnceAndCount) {
  EXPECT_TRUE(hold_.admit([] { FAIL() << "released without a hold"; }));
  EXPECT_TRUE(hold_.admit([] {}));
  EXPECT_EQ(hold_.at_upstream(), 2u);
  hold_.answered();
  hold_.answered();
  hold_.answered();  // one too many is ignored, never below 0
  EXPECT_EQ(hold_.at_upstream(), 0u);
  EXPECT_FALSE(hold_.ack()) << "no hold: nothing to acknowledge";
}

TEST_F(GateWriteHold, WritesWaitAndGoInArrivalOrderWhenTheFileGoes) {
  run(hold_.update(valid("s1", unix_at(60000)), at(0)));
  ASSERT_EQ(hold_.active_id(), "s1");
  std::vector<int> order;
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(hold_.admit([&order, i] { order.push_back(i); }));
  EXPECT_EQ(hold_.waiting(), 3u);
  EXPECT_EQ(hold_.at_upstream(), 0u) << "a waiting write is not at the upstream";
  EXPECT_TRUE(order.empty());
  run(hold_.update(valid("s1", unix_at(60000)), at(100)));  // the same file again: nothing changes
  EXPECT_TRUE(order.empty());

  auto released = hold_.update(absent(), at(200));
  EXPECT_FALSE(hold_.active_id());
  EXPECT_FALSE(hold_.ack()) << "released writes are on their way upstream";
  EXPECT_TRUE(order.empty()) << "the caller runs them, after removing the acknowledgement";
  run(std::move(released));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(hold_.waiting(), 0u);
  EXPECT_EQ(hold_.at_upstream(), 3u);
  EXPECT_TRUE(hold_.admit([] {})) << "after the hold writes go at once";
}

TEST_F(GateWriteHold, AcknowledgedOnlyOnceNoWriteIsAtTheUpstream) {
  int drained = 0;
  hold_.on_drained([&] { ++drained; });
  ASSERT_TRUE(hold_.admit([] {}));
  ASSERT_TRUE(hold_.admit([] {}));
  run(hold_.update(valid("s2", unix_at(60000)), at(0)));
  EXPECT_FALSE(hold_.ack());
  hold_.answered();
  EXPECT_FALSE(hold_.ack()) << "one write still at the upstream";
  EXPECT_EQ(drained, 0);
  const auto before = HoldInstant::now().unix_ms;
  hold_.answered();
  EXPECT_EQ(drained, 1) << "the watcher is told, to write the acknowledgement now";
  auto ack = hold_.ack();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->id, "s2");
  EXPECT_GE(ack->since_unix_ms, before);
}

TEST_F(GateWriteHold, AHoldThatFindsNothingAtTheUpstreamIsAcknowledgedFromItsStart) {
  run(hold_.update(valid("s3", unix_at(60000)), at(0)));
  auto ack = hold_.ack();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->since_unix_ms, t0_.unix_ms);
}

TEST_F(GateWriteHold, UntilPassingEndsTheHoldWithTheFileStillThere) {
  run(hold_.update(valid("s4", unix_at(1000)), at(0)));
  ASSERT_TRUE(hold_.active_id());
  EXPECT_EQ(hold_.ends_at(), t0_.steady + 1000ms);
  int released = 0;
  EXPECT_FALSE(hold_.admit([&] { ++released; }));
  run(hold_.update(valid("s4", unix_at(1000)), at(999)));
  EXPECT_EQ(released, 0);
  run(hold_.update(valid("s4", unix_at(1000)), at(1000)));
  EXPECT_FALSE(hold_.active_id());
  EXPECT_EQ(released, 1);
  EXPECT_FALSE(hold_.ends_at());
}

TEST_F(GateWriteHold, MaxMsCapsAHoldFromWhenItsIdWasFirstSeen) {
  config_.max = 1000ms;
  run(hold_.update(valid("s5", unix_at(3600000)), at(0)));
  ASSERT_TRUE(hold_.active_id());
  EXPECT_EQ(hold_.ends_at(), t0_.steady + 1000ms);
  // The supervisor moves until_unix_ms later: the cap stays.
  run(hold_.update(valid("s5", unix_at(7200000)), at(500)));
  EXPECT_EQ(hold_.ends_at(), t0_.steady + 1000ms);
  run(hold_.update(valid("s5", unix_at(7200000)), at(1000)));
  EXPECT_FALSE(hold_.active_id());
  // Removed and written again with the same id: still capped from the first sighting.
  run(hold_.update(absent(), at(1500)));
  run(hold_.update(valid("s5", unix_at(7200000)), at(2000)));
  EXPECT_FALSE(hold_.active_id());
  // A new id is a new hold, with a cap of its own.
  run(hold_.update(valid("s6", unix_at(7200000)), at(2000)));
  EXPECT_EQ(hold_.active_id(), "s6");
  EXPECT_EQ(hold_.ends_at(), t0_.steady + 3000ms);
}

TEST_F(GateWriteHold, AnotherIdEndsTheHoldAndStartsItsOwn) {
  run(hold_.update(valid("a", unix_at(60000)), at(0)));
  int released = 0;
  EXPECT_FALSE(hold_.admit([&] { ++released; }));
  run(hold_.update(valid("b", unix_at(60000)), at(100)));
  EXPECT_EQ(released, 1) << "a hold that ends releases its writes, whatever comes next";
  EXPECT_EQ(hold_.active_id(), "b");
  EXPECT_FALSE(hold_.ack()) << "the released write is at the upstream now";
  hold_.answered();
  ASSERT_TRUE(hold_.ack());
  EXPECT_EQ(hold_.ack()->id, "b");
}

TEST_F(GateWriteHold, AFileThatDoesNotParseEndsTheHold) {
  run(hold_.update(valid("c", unix_at(60000)), at(0)));
  int released = 0;
  EXPECT_FALSE(hold_.admit([&] { ++released; }));
  run(hold_.update(invalid("not JSON"), at(100)));
  EXPECT_EQ(released, 1);
  EXPECT_FALSE(hold_.active_id());
  EXPECT_TRUE(hold_.admit([] {}));
}

TEST_F(GateWriteHold, AHoldAlreadyOverNeverStarts) {
  run(hold_.update(valid("late", unix_at(-5)), at(0)));
  EXPECT_FALSE(hold_.active_id());
  EXPECT_TRUE(hold_.admit([] {}));
}

TEST_F(GateWriteHold, DroppedWaitersAreNeverReleased) {
  run(hold_.update(valid("d", unix_at(60000)), at(0)));
  auto flag = std::make_shared<int>(0);
  std::weak_ptr<int> alive = flag;
  EXPECT_FALSE(hold_.admit([flag] { ++*flag; }));
  flag.reset();
  hold_.drop_waiting();
  EXPECT_TRUE(alive.expired()) << "the waiting write's state is freed";
  EXPECT_TRUE(hold_.update(absent(), at(10)).empty());
}

std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

TEST(GateHoldMetrics, HoldsWaitingWritesAndTheLongestWait) {
  HoldConfig config;
  GateMetrics metrics;
  WriteHold hold(config, &metrics);
  auto t0 = HoldInstant::now();
  EXPECT_EQ(sample(metrics.text(), "ha_upload_gate_holds_total"), 0);
  hold.update(valid("m", t0.unix_ms + 60000), t0);
  EXPECT_EQ(sample(metrics.text(), "ha_upload_gate_holds_total"), 1);
  EXPECT_EQ(sample(metrics.text(), "ha_upload_gate_hold_active"), 1);
  hold.admit([] {});
  hold.admit([] {});
  EXPECT_EQ(sample(metrics.text(), "ha_upload_gate_hold_waiting_writes"), 2);
  auto end = t0;
  end.steady = std::chrono::steady_clock::now() + 1500ms;  // as if they waited 1.5 s
  for (auto& go : hold.update(absent(), end)) go();
  auto text = metrics.text();
  EXPECT_EQ(sample(text, "ha_upload_gate_hold_waiting_writes"), 0) << text;
  EXPECT_EQ(sample(text, "ha_upload_gate_hold_active"), 0) << text;
  EXPECT_NEAR(*sample(text, "ha_upload_gate_hold_longest_wait_seconds"), 1.5, 0.2) << text;
}

// --- the file as HoldWatch reads it -----------------------------------------------

class GateHoldFileRead : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gate-hold-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(GateHoldFileRead, AbsentInvalidOrValid) {
  EXPECT_EQ(read_hold_file((dir_ / "none").string()).state, HoldRead::State::absent);
  EXPECT_EQ(read_hold_file((dir_ / "no-dir/none").string()).state, HoldRead::State::absent);
  auto ok = read_hold_file(write("hold", R"({"id":"r","until_unix_ms":42})"));
  ASSERT_EQ(ok.state, HoldRead::State::valid) << ok.error;
  EXPECT_EQ(ok.file.id, "r");
  auto garbage = read_hold_file(write("garbage", "\x01\x02"));
  EXPECT_EQ(garbage.state, HoldRead::State::invalid);
  EXPECT_EQ(garbage.error, "not JSON");
  auto huge = read_hold_file(write("huge", std::string(1 << 20, ' ')));
  EXPECT_EQ(huge.state, HoldRead::State::invalid);
  EXPECT_EQ(huge.error, "over 4096 bytes");
  auto directory = read_hold_file(dir_.string());
  EXPECT_EQ(directory.state, HoldRead::State::invalid);
  EXPECT_EQ(directory.error, "not a regular file");
}

// --- the config group ---------------------------------------------------------------

class GateHoldConfig : public GateHoldFileRead {
 protected:
  void SetUp() override {
    GateHoldFileRead::SetUp();
    fs::create_directories(dir_ / "resources");
    key_ = write("key", "abcdef123456\n");
    chmod(key_.c_str(), 0600);
  }
  std::string minimal(const std::string& extra) {
    return "folder = { id = \"resources\"; path = \"" + (dir_ / "resources").string() +
           "\"; };\nsyncthing = { api_url = \"http://127.0.0.1:8384\"; api_key_file = \"" + key_ + "\"; };\n" + extra;
  }
  static bool has_error(const LoadResult& r, const std::string& part) {
    for (const auto& e : r.errors)
      if (e.find(part) != std::string::npos) return true;
    return false;
  }
  static std::string all(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e + "\n";
    return out;
  }
  std::string key_;
};

TEST_F(GateHoldConfig, DefaultsAndValues) {
  auto defaults = load_config_text(minimal(""), "gate.conf");
  ASSERT_TRUE(defaults.config) << all(defaults);
  EXPECT_EQ(defaults.config->hold.file, "/run/ha-supervisor/write-hold");
  EXPECT_EQ(defaults.config->hold.ack_file, "/run/ha-upload-gate/write-held");
  EXPECT_EQ(defaults.config->hold.max, 15000ms);
  auto set = load_config_text(
      minimal("hold = { file = \"/tmp/h/write-hold\"; ack_file = \"/tmp/a/write-held\"; max_ms = 60000; };\n"),
      "gate.conf");
  ASSERT_TRUE(set.config) << all(set);
  EXPECT_EQ(set.config->hold.file, "/tmp/h/write-hold");
  EXPECT_EQ(set.config->hold.ack_file, "/tmp/a/write-held");
  EXPECT_EQ(set.config->hold.max, 60000ms);
}

TEST_F(GateHoldConfig, EveryErrorWithItsLine) {
  auto r = load_config_text(minimal(R"(hold = {
  file = "write-hold";
  ack_file = "/run/ha-upload-gate/";
  max_ms = 999;
  colour = "blue";
};
)"),
                            "gate.conf");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(r, "gate.conf:4: hold.file 'write-hold' must be an absolute path to a file")) << all(r);
  EXPECT_TRUE(has_error(r, "gate.conf:5: hold.ack_file '/run/ha-upload-gate/' must be an absolute path to a file"))
      << all(r);
  EXPECT_TRUE(has_error(r, "gate.conf:6: hold.max_ms = 999 is out of range 1000..60000")) << all(r);
  EXPECT_TRUE(has_error(r, "gate.conf:7: unknown key 'hold.colour' (known: ack_file, file, max_ms)")) << all(r);

  auto too_long = load_config_text(minimal("hold = { max_ms = 60001; };\n"), "gate.conf");
  EXPECT_TRUE(has_error(too_long, "hold.max_ms = 60001 is out of range 1000..60000")) << all(too_long);
  auto typed = load_config_text(minimal("hold = { max_ms = \"15s\"; file = 3; };\n"), "gate.conf");
  EXPECT_TRUE(has_error(typed, "hold.max_ms must be an integer")) << all(typed);
  EXPECT_TRUE(has_error(typed, "hold.file must be a string")) << all(typed);
  auto not_group = load_config_text(minimal("hold = \"/run/ha-supervisor/write-hold\";\n"), "gate.conf");
  EXPECT_TRUE(has_error(not_group, "hold must be a group")) << all(not_group);
}

TEST_F(GateHoldConfig, TheFilesAreDistinctAndOutsideTheReplicatedFolder) {
  auto same = load_config_text(minimal("hold = { file = \"/run/x/h\"; ack_file = \"/run/x/h\"; };\n"), "gate.conf");
  EXPECT_TRUE(has_error(same, "hold.ack_file is hold.file ('/run/x/h')")) << all(same);
  auto replicated = load_config_text(
      minimal("hold = { ack_file = \"" + (dir_ / "resources/write-held").string() + "\"; };\n"), "gate.conf");
  EXPECT_TRUE(has_error(replicated, "is inside folder.path")) << all(replicated);
}

}  // namespace
}  // namespace hasup::upload_gate
