#pragma once
// PostgreSQL through libpq, with a bound on every call. libpq is blocking, so
// each request thread owns one connection (Databases::for_this_thread) and
// nothing here is shared between threads but SharedDbState: the "schema is
// there" flag, when a connection last got through, and the connection string,
// which a reload replaces (SIGHUP, after a password rotation rewrote --db-file).
//
// Bounds: connecting starts one attempt per host of the conninfo at once and
// keeps the first that completes (db::race_connect: the primary, with
// target_session_attrs=read-write), polled against a deadline (connect_timeout
// from the conninfo, 2 s if absent: PQconnectPoll ignores it on its own); every query is sent and then polled against call_timeout, so a
// server that stops answering (killed, cut off) costs at most that long; the
// session's statement_timeout and lock_timeout stop the server side as well.
// Host names are resolved by PQconnectStart itself, outside the deadline: give
// addresses (hostaddr= or host=IP), as the install script's examples do.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hasup::rest_standin {

struct DbSettings {
  std::chrono::milliseconds call_timeout{3000};
  std::chrono::milliseconds statement_timeout{2000};
  std::chrono::milliseconds lock_timeout{1000};
  // After a failed connect, calls fail at once for this long instead of each
  // waiting out connect_timeout against a database that is not there (unless
  // another thread has connected since); writes connect anyway (Database::Connect).
  std::chrono::milliseconds reconnect_pause{300};
};

struct BlueprintRow {
  std::string id;
  std::string sha256;
  std::int64_t size = 0;
  std::string created_at;  // ISO 8601, UTC
};

struct DbError {
  bool unavailable = false;  // no writable database now (503), rather than a failed statement (500)
  std::string message;
  std::string sqlstate;  // when the server gave one
};

template <class T>
struct DbResult {
  T value{};
  std::optional<DbError> error;
  bool ok() const { return !error; }
};

// The connection string every connection is made with, replaced whole at a
// reload. Its generation counts the replacements, so that a connection made
// with an older one can tell, and a reader never gets the new string with the
// old generation.
class SharedConninfo {
 public:
  struct Current {
    std::string conninfo;
    std::uint64_t generation = 0;
  };
  explicit SharedConninfo(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  Current current() const;
  // Without the lock: it is compared before every call.
  std::uint64_t generation() const { return generation_.load(); }
  std::uint64_t replace(std::string conninfo);  // the new generation

 private:
  mutable std::mutex mutex_;
  std::string conninfo_;
  std::atomic<std::uint64_t> generation_{1};
};

// Shared by all connections: the tables are created once per process, by the
// first connection that reaches a database; when one connection gets through,
// the others stop pausing between attempts; and all connect with one conninfo.
struct SharedDbState {
  explicit SharedDbState(std::string conninfo) : conninfo(std::move(conninfo)) {}
  SharedConninfo conninfo;
  std::atomic<bool> schema_ready{false};
  std::mutex creating_schema;
  std::atomic<std::chrono::steady_clock::rep> last_connected{0};
};

class Database {
 public:
  Database(const DbSettings& settings, SharedDbState& shared);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A write (and the check an upload starts with) connects now even within
  // the reconnect pause: a write the upload gate held through a switchover
  // arrives just after the database changed primary, and the failure a health
  // check met a moment before must not answer it (lab_switchover: 8 of 600
  // uploads answered 503 with such a failure, 2026-12-06).
  enum class Connect { after_pause, now };
  DbResult<std::optional<BlueprintRow>> find(const std::string& id);
  DbResult<BlueprintRow> upsert(const std::string& id, const std::string& sha256, std::uint64_t size);
  DbResult<bool> remove(const std::string& id);  // true when a row was deleted
  DbResult<bool> in_recovery(Connect connect = Connect::after_pause);  // true on a standby
  DbResult<bool> write_probe();                  // a small committed write

 private:
  struct Rows {
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::optional<DbError> error;
    bool connection_lost = false;  // the connection broke (not a timeout): it was dropped
  };
  Rows exec(const std::string& sql, const std::vector<std::string>& params = {}, Connect connect = Connect::after_pause);
  Rows exec_on_connection(const std::string& sql, const std::vector<std::string>& params);
  std::optional<DbError> connect(Connect when = Connect::after_pause);
  std::optional<DbError> ensure_schema();
  bool wait_socket(bool for_write, std::chrono::steady_clock::time_point deadline);
  void drop();

  const DbSettings& settings_;
  SharedDbState& shared_;
  PGconn* connection_ = nullptr;
  std::uint64_t connection_generation_ = 0;  // of the conninfo connection_ was made with
  std::chrono::steady_clock::time_point last_failed_connect_{};
  std::uint64_t last_failed_generation_ = 0;
  std::string last_connect_error_;
};

// One Database per request thread, created on first use.
class Databases {
 public:
  Databases(std::string conninfo, DbSettings settings);
  Database& for_this_thread();
  // Connections are made with `conninfo` from now on; each open one is closed
  // before its next call (never during one). Gives the new generation.
  std::uint64_t replace_conninfo(std::string conninfo);

 private:
  DbSettings settings_;
  SharedDbState shared_;
  std::mutex mutex_;
  std::map<std::thread::id, std::unique_ptr<Database>> by_thread_;
};

}  // namespace hasup::rest_standin
