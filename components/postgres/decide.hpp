#pragma once
// PostgreSQL HA's part of decide(): keep Patroni's rendered files equal to
// what the config says and Patroni running; judge whether the local endpoint
// serves writes. Pure, like the rest of decide().
#include <cstdint>
#include <map>
#include <string>

#include "supervisor/cluster/copy_verdict.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// Adds the database's actions to the plan; returns a note for the plan's reason ("" when none).
std::string decide_db(Plan& plan, const Snapshot& s);

// Why this node should not hold the floating IP because of its database
// path, in a few stable words; "" when nothing. Stable: it is published as
// the member record's health, which must not change with every probe.
std::string db_problem(const Snapshot& s);

// Patroni runs the patroni.yml decide_db() renders now: the file is as
// rendered, no write or reload of it is under way, and Patroni is active and
// has read the file since it was written. What the replication login's
// rotation waits for on every node (components/db-login).
bool patroni_runs_rendered_conf(const Snapshot& s);

// The member record's database fields: the index of this node's copy of
// Patroni's records (what the nodes compare when Consul lost them).
void publish_db(const Snapshot& s, cluster::MemberRecord& record);

// The copies of Patroni's records the live nodes hold (this one's and each
// member record's write-backs and index), which decide who writes them back
// when Consul has none of them; the cold start's preview weighs the same.
std::map<std::string, cluster::CopyNewness> patroni_keys_copies(const Snapshot& s);
// Who writes Patroni's records back from those copies (cluster/copy_verdict.hpp),
// with `accepted` as the operator's accepted founder ("" for none).
cluster::CopyVerdict patroni_keys_verdict(const Snapshot& s, const std::string& accepted);

// The command Patroni runs after bootstrap: the script and the SQL file.
std::string post_bootstrap_command(const std::string& script, const std::string& sql_file);

}  // namespace hasup::loop
