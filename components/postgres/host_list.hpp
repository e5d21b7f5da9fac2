#pragma once
// libpq's multi-host conninfo (host=a,b,c port=p,q,r) tried one host at a time.
// libpq applies connect_timeout to each host only in its blocking connect; the
// non-blocking PQconnectPoll our deadline-bounded code uses ignores it, so a
// first host that is down (a crashed node: SYNs unanswered, no RST) holds the
// whole attempt until the deadline and the hosts after it are never tried.
// Connecting host by host with a deadline each restores libpq's semantics.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pg_conn;  // libpq's PGconn

namespace hasup::db {

// libpq's messages end in a newline and may span lines ("...failed: Connection
// refused\n\tIs the server running..."): one line, runs of blanks folded.
std::string one_line(std::string_view text);

// One single-host conninfo, as keyword/value pairs for PQconnectStartParams.
struct HostAttempt {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  std::string label;  // "host:port", for messages
};

// One attempt per host, in order, each with every other keyword of the
// conninfo (target_session_attrs included, so a read-only host is refused by
// libpq itself). Empty when the conninfo does not parse; `error` says why
// (never the conninfo itself: it may hold a password).
std::vector<HostAttempt> split_hosts(const std::string& conninfo, std::string& error);

// connect_timeout of a conninfo (seconds in libpq; it bounds each host), else
// `fallback` (also for 0, libpq's "wait forever", and a conninfo that does not parse).
std::chrono::milliseconds conninfo_connect_timeout(const std::string& conninfo, std::chrono::milliseconds fallback);

// PQconnectStartParams for one host (expand_dbname 0: the conninfo was
// expanded by split_hosts); `extra` keyword/value pairs are added when the
// attempt does not name them (application_name).
pg_conn* start_connect(const HostAttempt& attempt,
                       const std::vector<std::pair<std::string, std::string>>& extra = {});

// One connection attempt per host, all started at once; the first to complete
// wins and the others are closed. With target_session_attrs=read-write only the
// primary completes (libpq itself refuses a replica), so the answer never
// waits on a host that is down: a crashed node in the list costs nothing, where
// trying the hosts in turn costs its whole timeout on every new connection.
struct RaceResult {
  pg_conn* connection = nullptr;  // the caller's to PQfinish; nullptr when every attempt failed
  std::size_t host = 0;           // index of the winner in the attempts
  std::string errors;             // "host:port: why; ..." of the attempts that failed (never the conninfo)
};
RaceResult race_connect(const std::vector<HostAttempt>& attempts, std::chrono::milliseconds timeout,
                        const std::vector<std::pair<std::string, std::string>>& extra = {});

// What a whole connect may take: the per-host timeout times the hosts, as
// libpq's blocking connect allows; `fallback` per host when unset.
std::chrono::milliseconds connect_budget(const std::string& conninfo, std::chrono::milliseconds fallback);

}  // namespace hasup::db
