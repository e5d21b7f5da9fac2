#pragma once
// The manager's database login's part of decide() (record.hpp says why two
// logins in turn): every node gives its REST service the login the record
// names; the leader drives a rotation's steps. Pure, like the rest of decide().
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

std::string decide_db_login(Plan& plan, const Snapshot& s);
// Nothing here keeps a node from serving: its REST service's own check says
// whether it reaches the database.
std::string db_login_problem(const Snapshot& s);
nlohmann::json db_login_status(const Snapshot& s);
void publish_db_login(const Snapshot& s, cluster::MemberRecord& record);
// The live members whose REST service has not switched to `generation` yet.
std::vector<std::string> members_behind(const Snapshot& s, std::uint64_t generation);

}  // namespace hasup::loop
