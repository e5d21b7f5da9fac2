#pragma once
// libpq's multi-host conninfo (host=a,b,c port=p,q,r) tried one host at a time.
// libpq applies connect_timeout to each host only in its blocking connect; the
// non-blocking PQconnectPoll our deadline-bounded code uses ignores it, so a
// first host that is down (a crashed node: SYNs unanswered, no RST) holds the
// whole attempt until the deadline and the hosts after it are never tried.
// Connecting host by host with a deadline each restores libpq's semantics.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

struct pg_conn;  // libpq's PGconn

namespace hasup::db {

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

// The order in which to try `count` hosts: from `first` (the host that
// answered last), wrapping around, except that the hosts marked in
// `recently_silent` (no answer within the connect timeout a moment ago: a
// crashed node) come after all the others, in the same rotation. A dead host
// then costs its timeout once, not on every new connection or retry, and is
// still tried when no other host will do.
std::vector<std::size_t> connect_order(std::size_t count, std::size_t first, const std::vector<bool>& recently_silent);

// What a whole connect may take: the per-host timeout times the hosts, as
// libpq's blocking connect allows; `fallback` per host when unset.
std::chrono::milliseconds connect_budget(const std::string& conninfo, std::chrono::milliseconds fallback);

}  // namespace hasup::db
