// ha-upload-gate's write hold (a planned switchover), against a real gate
// process: a write sent while the hold file exists gets no answer until the
// hold ends, then succeeds; reads pass meanwhile; the acknowledgement appears
// only once no write is at the upstream; until_unix_ms and hold.max_ms end a
// hold with the file still there; a file that does not parse holds nothing.
//
// No syncthing: every write here changes no file (POST /noop, POST /slow), so
// the gate releases it as soon as the upstream answered. The gate's syncthing
// URL points at a port nothing listens on; its event poll retries in the
// background.
#include <sys/stat.h>

#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/upload_gate_harness.hpp"

namespace hasup::testbed::gate {
namespace {

using nlohmann::json;

// Generous bounds for a busy 2-core machine; a passing run takes far less.
constexpr auto kSoon = 10s;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class GateHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("gate-hold");
    folder_ = dir_ + "/resources";
    fs::create_directories(folder_);
    key_file_ = dir_ + "/api-key";
    write_file(key_file_, "hold-test-key\n");
    chmod(key_file_.c_str(), 0600);
    upstream_ = std::make_unique<UpstreamDouble>(folder_);
  }
  void TearDown() override {
    gate_.reset();
    upstream_.reset();
    remove_tree(dir_);
  }

  // Ends the hold and lets the upstream answer. Declared after a test's
  // futures, a LiftOnExit does it on any exit, so a failed assertion never
  // leaves a future's destructor waiting on either.
  void lift() {
    std::error_code ignored;
    if (gate_) fs::remove(gate_->hold_file(), ignored);
    upstream_->release_slow();
  }
  struct LiftOnExit {
    GateHoldTest& test;
    ~LiftOnExit() { test.lift(); }
  };

  GateProcess& start_gate(GateSettings s = {}) {
    s.log_level = "debug";
    gate_ = std::make_unique<GateProcess>(dir_, folder_, "resources", free_port(), key_file_, upstream_->port(), s);
    return *gate_;
  }

  // As the supervisor writes it: a temporary file renamed into place.
  void write_hold(const std::string& text) {
    const std::string temp = gate_->hold_file() + ".new";
    write_file(temp, text);
    fs::rename(temp, gate_->hold_file());
  }
  void hold(const std::string& id, std::int64_t until_unix_ms) {
    write_hold(json{{"id", id}, {"until_unix_ms", until_unix_ms}}.dump());
  }

  bool log_has(const std::string& text) { return gate_->log().find(text) != std::string::npos; }
  bool log_shows_soon(const std::string& text) { return wait_until([&] { return log_has(text); }, kSoon); }
  // How many times the gate logged `text` so far.
  std::size_t log_count(const std::string& text) {
    auto log = gate_->log();
    std::size_t n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }

  std::future<Reply> send_async(const std::string& method, const std::string& target) {
    auto port = gate_->port();
    return std::async(std::launch::async, [port, method, target] { return send(port, method, target, "x"); });
  }
  static bool ready(std::future<Reply>& f) { return f.wait_for(0s) == std::future_status::ready; }

  std::string dir_, folder_, key_file_;
  std::unique_ptr<UpstreamDouble> upstream_;
  std::unique_ptr<GateProcess> gate_;
};

TEST_F(GateHoldTest, AWriteWaitsUntilTheHoldFileIsRemovedAndReadsPass) {
  auto& gate = start_gate();
  hold("switch-1", now_unix_ms() + 60000);
  ASSERT_TRUE(log_shows_soon("write hold 'switch-1' started")) << gate.log();
  // Nothing at the upstream: acknowledged at once.
  ASSERT_TRUE(wait_until([&] { return fs::exists(gate.ack_file()); }, kSoon)) << gate.log();
  auto ack = json::parse(read_file(gate.ack_file()));
  EXPECT_EQ(ack["id"], "switch-1");
  EXPECT_GT(ack["since_unix_ms"].get<std::int64_t>(), now_unix_ms() - 60000);
  struct stat st {};
  ASSERT_EQ(stat(gate.ack_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  const int upstream_before = upstream_->requests();
  auto write = send_async("POST", "/noop");
  LiftOnExit lift_on_exit{*this};
  ASSERT_TRUE(log_shows_soon("POST /noop: waits on the write hold")) << gate.log();

  auto read = send(gate.port(), "GET", "/ping");
  EXPECT_EQ(read.status, 200) << read.error;
  EXPECT_EQ(read.body, "pong");
  EXPECT_EQ(upstream_->requests(), upstream_before + 1) << "only the read reached the upstream";
  EXPECT_FALSE(ready(write)) << "the write was answered during the hold";

  fs::remove(gate.hold_file());
  ASSERT_EQ(write.wait_for(kSoon), std::future_status::ready) << gate.log();
  auto reply = write.get();
  EXPECT_EQ(reply.status, 200) << reply.body << reply.error;
  EXPECT_EQ(reply.header("x-replication"), "no file changed");
  EXPECT_EQ(upstream_->requests(), upstream_before + 2);
  EXPECT_TRUE(log_has("write hold 'switch-1' ended: the hold file is gone; 1 write(s) waited, the longest"))
      << gate.log();
  EXPECT_TRUE(wait_until([&] { return !fs::exists(gate.ack_file()); }, kSoon)) << "the acknowledgement outlived the hold";
}

TEST_F(GateHoldTest, TheAcknowledgementWaitsForTheWriteAtTheUpstream) {
  auto& gate = start_gate();
  auto slow = send_async("POST", "/slow");
  LiftOnExit lift_slow_on_exit{*this};
  ASSERT_TRUE(wait_until([&] { return upstream_->slow_arrived() == 1; }, kSoon)) << gate.log();

  hold("switch-2", now_unix_ms() + 60000);
  ASSERT_TRUE(log_shows_soon("write hold 'switch-2' started")) << gate.log();
  EXPECT_TRUE(log_has("1 write(s) at the upstream")) << gate.log();
  // The gate decides on the acknowledgement as it starts the hold: a wrong
  // one would be there by now; a moment more for good measure.
  EXPECT_FALSE(wait_until([&] { return fs::exists(gate.ack_file()); }, 500ms))
      << "acknowledged while a write was still at the upstream";
  // A write that arrives now waits, and does not count as at the upstream.
  auto waiting = send_async("POST", "/noop");
  LiftOnExit lift_on_exit{*this};
  ASSERT_TRUE(log_shows_soon("POST /noop: waits on the write hold")) << gate.log();
  EXPECT_FALSE(fs::exists(gate.ack_file()));

  const auto released_at = now_unix_ms();
  upstream_->release_slow();
  ASSERT_EQ(slow.wait_for(kSoon), std::future_status::ready);
  auto answered = slow.get();
  EXPECT_EQ(answered.status, 200) << answered.body << answered.error;
  ASSERT_TRUE(wait_until([&] { return fs::exists(gate.ack_file()); }, kSoon)) << gate.log();
  auto ack = json::parse(read_file(gate.ack_file()));
  EXPECT_EQ(ack["id"], "switch-2");
  EXPECT_GE(ack["since_unix_ms"].get<std::int64_t>(), released_at) << "drained before the upstream answered?";
  EXPECT_FALSE(ready(waiting)) << "the hold let a new write through";

  fs::remove(gate.hold_file());
  ASSERT_EQ(waiting.wait_for(kSoon), std::future_status::ready) << gate.log();
  EXPECT_EQ(waiting.get().status, 200);
  EXPECT_TRUE(wait_until([&] { return !fs::exists(gate.ack_file()); }, kSoon));
}

TEST_F(GateHoldTest, UntilPassingReleasesTheWriteWithTheFileStillThere) {
  auto& gate = start_gate();
  const auto until = now_unix_ms() + 2500;
  hold("switch-3", until);
  ASSERT_TRUE(log_shows_soon("write hold 'switch-3' started")) << gate.log();
  auto write = send_async("POST", "/noop");
  LiftOnExit lift_on_exit{*this};
  ASSERT_TRUE(log_shows_soon("POST /noop: waits on the write hold")) << gate.log();
  ASSERT_EQ(write.wait_for(kSoon), std::future_status::ready) << gate.log();
  EXPECT_GE(now_unix_ms(), until) << "released before until_unix_ms";
  EXPECT_EQ(write.get().status, 200);
  EXPECT_TRUE(fs::exists(gate.hold_file()));
  EXPECT_TRUE(log_has("write hold 'switch-3' ended: its until_unix_ms (" + std::to_string(until) +
                      ") passed; 1 write(s) waited"))
      << gate.log();
  EXPECT_TRUE(wait_until([&] { return !fs::exists(gate.ack_file()); }, kSoon));
  // The file stays; the hold does not come back.
  auto later = send(gate.port(), "POST", "/noop", "x");
  EXPECT_EQ(later.status, 200) << later.error;
  EXPECT_EQ(log_count("write hold 'switch-3' started"), 1u);
}

TEST_F(GateHoldTest, MaxMsEndsAHoldWhoseUntilIsFarAway) {
  GateSettings s;
  s.hold_max_ms = 1000;
  auto& gate = start_gate(s);
  hold("stuck-supervisor", now_unix_ms() + 3600 * 1000);
  ASSERT_TRUE(log_shows_soon("write hold 'stuck-supervisor' started")) << gate.log();
  auto write = send_async("POST", "/noop");
  LiftOnExit lift_on_exit{*this};
  ASSERT_EQ(write.wait_for(kSoon), std::future_status::ready) << gate.log();
  EXPECT_EQ(write.get().status, 200);
  EXPECT_TRUE(log_has("write hold 'stuck-supervisor' ended: hold.max_ms (1000 ms) passed since the gate first saw "
                      "it; 1 write(s) waited"))
      << gate.log();
  EXPECT_TRUE(fs::exists(gate.hold_file()));
  // Rewritten with the same id (the supervisor extending it): the cap counts
  // from the first sighting, so it holds nothing now.
  const auto extended = now_unix_ms() + 7200 * 1000;
  hold("stuck-supervisor", extended);
  ASSERT_TRUE(log_shows_soon("write hold: " + gate.hold_file() + " now: id 'stuck-supervisor' until_unix_ms " +
                             std::to_string(extended)))
      << gate.log();
  EXPECT_EQ(send(gate.port(), "POST", "/noop", "x").status, 200);
  EXPECT_EQ(log_count("write hold 'stuck-supervisor' started"), 1u) << gate.log();
}

TEST_F(GateHoldTest, AHoldFileThatDoesNotParseHoldsNothing) {
  auto& gate = start_gate();
  write_hold("{\"id\": \"half");
  ASSERT_TRUE(log_shows_soon("write hold: " + gate.hold_file() + ": not JSON: it counts as no hold")) << gate.log();
  auto write = send(gate.port(), "POST", "/noop", "x");
  EXPECT_EQ(write.status, 200) << write.error;
  EXPECT_FALSE(fs::exists(gate.ack_file()));

  // A hold in force, then garbage over it: the hold ends, the waiting write goes.
  hold("switch-4", now_unix_ms() + 60000);
  ASSERT_TRUE(log_shows_soon("write hold 'switch-4' started")) << gate.log();
  auto waiting = send_async("POST", "/noop");
  LiftOnExit lift_on_exit{*this};
  ASSERT_TRUE(log_shows_soon("POST /noop: waits on the write hold")) << gate.log();
  write_hold(json{{"id", std::string(65, 'x')}, {"until_unix_ms", now_unix_ms() + 60000}}.dump());
  ASSERT_EQ(waiting.wait_for(kSoon), std::future_status::ready) << gate.log();
  EXPECT_EQ(waiting.get().status, 200);
  EXPECT_TRUE(log_has("write hold 'switch-4' ended: the hold file does not parse (\"id\" has 65 characters"))
      << gate.log();
  // Logged once, however often it is read again.
  ASSERT_TRUE(wait_until([&] { return !fs::exists(gate.ack_file()); }, kSoon));
  EXPECT_EQ(send(gate.port(), "GET", "/ping").status, 200);
  EXPECT_EQ(log_count("\"id\" has 65 characters: must have 1..64: it counts as no hold"), 1u) << gate.log();
  EXPECT_TRUE(gate.process().running());
}

TEST_F(GateHoldTest, AHoldDirectoryMadeAfterTheStartIsWatched) {
  GateSettings s;
  s.hold_file = dir_ + "/supervisor-run/write-hold";  // as /run/ha-supervisor before the supervisor's first start
  auto& gate = start_gate(s);
  ASSERT_TRUE(log_shows_soon("write hold: cannot watch " + dir_ + "/supervisor-run")) << gate.log();
  fs::create_directory(dir_ + "/supervisor-run");
  ASSERT_TRUE(log_shows_soon("write hold: watching " + dir_ + "/supervisor-run now")) << gate.log();
  hold("switch-5", now_unix_ms() + 60000);
  ASSERT_TRUE(log_shows_soon("write hold 'switch-5' started")) << gate.log();
  auto write = send_async("POST", "/noop");
  LiftOnExit lift_on_exit{*this};
  ASSERT_TRUE(log_shows_soon("POST /noop: waits on the write hold")) << gate.log();
  fs::remove(gate.hold_file());
  ASSERT_EQ(write.wait_for(kSoon), std::future_status::ready) << gate.log();
  EXPECT_EQ(write.get().status, 200);
}

}  // namespace
}  // namespace hasup::testbed::gate
