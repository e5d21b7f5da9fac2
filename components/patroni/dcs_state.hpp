#pragma once
// Patroni 3.0.2's keys in Consul (everything under <namespace>/<scope>/, e.g.
// service/mgrdb/) -> the shared DbClusterView. Pure: the caller reads the keys
// (recursively, with each key's Session) and hands them over.
//
// Consul's data is written by anyone who may write the KV store, not only by
// Patroni: a member key that does not look like Patroni's is left out with one
// printable line in view.problems (control and non-ASCII bytes escaped, long
// values cut), and the rest of the view is still used. Only input that cannot
// be a Patroni cluster at all (a key outside the prefix, no prefix) is an error.
//
// What the view says, and why where it is not obvious:
// - initialized: the initialize key holds a system identifier. Patroni takes
//   the key with an empty value while it bootstraps and reads that as "not
//   initialised" (Consul returns no value), so do we.
// - primary: the leader key's member, only if the key is held by a session and
//   that member's own key says "master" (3.0.x) or "primary" (newer). Else ""
//   and switching = true: a leader that has not yet said it promoted is not a
//   primary to send writes to.
// - sync_standbys: from the sync key, only when sync.leader is the primary (an
//   old leader's sync key says nothing about the new one). sync_standby is a
//   comma-separated list, or null. Names are kept even when their member key is
//   gone: they say who holds the acknowledged commits.
// - member roles: primary; sync_standby; "replica" -> replica; anything else
//   (a "master" without the leader key, "uninitialized", ...) -> unknown.
// - primary_wal_position: status.optime, Patroni's last known leader LSN, kept
//   during a failover too (Patroni uses it there for maximum_lag_on_failover);
//   without it, the primary's xlog_location.
// - paused: the config key's "pause" is true (Patroni's maintenance mode: no
//   automatic failover); a config key that is not a JSON object is a problem.
// - host: as in conn_url, IPv6 without brackets ("::1").
#include <string>
#include <vector>

#include "components/postgres/model.hpp"

namespace hasup::patroni {

// One KV entry under the prefix, as Consul returned it.
struct PatroniKey {
  std::string key;      // full key, e.g. "service/mgrdb/members/n1"
  std::string value;    // the decoded value
  std::string session;  // the session holding the key; "" when none
};

// prefix: "<namespace>/<scope>/", ending in '/' (else "service/mgrdb" would
// also match service/mgrdb2/...).
db::DbClusterParse parse_patroni_state(const std::string& prefix, const std::vector<PatroniKey>& keys);

}  // namespace hasup::patroni
