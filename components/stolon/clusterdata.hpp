#pragma once
// stolon 0.17's clusterdata (Consul key stolon/cluster/<name>/clusterdata,
// written by the sentinel) -> the shared DbClusterView. Pure.
//
// A db or keeper entry that does not look like stolon's is left out with one
// printable line in view.problems (control and non-ASCII bytes escaped, long
// values cut); the rest is still used. Input that is not clusterdata format 1
// at all (not JSON, another formatVersion, no cluster object, dbs not an
// object) is an error and gives no view.
//
// Go writes most fields with omitempty: an absent "healthy" is false, an
// absent port or xLogPos is "not reported yet", not bad data.
//
// What the view says, and why where it is not obvious:
// - members: one per keeper (name = keeper UID), with its db's address, WAL
//   position and timeline. A keeper without a db (the sentinel removed it after
//   a failover and has not yet made a new one) is a member too, role unknown,
//   unhealthy, state "no db": decide() should know the node exists.
// - primary: the keeper of cluster.status.master, only while the proxies are
//   told to use it (proxy.spec.masterDbUid == cluster.status.master). During a
//   switch the sentinel has already named the new master but clears
//   masterDbUid until every proxy has dropped the old master's connections:
//   then primary = "" and switching = true, as with Patroni.
// - member roles: primary; the master's synchronous standbys -> sync_standby;
//   spec.role "standby" -> replica; anything else -> unknown. That includes
//   the master-elect during a switch and an old master the sentinel keeps with
//   spec.role "master" until the new one has converged.
// - sync_standbys: the keepers of the dbs in both the master's
//   spec.synchronousStandbys (in synchronous_standby_names) and its
//   status.synchronousStandbys (known to be in sync): the set the sentinel
//   itself picks a new master from (sentinel.go, CommonElements). One only in
//   spec may not have the acknowledged commits yet. Empty without a primary.
// - healthy: db status.healthy and keeper status.healthy. state: "healthy",
//   "unhealthy" (the db), "keeper unhealthy", "converging" (healthy, but the
//   keeper has not applied the db's newest generation yet), "no db".
#include <string>

#include "components/postgres/model.hpp"

namespace hasup::stolon {

db::DbClusterParse parse_stolon_clusterdata(const std::string& json_text);

}  // namespace hasup::stolon
