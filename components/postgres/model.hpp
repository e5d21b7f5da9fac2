#pragma once
// What the supervisor knows about the PostgreSQL HA cluster, the same for
// every backend: Patroni's keys in Consul and stolon's clusterdata both parse
// into a DbClusterView; the libpq probes of this node fill a LocalDbProbe.
// decide() sees only these, never a backend's own format.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hasup::db {

enum class DbRole { unknown, primary, sync_standby, replica };
std::string to_string(DbRole role);  // "unknown", "primary", "sync", "replica"

// One PostgreSQL instance of the cluster, as its HA manager (Patroni member,
// stolon keeper+db) last reported it.
struct DbMember {
  std::string name;      // Patroni member name / stolon keeper UID: equal to the supervisor's node name
  DbRole role = DbRole::unknown;
  std::string host;      // where PostgreSQL listens for the cluster
  std::uint16_t port = 0;
  bool healthy = false;  // Patroni: state "running"; stolon: db status.healthy
  std::string state;     // the backend's own word (Patroni "running", "starting", ...; stolon "healthy"/"unhealthy")
  std::optional<std::uint64_t> wal_position;  // bytes: Patroni xlog_location, stolon xLogPos
  std::optional<std::uint32_t> timeline;
  bool operator==(const DbMember&) const = default;
};

struct DbClusterView {
  std::string backend;        // "patroni" or "stolon"
  bool initialized = false;   // Patroni: the initialize key; stolon: clusterdata exists
  std::string primary;        // the member that is primary now; "" while there is none (failover)
  std::string leader;         // Patroni: the leader key's member, promoted or not yet; stolon: "" (not read)
  bool switching = false;     // stolon: proxy.spec.masterDbUid absent; Patroni: no leader key
  bool paused = false;        // Patroni: its config key says "pause": true (no automatic failover); stolon: never
  // Whether commits wait for a standby when none is left, as the backend
  // has it now (Patroni: its config key's synchronous_mode_strict); nullopt:
  // not known (no config key yet; stolon).
  std::optional<bool> strict_in_force;
  std::optional<std::uint64_t> primary_wal_position;  // Patroni status.optime, stolon master's xLogPos
  std::optional<std::uint32_t> primary_timeline;
  std::vector<std::string> sync_standbys;  // member names
  // Patroni: every member its sync key names (its leader and standbys),
  // whoever holds the leader key; empty without a sync key; stolon: empty.
  std::vector<std::string> sync_key_names;
  // While there is no primary: the only members the backend will promote, the
  // others possibly missing an acknowledged commit (Patroni: its sync key's
  // leader and standbys). Empty: it does not say (no sync key; stolon).
  std::vector<std::string> promotable;
  // A manual failover or switchover asked of the backend and not yet carried
  // out (Patroni: its failover key's leader and member; "" when absent).
  std::string failover_from;
  std::string failover_to;
  std::vector<DbMember> members;           // sorted by name
  std::vector<std::string> problems;       // data refused while parsing (one line each, sanitized); the rest is still used

  const DbMember* member(const std::string& name) const {
    for (const auto& m : members)
      if (m.name == name) return &m;
    return nullptr;
  }
  // How many bytes of WAL a replica is behind the primary; none for the
  // primary, a member without positions, or one on another timeline than the
  // primary's (a replica left there after a failed pg_rewind reports lag 0
  // while it replicates nothing).
  std::optional<std::uint64_t> replication_lag_bytes(const std::string& name) const {
    const DbMember* m = member(name);
    if (!m || m->role == DbRole::primary || primary.empty() || !m->wal_position || !primary_wal_position) return {};
    if (m->timeline && primary_timeline && *m->timeline != *primary_timeline) return {};
    return *primary_wal_position > *m->wal_position ? *primary_wal_position - *m->wal_position : 0;
  }
  // The members the backend would promote that are up (have a member key).
  std::vector<std::string> promotable_up() const {
    std::vector<std::string> up;
    for (const auto& name : promotable)
      if (member(name)) up.push_back(name);
    return up;
  }
  // While there is no primary: how far a member is from the primary's last
  // recorded position (Patroni's status key, written once a loop), what
  // promoting it would lose at least (commits after that record are not
  // counted). None without both positions.
  std::optional<std::uint64_t> distance_from_last_primary(const std::string& name) const {
    const DbMember* m = member(name);
    if (!m || !m->wal_position || !primary_wal_position) return {};
    return *primary_wal_position > *m->wal_position ? *primary_wal_position - *m->wal_position : 0;
  }
  bool operator==(const DbClusterView&) const = default;
};

// A whole view or why there is none; never a half-parsed view.
struct DbClusterParse {
  std::optional<DbClusterView> view;
  std::string error;
};

}  // namespace hasup::db
