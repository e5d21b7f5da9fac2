#pragma once
// A rotating login (record.hpp: the manager's database login, the
// replication login) as the loop sees it: its part of the snapshot (snapshot.hpp).
#include <cstdint>
#include <optional>
#include <string>

#include "components/db-login/record.hpp"

namespace hasup::loop {

struct LoginView {
  bool enabled = false;
  db_login::LoginSecret secret = db_login::LoginSecret::db_password;
  // This node's clients take the login from a file the supervisor writes
  // (the database login: db.rest_conninfo_file; the replication login:
  // patroni.yml, written by the database's driver); false: nothing here to switch.
  bool writes_client_file = false;
  std::string base_user;  // the manager's role, or the replication role
  // The cluster's record (cluster/keys.hpp), absent before any rotation.
  std::optional<db_login::LoginRecord> record;
  std::uint64_t record_index = 0;  // its ModifyIndex: every write is a check-and-set on it
  std::string record_error;        // the stored record cannot be read: nothing is done with it
  // The generation this node's clients were given by this process (0: none
  // yet since its start: the file holds the install's login or an earlier
  // write). The replication login's: the generation Patroni runs with.
  std::uint64_t applied_generation = 0;
  std::string apply_error;     // the newest failure to write the file or reload the service
  std::string store_key_error; // the cluster's store key cannot be read: nothing sealed can be opened
  std::string rotation_error;  // the newest failure of a leader's step (kept until the next success)
  // This node's copy of the record, as on its disk (record_copy.hpp), and the
  // newest failure to read or write it. While Consul holds no record but
  // this node a copy (Consul's data lost), `record` is the copy and
  // `record_from_copy` says so: the clients keep the login in force, and no
  // rotation step is taken until the newest copy is written back.
  std::optional<db_login::LoginRecord> copy;
  std::string copy_error;
  bool record_from_copy = false;
};

}  // namespace hasup::loop
