#pragma once
// This node's copy of a rotating login's record (record.hpp), on its own
// disk. Consul's data lost (every server rebuilt, or wiped with the power)
// takes the record away; without it every node would fall back to the
// install's login, whose password the rotations have long replaced: every
// client refused. With the copy a node keeps the login in force, and the
// newest copy of a majority of the nodes' is written back
// (cluster/copy_verdict.hpp, by each copy's revision). The record holds no
// password: a nonce, from which each node derives it with the store key.
#include <optional>
#include <string>

#include "components/db-login/record.hpp"

namespace hasup::db_login {

// Beside the node's memory of the cluster's nodes: db-login.json, replication-login.json.
std::string record_copy_path(const std::string& known_nodes_file, LoginSecret secret);

struct CopyRead {
  std::optional<LoginRecord> record;  // none: no file (never saw a record), or unusable
  std::string error;                  // why a file there is unusable
};
// A copy is checked as the stored record is (decode_login_record, record_problem).
CopyRead read_record_copy(const std::string& path, const std::string& base_user);

// Written whole or not at all, root only. "" or what went wrong.
std::string keep_record_copy(const std::string& path, const LoginRecord& record);

}  // namespace hasup::db_login
