// bench/pg_write_stream as a process against a real PostgreSQL 15: it keeps
// writing across a server restart and loses no acknowledged id; verify finds
// ids that are not there; a commit whose synchronous-replication wait was
// cancelled (acknowledged by PostgreSQL with a WARNING) is not logged as
// acknowledged; gaps reads outages from a log; bad arguments exit 2.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "tests/testbed/postgres_instance.hpp"
#include "tests/testbed/process.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

const std::string kTool = HA_PG_WRITE_STREAM_BIN;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Ack {
  long long id = 0;
  long long at_ms = 0;
  std::string server;
};

std::vector<Ack> read_acks(const std::string& path) {
  std::vector<Ack> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Ack a;
    if (fields >> a.id >> a.at_ms >> a.server) out.push_back(a);
  }
  return out;
}

// "... key VALUE ..." -> VALUE
std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    if (word == key && in >> word) return word;
  }
  return {};
}

long long number_field(const std::string& text, const std::string& key) {
  auto value = field(text, key);
  return value.empty() ? -1 : std::stoll(value);
}

class PgWriteStream : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PostgresInstance::unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    pg_ = std::make_unique<PostgresInstance>("pg-write-stream");
    pg_->start();
    log_ = pg_->dir() + "/acked.log";
    out_ = pg_->dir() + "/writer.out";
  }
  Process start_writer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {kTool, "write", "--conninfo", pg_->conninfo(), "--table", "stream",
                                     "--log", log_, "--interval-ms", "20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Process::spawn(argv, out_);
  }
  std::unique_ptr<PostgresInstance> pg_;
  std::string log_;
  std::string out_;
};

TEST_F(PgWriteStream, RestartLosesNoAcknowledgedWrite) {
  auto writer = start_writer({"--attempt-timeout-ms", "1000"});
  ASSERT_TRUE(wait_until([&] { return read_acks(log_).size() >= 20; }, 20s)) << read_file(out_);
  std::this_thread::sleep_for(1500ms);

  pg_->stop();
  const auto stopped = epoch_ms();  // the postmaster has exited: no ack after this
  std::this_thread::sleep_for(1s);
  const auto restarting = epoch_ms();  // nothing listens yet: no ack before this
  pg_->start();
  ASSERT_TRUE(wait_until(
      [&] {
        auto acks = read_acks(log_);
        return std::count_if(acks.begin(), acks.end(), [&](const Ack& a) { return a.at_ms > restarting; }) >= 20;
      },
      30s))
      << read_file(out_);

  writer.signal(SIGTERM);
  ASSERT_EQ(writer.wait(15s), 0) << read_file(out_);
  const auto output = read_file(out_);
  const auto acks = read_acks(log_);
  EXPECT_EQ(number_field(output, "acked"), static_cast<long long>(acks.size())) << output;
  EXPECT_GT(number_field(output, "errors"), 0) << output;
  for (std::size_t i = 1; i < acks.size(); ++i) ASSERT_GT(acks[i].id, acks[i - 1].id) << "ids are never reused";

  auto verify = run_command({kTool, "verify", "--conninfo", pg_->conninfo(), "--table", "stream", "--log", log_}, 60s);
  EXPECT_EQ(verify.status, 0) << verify.output;
  EXPECT_TRUE(contains(verify.output, "acked " + std::to_string(acks.size()) + " present " +
                                          std::to_string(acks.size()) + " lost 0"))
      << verify.output;

  const auto downtime = restarting - stopped;
  auto spanning = run_command({kTool, "gaps", "--log", log_, "--after-ms", std::to_string((stopped + restarting) / 2)});
  ASSERT_EQ(spanning.status, 0) << spanning.output;
  // The last ack came before the stop, the first after the restart began
  // (50 ms for the order in which the two processes read the clock).
  EXPECT_GE(number_field(spanning.output, "outage_ms"), downtime - 50) << spanning.output;
  EXPECT_LE(number_field(spanning.output, "last_before"), stopped + 50) << spanning.output;
  EXPECT_GE(number_field(spanning.output, "first_after"), restarting - 50) << spanning.output;
  const auto server = "127.0.0.1:" + std::to_string(pg_->port());
  EXPECT_EQ(field(spanning.output, "server_before"), server) << spanning.output;
  EXPECT_EQ(field(spanning.output, "server_after"), server) << spanning.output;
  RecordProperty("outage_ms", field(spanning.output, "outage_ms"));
  RecordProperty("downtime_ms", std::to_string(downtime));

  // Without --after-ms: the longest gap, which is that one.
  auto longest = run_command({kTool, "gaps", "--log", log_});
  ASSERT_EQ(longest.status, 0) << longest.output;
  EXPECT_EQ(field(longest.output, "first_after"), field(spanning.output, "first_after")) << longest.output;
}

TEST_F(PgWriteStream, VerifyReportsLostIds) {
  ASSERT_TRUE(pg_->query("CREATE TABLE stream (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now()); "
                         "INSERT INTO stream (id) VALUES (1), (2), (4); ALTER TABLE stream OWNER TO manager"));
  write_file(log_, "1 1700000000000 127.0.0.1:1\n2 1700000000020 127.0.0.1:1\n3 1700000000040 127.0.0.1:1\n"
                   "4 1700000000060 127.0.0.1:1\n5 1700000000080 127.0.0.1:1\n");
  auto verify = run_command({kTool, "verify", "--conninfo", pg_->conninfo(), "--table", "stream", "--log", log_}, 60s);
  EXPECT_EQ(verify.status, 1) << verify.output;
  EXPECT_TRUE(contains(verify.output, "acked 5 present 3 lost 2")) << verify.output;
  EXPECT_TRUE(contains(verify.output, "lost ids: 3 5")) << verify.output;
}

TEST_F(PgWriteStream, CancelledSyncReplicationWaitIsNotAcknowledged) {
  auto writer = start_writer({"--attempt-timeout-ms", "30000"});
  ASSERT_TRUE(wait_until([&] { return read_acks(log_).size() >= 10; }, 20s)) << read_file(out_);
  // Every commit now waits for a standby that does not exist.
  ASSERT_TRUE(pg_->query("ALTER SYSTEM SET synchronous_standby_names = 'nonexistent'"));
  ASSERT_TRUE(pg_->query("SELECT pg_reload_conf()"));
  const std::string waiting = "FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND application_name = 'pg_write_stream'";
  ASSERT_TRUE(wait_until([&] { return pg_->query("SELECT count(*) " + waiting) == "1"; }, 15s)) << read_file(out_);
  const auto acked_before = read_acks(log_).size();
  // Cancelled, PostgreSQL acknowledges the commit with a WARNING.
  EXPECT_EQ(pg_->query("SELECT pg_cancel_backend(pid) " + waiting), "t");
  ASSERT_TRUE(pg_->query("ALTER SYSTEM RESET synchronous_standby_names"));
  ASSERT_TRUE(pg_->query("SELECT pg_reload_conf()"));
  ASSERT_TRUE(wait_until([&] { return read_acks(log_).size() >= acked_before + 10; }, 20s)) << read_file(out_);

  writer.signal(SIGTERM);
  ASSERT_EQ(writer.wait(15s), 0) << read_file(out_);
  const auto output = read_file(out_);
  EXPECT_TRUE(contains(output, "canceling wait for synchronous replication")) << output;
  // The cancelled commit is in the table (it committed locally) and is the one
  // id there that the log does not have (no attempt timed out here).
  std::string logged = "0";
  for (const auto& a : read_acks(log_)) logged += "," + std::to_string(a.id);
  EXPECT_EQ(pg_->query("SELECT count(*) FROM stream WHERE id NOT IN (" + logged + ")"), "1")
      << "a commit acknowledged only with a WARNING was logged as acknowledged:\n" << output;
  auto verify = run_command({kTool, "verify", "--conninfo", pg_->conninfo(), "--table", "stream", "--log", log_}, 60s);
  EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST(PgWriteStreamTool, GapsFromLog) {
  auto dir = make_temp_dir("pg-write-stream-gaps");
  auto log = dir + "/acked.log";
  write_file(log,
             "1 1000 a:1\n2 1020 a:1\n3 1040 a:1\n4 5040 b:2\n5 5060 b:2\n6 5080 b:2\n7 5500 b:2\n8 5520 b:2\n9 55");
  auto longest = run_command({kTool, "gaps", "--log", log});
  EXPECT_EQ(longest.status, 0) << longest.output;  // the last line was cut short: skipped
  EXPECT_TRUE(contains(longest.output,
                       "outage_ms 4000 last_before 1040 first_after 5040 server_before a:1 server_after b:2"))
      << longest.output;
  auto spanning = run_command({kTool, "gaps", "--log", log, "--after-ms", "5100"});
  EXPECT_EQ(spanning.status, 0) << spanning.output;
  EXPECT_TRUE(contains(spanning.output, "outage_ms 420 last_before 5080 first_after 5500")) << spanning.output;
  EXPECT_EQ(run_command({kTool, "gaps", "--log", log, "--after-ms", "9000"}).status, 1);
  write_file(log, "1 1000 a:1\nbroken\n2 1020 a:1\n");
  EXPECT_EQ(run_command({kTool, "gaps", "--log", log}).status, 1);
  write_file(log, "1 1000 a:1\n");
  EXPECT_EQ(run_command({kTool, "gaps", "--log", log}).status, 1);
  remove_tree(dir);
}

TEST(PgWriteStreamTool, BadArgumentsExitTwo) {
  auto help = run_command({kTool, "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.output, "usage:")) << help.output;
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"nonsense"},
      {"write", "--table", "t", "--log", "/tmp/x"},
      {"write", "--conninfo", "host=127.0.0.1", "--log", "/tmp/x"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t; DROP TABLE x", "--log", "/tmp/x"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "a.b.c", "--log", "/tmp/x"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t", "--log", "/tmp/x", "--interval-ms", "-1"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t", "--log", "/tmp/x", "--duration-s", "0"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t", "--log", "/tmp/x", "--attempt-timeout-ms", "1s"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t", "--log", "/tmp/x", "--after-ms", "1"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t", "--log", "/tmp/x", "--interval-ms"},
      {"write", "--conninfo", "host=127.0.0.1", "--table", "t", "--log", "/tmp/x", "--log", "/tmp/y"},
      {"verify", "--conninfo", "host=127.0.0.1", "--log", "/tmp/x"},
      {"verify", "--conninfo", "host=127.0.0.1 nonsense", "--table", "t", "--log", "/tmp/x"},
      {"gaps"},
      {"gaps", "--log", "/tmp/x", "--after-ms", "soon"},
      {"gaps", "--log", "/tmp/x", "--table", "t"},
      {"gaps", "--log", "/tmp/x", "stray"},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {kTool};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.status, 2) << shown << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "pg_write_stream") || contains(r.output, "usage")) << r.output;
  }
}

}  // namespace
}  // namespace hasup::testbed
