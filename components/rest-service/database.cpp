#include "components/rest-service/database.hpp"

#include "components/postgres/host_list.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstring>

namespace hasup::rest_standin {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS standin_blueprints ("
    "  id text PRIMARY KEY,"
    "  sha256 text NOT NULL,"
    "  size bigint NOT NULL,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS standin_probe (id int PRIMARY KEY, at timestamptz NOT NULL);";

constexpr const char* kRowColumns =
    "id, sha256, size, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

// libpq's messages span lines: db::one_line makes one for logs and JSON.
std::string trimmed(const char* text) { return db::one_line(text ? text : ""); }

// NOTICEs ("relation ... already exists, skipping") are not worth a log line.
void ignore_notice(void*, const char*) {}

// Classes 08 (connection), 53 (resources), 57 (shutdown, statement timeout) and
// a read-only transaction all mean "no writable database right now".
bool unavailable_state(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("53", 0) == 0 || sqlstate.rfind("57", 0) == 0 ||
         sqlstate == "25006";
}

BlueprintRow to_row(const std::vector<std::optional<std::string>>& row) {
  BlueprintRow r;
  r.id = row.at(0).value_or("");
  r.sha256 = row.at(1).value_or("");
  r.size = std::stoll(row.at(2).value_or("0"));
  r.created_at = row.at(3).value_or("");
  return r;
}

}  // namespace

Database::Database(const DbSettings& settings, SharedDbState& shared) : settings_(settings), shared_(shared) {}

Database::~Database() { drop(); }

void Database::drop() {
  if (connection_) PQfinish(connection_);
  connection_ = nullptr;
}

bool Database::wait_socket(bool for_write, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{PQsocket(connection_), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

std::optional<DbError> Database::connect(Connect when) {
  const auto current = shared_.conninfo.current();
  bool others_connected_since = shared_.last_connected.load() > last_failed_connect_.time_since_epoch().count();
  // A reloaded conninfo is tried at once: the failure paused on may have been
  // the old password's.
  bool failed_with_this_conninfo = last_failed_generation_ == current.generation;
  if (when == Connect::after_pause && Clock::now() - last_failed_connect_ < settings_.reconnect_pause &&
      !others_connected_since && failed_with_this_conninfo) {
    return DbError{true, last_connect_error_, {}};
  }
  auto fail = [this, &current](std::string message) {
    drop();
    last_failed_connect_ = Clock::now();
    last_failed_generation_ = current.generation;
    last_connect_error_ = "database unreachable: " + message;
    return DbError{true, last_connect_error_, {}};
  };
  // Every host at once, bounded by connect_timeout (components/postgres/
  // host_list.hpp): the primary answers while a crashed host stays silent.
  std::string parse_error;
  auto attempts = db::split_hosts(current.conninfo, parse_error);
  if (attempts.empty()) return fail(parse_error);
  const auto per_host = db::conninfo_connect_timeout(current.conninfo, std::chrono::milliseconds(2000));
  drop();
  auto race = db::race_connect(attempts, per_host);
  if (!race.connection) return fail(race.errors);
  connection_ = race.connection;
  connection_generation_ = current.generation;
  PQsetNoticeProcessor(connection_, ignore_notice, nullptr);
  auto session = exec_on_connection("SET statement_timeout = " + std::to_string(settings_.statement_timeout.count()) +
                                        "; SET lock_timeout = " + std::to_string(settings_.lock_timeout.count()),
                                    {});
  if (session.error) return fail(session.error->message);
  shared_.last_connected = Clock::now().time_since_epoch().count();
  spdlog::info("database: connected ({} on port {}, user {})", PQhost(connection_), PQport(connection_),
               PQuser(connection_));
  return std::nullopt;
}

std::optional<DbError> Database::ensure_schema() {
  if (shared_.schema_ready) return std::nullopt;
  std::lock_guard lock(shared_.creating_schema);
  if (shared_.schema_ready) return std::nullopt;
  auto created = exec_on_connection(kSchema, {});
  if (created.error) {
    created.error->message = "cannot create the tables: " + created.error->message;
    return created.error;
  }
  spdlog::info("database: tables standin_blueprints and standin_probe are there");
  shared_.schema_ready = true;
  return std::nullopt;
}

Database::Rows Database::exec(const std::string& sql, const std::vector<std::string>& params, Connect when) {
  // A connection the server closed (restart, failover) says so in what it has
  // already received: read that without blocking, and start afresh, rather than
  // fail the call.
  if (connection_ && (!PQconsumeInput(connection_) || PQstatus(connection_) != CONNECTION_OK)) {
    spdlog::info("database: connection lost ({}), reconnecting", trimmed(PQerrorMessage(connection_)));
    drop();
  }
  // Made before a reload (a password rotation): closed here, between calls, so
  // that this call connects with the new conninfo and no session stays on
  // under the old role or password, which the rotation then retires.
  if (connection_ && connection_generation_ != shared_.conninfo.generation()) {
    spdlog::info("database: the connection string was reloaded, reconnecting with it");
    drop();
  }
  const bool fresh = !connection_;
  if (fresh) {
    if (auto error = connect(when)) return {{}, error};
  }
  if (auto error = ensure_schema()) return {{}, error};
  const bool reused = !fresh;
  auto result = exec_on_connection(sql, params);
  if (result.connection_lost && reused) {
    // The connection was dead before this call even if nothing said so yet
    // (the server's "terminating connection" queued without the close): once
    // more on a new one. Safe, as every statement here is idempotent (upserts
    // of the same values, deletes by id, reads), and bounded: not after a timeout.
    spdlog::info("database: connection lost ({}), reconnecting", result.error->message);
    if (auto error = connect(when)) return {{}, error};
    if (auto error = ensure_schema()) return {{}, error};
    result = exec_on_connection(sql, params);
  }
  if (result.error && result.error->sqlstate == "42P01") {
    shared_.schema_ready = false;  // a table dropped under us: create it again on the next call
  }
  return result;
}

Database::Rows Database::exec_on_connection(const std::string& sql, const std::vector<std::string>& params) {
  Rows out;
  // Every failure but a failed statement drops the connection.
  auto fail = [&](bool lost, std::string message) {
    out.rows.clear();
    if (!out.error) out.error = DbError{true, std::move(message), {}};
    out.error->unavailable = true;
    out.connection_lost = lost;
    drop();
    return out;
  };
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  int sent = params.empty() ? PQsendQuery(connection_, sql.c_str())
                            : PQsendQueryParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                values.data(), nullptr, nullptr, 0);
  if (!sent) return fail(true, "database unreachable: " + trimmed(PQerrorMessage(connection_)));
  auto deadline = Clock::now() + settings_.call_timeout;
  while (true) {
    while (PQisBusy(connection_)) {
      if (!wait_socket(false, deadline)) {
        return fail(false, "database did not answer within " + std::to_string(settings_.call_timeout.count()) + " ms");
      }
      if (!PQconsumeInput(connection_)) {
        return fail(true, "database unreachable: " + trimmed(PQerrorMessage(connection_)));
      }
    }
    PGresult* result = PQgetResult(connection_);
    if (!result) break;
    auto status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK) {
      out.rows.clear();
      for (int r = 0; r < PQntuples(result); ++r) {
        std::vector<std::optional<std::string>> row;
        for (int c = 0; c < PQnfields(result); ++c) {
          if (PQgetisnull(result, r, c)) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(
                std::string(PQgetvalue(result, r, c), static_cast<std::size_t>(PQgetlength(result, r, c))));
          }
        }
        out.rows.push_back(std::move(row));
      }
    } else if (status != PGRES_COMMAND_OK && !out.error) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      std::string sqlstate = state ? state : "";
      bool unavailable = unavailable_state(sqlstate) || PQstatus(connection_) != CONNECTION_OK;
      out.error =
          DbError{unavailable,
                  (unavailable ? "database unavailable: " : "database error: ") +
                      trimmed(PQresultErrorMessage(result)) + (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"),
                  sqlstate};
    }
    PQclear(result);
  }
  if (PQstatus(connection_) != CONNECTION_OK) {
    return fail(true, "database unreachable: " + trimmed(PQerrorMessage(connection_)));
  }
  if (out.error && out.error->unavailable) {
    // Shutdown (57P01-57P03) and connection (08) errors end the session too.
    const auto& state = out.error->sqlstate;
    bool lost = state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
    return fail(lost, {});
  }
  if (out.error) out.rows.clear();
  return out;
}

DbResult<std::optional<BlueprintRow>> Database::find(const std::string& id) {
  auto r = exec(std::string("SELECT ") + kRowColumns + " FROM standin_blueprints WHERE id = $1", {id});
  if (r.error) return {{}, r.error};
  if (r.rows.empty()) return {std::nullopt, std::nullopt};
  return {to_row(r.rows.front()), std::nullopt};
}

DbResult<BlueprintRow> Database::upsert(const std::string& id, const std::string& sha256, std::uint64_t size) {
  auto r = exec(std::string("INSERT INTO standin_blueprints (id, sha256, size, created_at) VALUES ($1, $2, $3, now()) "
                            "ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
                            "created_at = excluded.created_at RETURNING ") +
                    kRowColumns,
                {id, sha256, std::to_string(size)}, Connect::now);
  if (r.error) return {{}, r.error};
  if (r.rows.empty()) return {{}, DbError{false, "database error: the insert returned no row", {}}};
  return {to_row(r.rows.front()), std::nullopt};
}

DbResult<bool> Database::remove(const std::string& id) {
  auto r = exec("DELETE FROM standin_blueprints WHERE id = $1 RETURNING id", {id}, Connect::now);
  if (r.error) return {false, r.error};
  return {!r.rows.empty(), std::nullopt};
}

DbResult<bool> Database::in_recovery(Connect connect) {
  auto r = exec("SELECT pg_is_in_recovery()", {}, connect);
  if (r.error) return {false, r.error};
  if (r.rows.empty()) return {false, DbError{false, "database error: pg_is_in_recovery() returned nothing", {}}};
  return {r.rows.front().at(0).value_or("") == "t", std::nullopt};
}

DbResult<bool> Database::write_probe() {
  auto r = exec("INSERT INTO standin_probe (id, at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at");
  if (r.error) return {false, r.error};
  return {true, std::nullopt};
}

SharedConninfo::Current SharedConninfo::current() const {
  std::lock_guard lock(mutex_);
  return {conninfo_, generation_.load()};
}

std::uint64_t SharedConninfo::replace(std::string conninfo) {
  std::lock_guard lock(mutex_);
  conninfo_ = std::move(conninfo);
  return ++generation_;
}

Databases::Databases(std::string conninfo, DbSettings settings)
    : settings_(std::move(settings)), shared_(std::move(conninfo)) {}

std::uint64_t Databases::replace_conninfo(std::string conninfo) {
  return shared_.conninfo.replace(std::move(conninfo));
}

Database& Databases::for_this_thread() {
  std::lock_guard lock(mutex_);
  auto& slot = by_thread_[std::this_thread::get_id()];
  if (!slot) slot = std::make_unique<Database>(settings_, shared_);
  return *slot;
}

}  // namespace hasup::rest_standin
