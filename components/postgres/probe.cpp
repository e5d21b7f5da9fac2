#include "components/postgres/probe.hpp"

#include "components/postgres/host_list.hpp"
#include "supervisor/util/number_from.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hasup::db {

namespace {

using Clock = PgSession::Clock;

constexpr const char* kApplicationName = "ha-supervisor-probe";

constexpr const char* kWriteProbe =
    "INSERT INTO ha_supervisor.probe(node, at) VALUES ($1, now()) "
    "ON CONFLICT (node) DO UPDATE SET at = excluded.at";
constexpr const char* kCreateProbeTable =
    "CREATE SCHEMA IF NOT EXISTS ha_supervisor; "
    "CREATE TABLE IF NOT EXISTS ha_supervisor.probe(node text primary key, at timestamptz not null)";

// Read before the write, so the WAL position and timeline are known even when
// the write then hangs. pg_is_in_recovery() is evaluated once (a CTE with a
// volatile function is not inlined): a promotion between two calls cannot make
// pg_current_wal_lsn() run on a server in recovery.
//
// The last column counts write probes (ours or another node's) whose backend
// still waits for synchronous replication. A probe that timed out dropped its
// connection, but its backend keeps waiting (that wait looks at neither the
// client socket nor statement_timeout): writing again would only add one more
// stuck backend per probe until max_connections runs out. While one waits, the
// answer is known anyway: commits do not complete here.
constexpr const char* kEndpointRead =
    "WITH s AS (SELECT pg_is_in_recovery() AS rec) "
    "SELECT s.rec, "
    "  CASE WHEN NOT s.rec THEN pg_current_wal_lsn()::text END, "
    "  CASE WHEN NOT s.rec THEN pg_walfile_name(pg_current_wal_lsn()) END, "
    "  (SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND pid <> pg_backend_pid() "
    "     AND query LIKE '%ha_supervisor.probe%') "
    "FROM s";

// Timelines, the choice:
// - primary: the first 8 hex digits of pg_walfile_name(pg_current_wal_lsn()),
//   which PostgreSQL 15 forms from the timeline WAL is inserted on now. It is
//   right the moment a promotion ends. pg_control_checkpoint().timeline_id only
//   moves once the first checkpoint after the promotion is done (promotion asks
//   for it and does not wait), i.e. it still shows the old timeline just after
//   a failover, which is when the supervisor compares timelines.
// - replica: received_tli of the WAL receiver, the timeline it streams now.
//   Without a WAL receiver there is no live value: the control file's
//   checkpoint timeline on a standby is that of the last restartpoint and can
//   lag a followed timeline switch by a checkpoint_timeout, so it stays
//   unknown (streaming=false already says the replica follows nobody).
constexpr const char* kLocalRead =
    "WITH s AS (SELECT pg_is_in_recovery() AS rec) "
    "SELECT s.rec, "
    "  (CASE WHEN s.rec THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text, "
    "  CASE WHEN NOT s.rec THEN pg_walfile_name(pg_current_wal_lsn()) END, "
    "  w.pid IS NOT NULL, w.status, w.received_tli "
    "FROM s LEFT JOIN pg_stat_wal_receiver w ON true";

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// "000000020000000000000003" -> 2
std::optional<std::uint32_t> timeline_of_walfile(const std::optional<std::string>& name) {
  if (!name || name->size() != 24) return std::nullopt;
  return number_from<std::uint32_t>(std::string_view(*name).substr(0, 8), 16);
}

std::optional<std::string> cell(const PgReply& reply, std::size_t column) {
  if (reply.rows.empty() || reply.rows.front().size() <= column) return std::nullopt;
  return reply.rows.front()[column];
}

// libpq keeps collecting notices while a statement runs; the WARNINGs are what
// matter (a cancelled synchronous-replication wait says so only as a WARNING).
void collect_warnings(void* warnings, const PGresult* result) {
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (!severity || std::strcmp(severity, "WARNING") != 0) return;
  static_cast<std::vector<std::string>*>(warnings)->push_back(one_line(PQresultErrorMessage(result)));
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

std::string failure_text(const PgReply& reply, std::chrono::milliseconds timeout) {
  if (reply.status == PgReply::Status::timeout) {
    return "timed out after " + ms_text(timeout) + " (connection dropped, not cancelled)";
  }
  return reply.error;
}

}  // namespace

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto high_text = text.substr(0, slash);
  auto low_text = text.substr(slash + 1);
  if (high_text.size() > 8 || low_text.size() > 8) return std::nullopt;
  auto high = number_from<std::uint32_t>(high_text, 16);
  auto low = number_from<std::uint32_t>(low_text, 16);
  if (!high || !low) return std::nullopt;
  return (static_cast<std::uint64_t>(*high) << 32) | *low;
}

// ---------------------------------------------------------------------------

PgSession::~PgSession() { drop(); }

void PgSession::drop() {
  if (connection_) PQfinish(connection_);
  connection_ = nullptr;
}

std::string PgSession::server() const {
  if (!connection_) return {};
  std::string host = PQhost(connection_) ? PQhost(connection_) : "";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + (PQport(connection_) ? PQport(connection_) : "");
}

// libpq does not put passwords into its messages, as far as its sources show;
// this is the belt to those braces, should a message ever quote one.
std::string PgSession::scrub(std::string message) const {
  if (password_.size() < 3) return message;
  for (auto at = message.find(password_); at != std::string::npos; at = message.find(password_, at)) {
    message.replace(at, password_.size(), "***");
  }
  return message;
}

PgSession::Wait PgSession::wait_socket(bool for_read, bool for_write, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Wait::timeout;
    short events = static_cast<short>((for_read ? POLLIN : 0) | (for_write ? POLLOUT : 0));
    pollfd p{PQsocket(connection_), events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return Wait::ready;  // POLLERR/POLLHUP too: libpq finds out what happened
    if (r < 0 && errno != EINTR) return Wait::failed;
  }
}

std::string PgSession::connect(const std::string& conninfo, const std::string& default_application_name,
                               Clock::time_point deadline, std::chrono::milliseconds per_host_cap) {
  drop();
  password_.clear();
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    // libpq quotes the offending piece, which may be part of a password.
    if (parse_error) PQfreemem(parse_error);
    return "the conninfo does not parse (not shown: it may hold a password)";
  }
  for (auto* o = options; o->keyword; ++o)
    if (o->val && std::string(o->keyword) == "password") password_ = o->val;
  PQconninfoFree(options);
  // Host by host, each within its connect_timeout (components/postgres/host_list.hpp):
  // the non-blocking connect ignores connect_timeout, so a crashed first host
  // would otherwise hold the attempt until the deadline and hide the others.
  std::string split_error;
  auto attempts = split_hosts(conninfo, split_error);
  if (attempts.empty()) return scrub(split_error);
  const auto per_host = std::min(conninfo_connect_timeout(conninfo, std::chrono::milliseconds(2000)), per_host_cap);
  std::vector<std::pair<std::string, std::string>> extra;
  if (!default_application_name.empty()) extra.emplace_back("application_name", default_application_name);
  std::string errors;
  auto note = [&](const std::string& label, const std::string& why) {
    errors += (errors.empty() ? "" : "; ") + label + ": " + why;
  };
  for (const auto& attempt : attempts) {
    if (Clock::now() >= deadline) {
      note(attempt.label, "not tried (deadline)");
      continue;
    }
    connection_ = start_connect(attempt, extra);
    if (!connection_) return "out of memory";
    const auto started = Clock::now();
    const auto host_deadline = std::min(deadline, started + per_host);
    auto state = PQstatus(connection_) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
    std::string why;
    while (state != PGRES_POLLING_OK && state != PGRES_POLLING_FAILED) {
      auto waited = wait_socket(state == PGRES_POLLING_READING, state == PGRES_POLLING_WRITING, host_deadline);
      if (waited == Wait::timeout) {
        why = "timed out: no connection within " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(host_deadline - started).count()) + " ms";
        break;
      }
      if (waited == Wait::failed) {
        why = std::string("poll failed: ") + std::strerror(errno);
        break;
      }
      state = PQconnectPoll(connection_);
    }
    if (state == PGRES_POLLING_OK) break;
    if (why.empty()) why = one_line(PQerrorMessage(connection_));
    note(attempt.label, why);
    drop();
  }
  auto fail = [this](const std::string& message) {
    drop();
    return scrub(message);
  };
  if (!connection_) return scrub(errors);
  PQsetNoticeReceiver(connection_, collect_warnings, &warnings_);
  if (PQsetnonblocking(connection_, 1) != 0) return fail(one_line(PQerrorMessage(connection_)));
  conninfo_ = conninfo;
  return {};
}

PgReply PgSession::run(const std::string& sql, const std::vector<std::string>& params, Clock::time_point deadline) {
  PgReply reply;
  auto lost = [&](const std::string& message) {
    reply.status = PgReply::Status::lost;
    reply.error = scrub("connection lost: " + message);
    reply.rows.clear();
    reply.warnings = std::move(warnings_);
    drop();
    return reply;
  };
  auto timed_out = [&] {
    reply.status = PgReply::Status::timeout;
    reply.error = "no answer within the deadline (connection dropped, not cancelled)";
    reply.rows.clear();
    reply.warnings = std::move(warnings_);
    drop();  // never PQcancel: see probe.hpp
    return reply;
  };
  if (!connection_) return lost("not connected");
  warnings_.clear();

  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  int sent = params.empty() ? PQsendQuery(connection_, sql.c_str())
                            : PQsendQueryParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                values.data(), nullptr, nullptr, 0);
  if (!sent) return lost(one_line(PQerrorMessage(connection_)));
  // Non-blocking mode: what the socket did not take yet waits in libpq.
  while (true) {
    int flushed = PQflush(connection_);
    if (flushed == 0) break;
    if (flushed < 0) return lost(one_line(PQerrorMessage(connection_)));
    auto waited = wait_socket(true, true, deadline);
    if (waited == Wait::timeout) return timed_out();
    if (waited == Wait::failed || !PQconsumeInput(connection_)) return lost(one_line(PQerrorMessage(connection_)));
  }

  // Read to the end, i.e. until PQgetResult gives nullptr (ReadyForQuery), not
  // to the first result: with the extended protocol the server sends the
  // INSERT's CommandComplete at Execute and commits only at Sync, so the
  // commit's WARNING or ERROR, if any, comes after a PGRES_COMMAND_OK. (The
  // server usually holds CommandComplete back until ReadyForQuery, but any
  // notice flushes it; the protocol promises nothing either way.)
  while (true) {
    while (PQisBusy(connection_)) {
      auto waited = wait_socket(true, false, deadline);
      if (waited == Wait::timeout) return timed_out();
      if (waited == Wait::failed || !PQconsumeInput(connection_)) return lost(one_line(PQerrorMessage(connection_)));
    }
    PGresult* result = PQgetResult(connection_);
    if (!result) break;
    auto status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK) {
      reply.rows.clear();
      for (int r = 0; r < PQntuples(result); ++r) {
        std::vector<std::optional<std::string>> row;
        for (int c = 0; c < PQnfields(result); ++c) {
          if (PQgetisnull(result, r, c)) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(std::string(PQgetvalue(result, r, c), static_cast<std::size_t>(PQgetlength(result, r, c))));
          }
        }
        reply.rows.push_back(std::move(row));
      }
    } else if (status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY && reply.error.empty()) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      reply.sqlstate = state ? state : "";
      reply.error = scrub(one_line(PQresultErrorMessage(result)));
      if (reply.error.empty()) reply.error = std::string("unexpected result ") + PQresStatus(status);
      if (!reply.sqlstate.empty()) reply.error += " (SQLSTATE " + reply.sqlstate + ")";
    }
    PQclear(result);
  }
  if (PQstatus(connection_) != CONNECTION_OK) {
    std::string message = reply.error.empty() ? one_line(PQerrorMessage(connection_)) : reply.error;
    return lost(message);
  }
  reply.warnings = std::move(warnings_);
  warnings_.clear();
  if (!reply.error.empty()) {
    reply.status = PgReply::Status::error;
    reply.rows.clear();
  } else {
    reply.status = PgReply::Status::ok;
  }
  return reply;
}

// ---------------------------------------------------------------------------

namespace {

// One round of the endpoint probe on `session`, connecting it first unless it
// already is. `timed_out`: the round ended on its deadline.
EndpointProbe endpoint_round(const ProbeSettings& settings, PgSession& session, bool& timed_out) {
  EndpointProbe probe;
  timed_out = false;
  const auto started = Clock::now();
  auto deadline = started + settings.timeout;
  auto finish = [&](std::string error) {
    probe.error = std::move(error);
    probe.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return probe;
  };
  auto failed = [&](const std::string& step, const PgReply& reply) {
    timed_out = reply.status == PgReply::Status::timeout;
    return finish(step + ": " + failure_text(reply, settings.timeout));
  };
  if (settings.node_name.empty()) return finish("no node name for the write probe's row");

  if (!session.connected()) {
    // Each host of the list gets the probe's bound (at most its connect_timeout):
    // a crashed node early in the list costs local clients a connect timeout
    // too, but does not hide the primary behind it. The statements then get
    // the probe's bound again.
    std::string split_error;
    const auto hosts = std::max<std::size_t>(split_hosts(settings.endpoint_conninfo, split_error).size(), 1);
    const auto connect_deadline = started + settings.timeout * static_cast<long>(hosts);
    if (auto error = session.connect(settings.endpoint_conninfo, kApplicationName, connect_deadline, settings.timeout);
        !error.empty()) {
      timed_out = Clock::now() >= connect_deadline;
      return finish("connect: " + error);
    }
    deadline = Clock::now() + settings.timeout;
  }
  probe.connected = true;
  probe.server = session.server();

  // lock_timeout only ends the server's side of a write we have given up on
  // (say, behind an ACCESS EXCLUSIVE lock): twice the client's bound, so the
  // client's deadline always comes first, even on a loaded machine (with the
  // same bound the server's error won the race in a CI run). It cannot end a
  // synchronous-replication wait, and statement_timeout is left alone (it is
  // switched off before the commit anyway).
  auto read = session.run("SET lock_timeout = " + std::to_string(2 * settings.timeout.count()) + "; " + kEndpointRead,
                          {}, deadline);
  if (!read.ok()) return failed("read", read);
  if (cell(read, 0).value_or("") != "f") {
    return finish("the endpoint reached a server in recovery (" + probe.server + "), not a primary");
  }
  if (auto lsn = cell(read, 1)) probe.primary_wal = parse_lsn(*lsn);
  probe.timeline = timeline_of_walfile(cell(read, 2));
  auto stuck = number_from<long>(cell(read, 3).value_or("0")).value_or(0);
  if (stuck > 0) {
    return finish("write: " + std::to_string(stuck) +
                  " earlier write probe(s) still wait for synchronous replication on " + probe.server +
                  "; not adding another");
  }

  auto write = session.run(kWriteProbe, {settings.node_name}, deadline);
  if (write.status == PgReply::Status::error && (write.sqlstate == "42P01" || write.sqlstate == "3F000")) {
    auto created = session.run(kCreateProbeTable, {}, deadline);
    if (!created.ok()) return failed("write: cannot create ha_supervisor.probe", created);
    if (!created.warnings.empty()) return finish("write: creating ha_supervisor.probe: " + joined(created.warnings));
    write = session.run(kWriteProbe, {settings.node_name}, deadline);
  }
  if (!write.ok()) return failed("write", write);
  // A WARNING during the commit: above all "canceling wait for synchronous
  // replication" (someone cancelled or terminated our backend): committed
  // locally, on no standby. That is not a write local clients can rely on.
  if (!write.warnings.empty()) return finish("write: " + joined(write.warnings));
  probe.writable = true;
  return finish({});
}

LocalProbe local_round(const ProbeSettings& settings, PgSession& session, bool& timed_out) {
  LocalProbe probe;
  timed_out = false;
  const auto deadline = Clock::now() + settings.timeout;
  if (!session.connected()) {
    if (auto error = session.connect(settings.local_conninfo, kApplicationName, deadline); !error.empty()) {
      bool late = Clock::now() >= deadline;
      timed_out = late;
      probe.error = "connect: " + (late ? "timed out after " + ms_text(settings.timeout) + ": " : std::string()) + error;
      return probe;
    }
  }
  probe.connected = true;
  auto read = session.run(kLocalRead, {}, deadline);
  if (!read.ok()) {
    timed_out = read.status == PgReply::Status::timeout;
    probe.error = "read: " + failure_text(read, settings.timeout);
    return probe;
  }
  auto rec = cell(read, 0);
  if (!rec) {
    probe.error = "read: pg_is_in_recovery() returned nothing";
    return probe;
  }
  probe.in_recovery = *rec == "t";
  if (auto lsn = cell(read, 1)) probe.wal_position = parse_lsn(*lsn);
  if (!*probe.in_recovery) {
    probe.timeline = timeline_of_walfile(cell(read, 2));
    return probe;
  }
  bool has_receiver = cell(read, 3).value_or("f") == "t";
  auto status = cell(read, 4);
  if (!has_receiver) {
    probe.streaming = false;
  } else if (!status) {
    // PostgreSQL hides the receiver's details from roles without
    // pg_read_all_stats: we only know there is one.
    probe.error = "cannot see pg_stat_wal_receiver's status: the probe's role needs pg_monitor or pg_read_all_stats";
  } else {
    probe.streaming = *status == "streaming";
    if (auto tli = cell(read, 5)) probe.timeline = number_from<std::uint32_t>(*tli);
  }
  return probe;
}

}  // namespace

EndpointProbe probe_endpoint(const ProbeSettings& settings, PgSession& kept) {
  bool timed_out = false;
  if (kept.connected() && kept.conninfo() == settings.endpoint_conninfo) {
    EndpointProbe probe = endpoint_round(settings, kept, timed_out);
    if (probe.writable) return probe;
    kept.drop();
    // A kept connection may lead to a server that is no longer the primary
    // (libpq chose it by target_session_attrs when it connected), or have
    // been cut by a failover: a quick refusal is asked again on a fresh
    // connection, as an unkept probe would have. A timeout is not: a fresh
    // connection would wait as long again, and the next round connects anew.
    if (timed_out) return probe;
  }
  kept.drop();
  EndpointProbe probe = endpoint_round(settings, kept, timed_out);
  if (!probe.writable) kept.drop();
  return probe;
}

EndpointProbe probe_endpoint(const ProbeSettings& settings) {
  PgSession session;
  return probe_endpoint(settings, session);
}

LocalProbe probe_local(const ProbeSettings& settings, PgSession& kept) {
  bool timed_out = false;
  if (kept.connected() && kept.conninfo() == settings.local_conninfo) {
    LocalProbe probe = local_round(settings, kept, timed_out);
    if (probe.error.empty()) return probe;
    kept.drop();
    if (timed_out) return probe;  // as for the endpoint: the next round connects anew
  }
  kept.drop();
  LocalProbe probe = local_round(settings, kept, timed_out);
  if (!probe.error.empty()) kept.drop();
  return probe;
}

LocalProbe probe_local(const ProbeSettings& settings) {
  PgSession session;
  return probe_local(settings, session);
}

}  // namespace hasup::db
