#pragma once
// The rotating logins' part of decide() (record.hpp says why two logins in
// turn): every node gives its clients the login the record names (the REST
// service here; Patroni through the database's decision); the leader drives
// a rotation's steps. Pure, like the rest of decide().
#include <nlohmann/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "supervisor/cluster/copy_verdict.hpp"
#include "supervisor/cluster/keys.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

std::string decide_db_login(Plan& plan, const Snapshot& s);
// Nothing here keeps a node from serving: its REST service's own check says
// whether it reaches the database, and Patroni says whether it streams.
std::string db_login_problem(const Snapshot& s);
// {"db-password": {...}, "replication-password": {...}}: each secret's state.
nlohmann::json db_login_status(const Snapshot& s);
void publish_db_login(const Snapshot& s, cluster::MemberRecord& record);
const LoginView& login_view(const Snapshot& s, db_login::LoginSecret secret);
// Where the secret's record is kept (cluster/keys.hpp).
std::string login_record_key(const cluster::Keys& keys, db_login::LoginSecret secret);
// The nodes holding a copy of the secret's record, by name: how new each is
// (its revision): this node's own, and each live member's as it publishes it.
std::map<std::string, cluster::CopyNewness> login_copies(const Snapshot& s, db_login::LoginSecret secret);
// The live members whose clients have not switched to `generation` yet.
std::vector<std::string> members_behind(const Snapshot& s, db_login::LoginSecret secret, std::uint64_t generation);

}  // namespace hasup::loop
