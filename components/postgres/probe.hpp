#pragma once
// The supervisor's libpq probes of PostgreSQL: one through the endpoint local
// clients use (can it commit a write there, and where did it land?) and one of
// this node's own server (primary or replica, how far, which timeline, is it
// streaming?). Both are synchronous and meant for a worker thread, never the
// supervisor's loop: every step (connect, each statement) is bounded by one
// deadline. On the deadline the connection is dropped (PQfinish), never
// cancelled: cancelling a commit that waits for synchronous replication
// acknowledges it with a WARNING although no standby has it
// (docs/patroni-3.0.2-findings.md §3), and statement_timeout does not end such
// a wait.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/postgres/host_list.hpp"

struct pg_conn;  // libpq's PGconn

namespace hasup::db {

struct ProbeSettings {
  std::string endpoint_conninfo;  // what local clients use: libpq multi-host, target_session_attrs=read-write
  std::string local_conninfo;     // this node's own PostgreSQL
  std::string node_name;          // the write probe's row key
  std::chrono::milliseconds timeout{1000};  // per probe, whole (connect and every statement)
};

struct EndpointProbe {  // through the endpoint local clients use
  bool connected = false;
  bool writable = false;  // the write probe committed (ReadyForQuery seen) with no WARNING
  std::string server;     // "host:port" that answered (PQhost/PQport)
  std::optional<std::uint64_t> primary_wal;  // pg_current_wal_lsn() as bytes
  std::optional<std::uint32_t> timeline;     // of the primary
  std::chrono::milliseconds took{0};
  std::string error;  // one line, "" when fine
};

struct LocalProbe {  // this node's PostgreSQL
  bool connected = false;
  std::optional<bool> in_recovery;
  std::optional<std::uint64_t> wal_position;  // primary: pg_current_wal_lsn(); replica: pg_last_wal_replay_lsn()
  // primary: the WAL insert timeline, read from pg_walfile_name(pg_current_wal_lsn());
  // replica: received_tli of a running WAL receiver, else unknown. Why: see probe.cpp.
  std::optional<std::uint32_t> timeline;
  std::optional<bool> streaming;  // replica: a WAL receiver in state 'streaming'; unknown on a primary
  std::string error;              // one line, "" when fine
};

class PgSession;

// Each probe on a connection of its own, dropped at the end.
EndpointProbe probe_endpoint(const ProbeSettings& settings);
LocalProbe probe_local(const ProbeSettings& settings);
// The same on a connection kept from one round to the next (one thread at a
// time): a fresh connection costs the server a backend process and both
// sides a SCRAM exchange (4,096 HMAC-SHA-256 rounds each), which was a third
// of an idle supervisor's CPU (perf, 2026-12-03). Kept only after a round
// that succeeded; one on another conninfo is replaced; a quick failure on a
// kept connection (a demoted server, a cut connection) is asked again at once
// on a fresh one, so failures are seen as soon as without keeping.
EndpointProbe probe_endpoint(const ProbeSettings& settings, PgSession& kept);
LocalProbe probe_local(const ProbeSettings& settings, PgSession& kept);

// "0/3000060" -> 0x3000060; "16/B374D848" -> 0x16B374D848. nullopt on anything
// else (PostgreSQL's pg_lsn syntax: two parts of 1-8 hex digits).
std::optional<std::uint64_t> parse_lsn(std::string_view text);

// ---------------------------------------------------------------------------
// The deadline-bounded libpq session under the probes; bench/pg_write_stream
// uses it too, so it needs nothing but libpq and the standard library.


struct PgReply {
  enum class Status {
    ok,       // every statement ran and the server said ReadyForQuery
    error,    // the server refused it (sqlstate, error); the connection is still usable
    lost,     // the connection broke; outcome unknown; dropped
    timeout,  // no ReadyForQuery by the deadline; outcome unknown; dropped, not cancelled
  };
  Status status = Status::lost;
  std::vector<std::vector<std::optional<std::string>>> rows;  // of the last result with rows
  std::string sqlstate;               // of the first error
  std::string error;                  // one line, "" when ok
  std::vector<std::string> warnings;  // WARNINGs that arrived while it ran, one line each
  bool ok() const { return status == Status::ok; }
};

class PgSession {
 public:
  using Clock = std::chrono::steady_clock;
  PgSession() = default;
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Non-blocking connect bounded by `deadline`. application_name becomes
  // `default_application_name` when the conninfo names none. "" when
  // connected, else why not (one line, never the conninfo or its password).
  // Host names are resolved by libpq synchronously: give addresses (hostaddr)
  // where a slow resolver must not stretch the deadline.
  // Hosts are tried one by one, each for at most its connect_timeout (and at
  // most `per_host_cap`), as libpq's blocking connect does.
  std::string connect(const std::string& conninfo, const std::string& default_application_name,
                      Clock::time_point deadline,
                      std::chrono::milliseconds per_host_cap = std::chrono::milliseconds::max());
  // Runs `sql` (with params: one statement, extended protocol; without: the
  // simple protocol, so several statements separated by ';' are allowed) until
  // the server says ReadyForQuery or the deadline passes.
  PgReply run(const std::string& sql, const std::vector<std::string>& params, Clock::time_point deadline);
  // PQfinish: the socket closes; whatever the server still runs for us is
  // abandoned, never cancelled.
  void drop();
  bool connected() const { return connection_ != nullptr; }
  // What the current connection was made with ("" before the first).
  const std::string& conninfo() const { return conninfo_; }
  // "host:port" of the server this session is connected to ("[v6]:port").
  std::string server() const;

 private:
  enum class Wait { ready, timeout, failed };
  Wait wait_socket(bool for_read, bool for_write, Clock::time_point deadline);
  std::string scrub(std::string message) const;

  pg_conn* connection_ = nullptr;
  std::string conninfo_;
  std::string password_;               // only to scrub it out of messages
  std::vector<std::string> warnings_;  // of the statement that runs now
};

}  // namespace hasup::db
