// The supervisor's libpq probes (components/postgres/probe.hpp) against a real
// PostgreSQL 15: a writable primary; a stopped server and a server that never
// answers (both end within the deadline); a write blocked behind a table lock;
// a commit that waits for synchronous replication forever (a timeout, never a
// success, and the waiting backend is left alone, not cancelled); a cancelled
// wait (acknowledged with a WARNING: no success either); and a streaming
// replica: its own probe, the multi-host endpoint that skips it, a promotion.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <thread>

#include "components/postgres/probe.hpp"
#include "tests/testbed/postgres_instance.hpp"
#include "tests/testbed/postgres_replica.hpp"
#include "tests/testbed/process.hpp"
#include "tests/testbed/silent_listener.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using db::EndpointProbe;
using db::LocalProbe;
using db::ProbeSettings;

// Generous: a loaded CI machine must not fail these; they only catch a probe
// that ignores its deadline (libpq's own waits are seconds to minutes).
constexpr auto kMargin = 3s;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

ProbeSettings settings_for(const std::string& conninfo, std::chrono::milliseconds timeout = 1000ms) {
  ProbeSettings s;
  s.endpoint_conninfo = conninfo;
  s.local_conninfo = conninfo;
  s.node_name = "node-a";
  s.timeout = timeout;
  return s;
}

std::string describe(const EndpointProbe& p) {
  return "connected=" + std::to_string(p.connected) + " writable=" + std::to_string(p.writable) + " server=" +
         p.server + " took=" + std::to_string(p.took.count()) + "ms error=" + p.error;
}

std::string describe(const LocalProbe& p) {
  auto opt = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
  return "connected=" + std::to_string(p.connected) + " in_recovery=" + opt(p.in_recovery) + " wal=" +
         opt(p.wal_position) + " timeline=" + opt(p.timeline) + " streaming=" + opt(p.streaming) + " error=" + p.error;
}

// Backends of write probes that wait for synchronous replication now.
int sync_rep_waiters(PostgresInstance& pg) {
  auto n = pg.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' "
                    "AND application_name = 'ha-supervisor-probe'");
  return n ? std::stoi(*n) : -1;
}

void set_sync_standby_names(PostgresInstance& pg, const std::string& names) {
  // ALTER SYSTEM may not run in psql -c's implicit transaction with another statement.
  ASSERT_TRUE(pg.query("ALTER SYSTEM SET synchronous_standby_names = '" + names + "'"));
  ASSERT_TRUE(pg.query("SELECT pg_reload_conf()"));
  ASSERT_TRUE(wait_until([&] { return pg.query("SHOW synchronous_standby_names").value_or("?") == names; }, 10s));
}

class DbProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PostgresInstance::unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    pg_ = std::make_unique<PostgresInstance>("db-probe");
    pg_->start();
  }
  std::unique_ptr<PostgresInstance> pg_;
};

TEST_F(DbProbe, WritablePrimary) {
  auto s = settings_for(pg_->conninfo());
  // The first probe finds no table (42P01), creates it and writes.
  auto first = db::probe_endpoint(s);
  EXPECT_TRUE(first.connected) << describe(first);
  EXPECT_TRUE(first.writable) << describe(first);
  EXPECT_EQ(first.error, "");
  EXPECT_EQ(first.server, "127.0.0.1:" + std::to_string(pg_->port()));
  ASSERT_TRUE(first.primary_wal) << describe(first);
  EXPECT_GT(*first.primary_wal, 0u);
  EXPECT_EQ(first.timeline, 1u);
  EXPECT_LE(first.took, s.timeout + kMargin);
  auto at_first = pg_->query("SELECT at FROM ha_supervisor.probe WHERE node = 'node-a'");
  ASSERT_TRUE(at_first && !at_first->empty()) << pg_->log();

  // The next one upserts the same row; the WAL has moved on meanwhile.
  auto second = db::probe_endpoint(s);
  EXPECT_TRUE(second.writable) << describe(second);
  ASSERT_TRUE(second.primary_wal);
  EXPECT_GT(*second.primary_wal, *first.primary_wal);
  EXPECT_EQ(pg_->query("SELECT count(*) FROM ha_supervisor.probe"), "1");
  EXPECT_EQ(pg_->query("SELECT at > '" + *at_first + "' FROM ha_supervisor.probe WHERE node = 'node-a'"), "t");
  auto now_lsn = db::parse_lsn(pg_->query("SELECT pg_current_wal_lsn()").value_or(""));
  ASSERT_TRUE(now_lsn);
  EXPECT_LE(*second.primary_wal, *now_lsn);

  auto local = db::probe_local(s);
  EXPECT_TRUE(local.connected) << describe(local);
  EXPECT_EQ(local.in_recovery, false) << describe(local);
  EXPECT_EQ(local.timeline, 1u) << describe(local);
  EXPECT_EQ(local.streaming, std::nullopt) << describe(local);
  ASSERT_TRUE(local.wal_position) << describe(local);
  EXPECT_GE(*local.wal_position, *second.primary_wal);
  EXPECT_EQ(local.error, "");
}

// The supervisor's probes keep their connections: one backend serves round
// after round; a backend that goes away (terminated, as a failover or a
// restart would) costs no failed round: the quick failure is asked again on
// a fresh connection at once.
TEST_F(DbProbe, KeptConnectionServesEveryRoundAndALostOneIsReplacedAtOnce) {
  auto s = settings_for(pg_->conninfo());
  db::PgSession endpoint_session, local_session;
  auto probe_backends = [&] {
    return pg_->query("SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
                      "WHERE application_name = 'ha-supervisor-probe'").value_or("?");
  };
  for (int round = 0; round < 3; ++round) {
    auto endpoint = db::probe_endpoint(s, endpoint_session);
    ASSERT_TRUE(endpoint.writable) << describe(endpoint);
    auto local = db::probe_local(s, local_session);
    ASSERT_EQ(local.error, "") << describe(local);
  }
  ASSERT_TRUE(endpoint_session.connected());
  ASSERT_TRUE(local_session.connected());
  const std::string before = probe_backends();
  EXPECT_EQ(std::count(before.begin(), before.end(), ','), 1) << "two kept connections, no more: " << before;

  ASSERT_TRUE(pg_->query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE application_name = 'ha-supervisor-probe'"));
  auto endpoint = db::probe_endpoint(s, endpoint_session);
  EXPECT_TRUE(endpoint.writable) << describe(endpoint);
  auto local = db::probe_local(s, local_session);
  EXPECT_EQ(local.error, "") << describe(local);
  const std::string after = probe_backends();
  EXPECT_NE(after, before) << "fresh connections after the old ones were terminated";

  // Another conninfo (the registered hosts changed): a new connection.
  auto other = settings_for(pg_->conninfo() + " connect_timeout=2");
  auto moved = db::probe_endpoint(other, endpoint_session);
  EXPECT_TRUE(moved.writable) << describe(moved);
  EXPECT_EQ(endpoint_session.conninfo(), other.endpoint_conninfo);
}

// A kept connection to a server that stopped: the round fails within its
// bound, and the connection is not kept.
TEST_F(DbProbe, KeptConnectionToAStoppedServerFailsWithinTheTimeout) {
  auto s = settings_for(pg_->conninfo());
  db::PgSession session;
  ASSERT_TRUE(db::probe_endpoint(s, session).writable);
  pg_->stop();
  auto start = Clock::now();
  auto endpoint = db::probe_endpoint(s, session);
  EXPECT_FALSE(endpoint.writable) << describe(endpoint);
  EXPECT_LE(since(start), s.timeout * 2 + kMargin);
  EXPECT_FALSE(session.connected());
}

TEST_F(DbProbe, StoppedServerFailsToConnectWithinTimeout) {
  pg_->stop();
  auto s = settings_for(pg_->conninfo());
  auto start = Clock::now();
  auto endpoint = db::probe_endpoint(s);
  auto took = since(start);
  EXPECT_FALSE(endpoint.connected) << describe(endpoint);
  EXPECT_FALSE(endpoint.writable);
  EXPECT_TRUE(contains(endpoint.error, "connect:")) << endpoint.error;
  EXPECT_EQ(endpoint.error.find('\n'), std::string::npos) << endpoint.error;
  EXPECT_LE(took, s.timeout + kMargin);
  RecordProperty("endpoint_probe_ms", std::to_string(took.count()));

  start = Clock::now();
  auto local = db::probe_local(s);
  took = since(start);
  EXPECT_FALSE(local.connected) << describe(local);
  EXPECT_EQ(local.in_recovery, std::nullopt);
  EXPECT_TRUE(contains(local.error, "connect:")) << local.error;
  EXPECT_LE(took, s.timeout + kMargin);
}

// Accepts TCP connections (the kernel does, from the backlog) and never says a
// word: libpq waits for the server's answer to its startup packet.
TEST(DbProbeSilent, SilentServerTimesOutConnect) {
  testbed::SilentListener silent;
  auto conninfo = "host=127.0.0.1 port=" + std::to_string(silent.port()) +
                  " dbname=manager user=manager connect_timeout=30 sslmode=disable password=s3cr3t-word";
  auto s = settings_for(conninfo, 700ms);

  auto start = Clock::now();
  auto endpoint = db::probe_endpoint(s);
  auto took = since(start);
  EXPECT_FALSE(endpoint.connected) << describe(endpoint);
  EXPECT_TRUE(contains(endpoint.error, "timed out")) << endpoint.error;
  EXPECT_FALSE(contains(endpoint.error, "s3cr3t")) << endpoint.error;
  EXPECT_GE(took, 600ms);  // it did wait for the server, not give up at once
  EXPECT_LE(took, s.timeout + kMargin);

  start = Clock::now();
  auto local = db::probe_local(s);
  EXPECT_FALSE(local.connected);
  EXPECT_TRUE(contains(local.error, "timed out")) << local.error;
  EXPECT_LE(since(start), s.timeout + kMargin);
}

// A crashed node early in the multi-host list (packets swallowed, as when its
// link is down) must not hide the primary behind it: the non-blocking connect
// ignores connect_timeout, so the probe tries host by host, each bounded.
TEST_F(DbProbe, ASilentFirstHostDoesNotHideTheServerBehindIt) {
  testbed::SilentListener silent;
  auto conninfo = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(silent.port()) + "," +
                  std::to_string(pg_->port()) +
                  " dbname=manager user=manager connect_timeout=1 target_session_attrs=read-write";
  auto s = settings_for(conninfo, 700ms);
  auto endpoint = db::probe_endpoint(s);
  EXPECT_TRUE(endpoint.writable) << describe(endpoint);
  EXPECT_EQ(endpoint.server, "127.0.0.1:" + std::to_string(pg_->port()));
}

TEST(DbProbeSilent, BadConninfoIsNotEchoed) {
  auto s = settings_for("host=127.0.0.1 password=two words");  // "words" is not key=value
  auto endpoint = db::probe_endpoint(s);
  EXPECT_FALSE(endpoint.connected);
  EXPECT_FALSE(endpoint.error.empty());
  EXPECT_FALSE(contains(endpoint.error, "words")) << endpoint.error;
  EXPECT_FALSE(contains(endpoint.error, "two")) << endpoint.error;
}

TEST_F(DbProbe, LockedTableTimesOutWrite) {
  auto s = settings_for(pg_->conninfo());
  ASSERT_TRUE(db::probe_endpoint(s).writable);  // the table exists now

  // A psql session holds ACCESS EXCLUSIVE on the probe table for a minute.
  Process holder = Process::spawn(
      {PostgresInstance::bin_dir() + "/psql", "-X", "-h", "127.0.0.1", "-p", std::to_string(pg_->port()), "-U",
       "postgres", "-d", "dbname=manager application_name=hasup-lock-holder", "-c",
       "BEGIN; LOCK TABLE ha_supervisor.probe IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)"},
      pg_->dir() + "/lock-holder.log");
  ASSERT_TRUE(wait_until(
      [&] {
        return pg_->query("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                          "WHERE c.relname = 'probe' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1";
      },
      15s));

  auto start = Clock::now();
  auto blocked = db::probe_endpoint(s);
  auto took = since(start);
  EXPECT_TRUE(blocked.connected) << describe(blocked);
  EXPECT_FALSE(blocked.writable) << describe(blocked);
  EXPECT_TRUE(contains(blocked.error, "write: timed out")) << blocked.error;
  EXPECT_TRUE(blocked.primary_wal) << "read before the write";
  EXPECT_LE(took, s.timeout + kMargin);

  // Once the lock is gone, the probe writes again.
  EXPECT_EQ(pg_->query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = 'hasup-lock-holder'"),
            "t");
  holder.wait(10s);
  EXPECT_TRUE(wait_until([&] { return db::probe_endpoint(s).writable; }, 15s, 200ms));
}

TEST_F(DbProbe, SyncReplicationWaitTimesOutAndIsNotCancelled) {
  auto s = settings_for(pg_->conninfo());
  ASSERT_TRUE(db::probe_endpoint(s).writable);
  // No standby will ever have this name: every commit waits forever.
  set_sync_standby_names(*pg_, "nonexistent");

  auto start = Clock::now();
  auto stuck = db::probe_endpoint(s);
  auto took = since(start);
  EXPECT_TRUE(stuck.connected) << describe(stuck);
  EXPECT_FALSE(stuck.writable) << describe(stuck);
  EXPECT_TRUE(contains(stuck.error, "write: timed out")) << stuck.error;
  EXPECT_TRUE(stuck.primary_wal);
  EXPECT_EQ(stuck.timeline, 1u);
  EXPECT_LE(took, s.timeout + kMargin);
  // The probe dropped its connection and did not cancel: its backend still
  // waits (a cancel would have ended the wait, committed with a WARNING).
  EXPECT_EQ(sync_rep_waiters(*pg_), 1);

  // The next probe sees that wait and adds no second stuck backend.
  auto again = db::probe_endpoint(s);
  EXPECT_FALSE(again.writable) << describe(again);
  EXPECT_TRUE(contains(again.error, "still wait for synchronous replication")) << again.error;
  EXPECT_EQ(sync_rep_waiters(*pg_), 1);

  // Without the requirement the waiting commit completes, and probes succeed.
  set_sync_standby_names(*pg_, "");
  EXPECT_TRUE(wait_until([&] { return sync_rep_waiters(*pg_) == 0; }, 10s));
  auto healed = db::probe_endpoint(s);
  EXPECT_TRUE(healed.writable) << describe(healed);
}

TEST_F(DbProbe, CancelledSyncReplicationWaitIsNoSuccess) {
  auto s = settings_for(pg_->conninfo(), 30s);
  ASSERT_TRUE(db::probe_endpoint(s).writable);
  auto before = pg_->query("SELECT at FROM ha_supervisor.probe WHERE node = 'node-a'");
  ASSERT_TRUE(before);
  set_sync_standby_names(*pg_, "nonexistent");

  auto pending = std::async(std::launch::async, [&] { return db::probe_endpoint(s); });
  ASSERT_TRUE(wait_until([&] { return sync_rep_waiters(*pg_) == 1; }, 15s));
  // Someone else (an operator, a tool) cancels the waiting commit: PostgreSQL
  // acknowledges it with "WARNING: canceling wait for synchronous replication".
  EXPECT_EQ(pg_->query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep' "
                       "AND application_name = 'ha-supervisor-probe'"),
            "t");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  auto cancelled = pending.get();
  EXPECT_TRUE(cancelled.connected) << describe(cancelled);
  EXPECT_FALSE(cancelled.writable) << describe(cancelled);
  EXPECT_TRUE(contains(cancelled.error, "canceling wait for synchronous replication")) << cancelled.error;
  EXPECT_EQ(cancelled.error.find('\n'), std::string::npos);
  // ... although the row did commit locally.
  EXPECT_EQ(pg_->query("SELECT at > '" + *before + "' FROM ha_supervisor.probe WHERE node = 'node-a'"), "t");
  set_sync_standby_names(*pg_, "");
}

TEST_F(DbProbe, StreamingReplica) {
  if (access((PostgresInstance::bin_dir() + "/pg_basebackup").c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no pg_basebackup";
  }
  ASSERT_TRUE(db::probe_endpoint(settings_for(pg_->conninfo())).writable);
  PostgresReplica replica(*pg_);
  replica.start();
  ASSERT_TRUE(replica.wait_streaming(30s)) << replica.log();

  // Role manager may not see the WAL receiver's details yet: known unknown.
  auto hidden = db::probe_local(settings_for(replica.conninfo()));
  EXPECT_TRUE(hidden.connected) << describe(hidden);
  EXPECT_EQ(hidden.in_recovery, true) << describe(hidden);
  EXPECT_EQ(hidden.streaming, std::nullopt) << describe(hidden);
  EXPECT_TRUE(contains(hidden.error, "pg_monitor")) << hidden.error;

  ASSERT_TRUE(pg_->query("GRANT pg_monitor TO manager"));  // replicates to the standby
  LocalProbe local;
  ASSERT_TRUE(wait_until(
      [&] {
        local = db::probe_local(settings_for(replica.conninfo()));
        return local.streaming == true;
      },
      15s, 100ms))
      << describe(local);
  EXPECT_EQ(local.in_recovery, true);
  EXPECT_EQ(local.timeline, 1u);
  EXPECT_EQ(local.error, "");
  ASSERT_TRUE(local.wal_position) << describe(local);
  auto primary_local = db::probe_local(settings_for(pg_->conninfo()));
  ASSERT_TRUE(primary_local.wal_position);
  EXPECT_LE(*local.wal_position, *primary_local.wal_position);

  // The endpoint local clients use, replica listed first: libpq skips it.
  auto endpoint_conninfo = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(replica.port()) + "," +
                           std::to_string(pg_->port()) +
                           " dbname=manager user=manager target_session_attrs=read-write connect_timeout=2";
  auto endpoint = db::probe_endpoint(settings_for(endpoint_conninfo));
  EXPECT_TRUE(endpoint.writable) << describe(endpoint);
  EXPECT_EQ(endpoint.server, "127.0.0.1:" + std::to_string(pg_->port()));
  EXPECT_EQ(endpoint.timeline, 1u);
  // And an endpoint that leads to the replica alone is no writable primary.
  auto to_replica = db::probe_endpoint(settings_for(replica.conninfo()));
  EXPECT_TRUE(to_replica.connected) << describe(to_replica);
  EXPECT_FALSE(to_replica.writable);
  EXPECT_TRUE(contains(to_replica.error, "in recovery")) << to_replica.error;

  // Promoted, the replica reports the new timeline at once (no checkpoint needed).
  ASSERT_EQ(replica.query("SELECT pg_promote(true, 30)"), "t") << replica.log();
  auto promoted = db::probe_local(settings_for(replica.conninfo()));
  EXPECT_EQ(promoted.in_recovery, false) << describe(promoted);
  EXPECT_EQ(promoted.timeline, 2u) << describe(promoted);
  RecordProperty("checkpoint_timeline_right_after_promotion",
                 replica.query("SELECT timeline_id FROM pg_control_checkpoint()").value_or("?"));
}

}  // namespace
}  // namespace hasup::testbed
