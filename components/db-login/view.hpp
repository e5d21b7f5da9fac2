#pragma once
// The manager's database login as the loop sees it: its part of the snapshot (snapshot.hpp).
#include <cstdint>
#include <optional>
#include <string>

#include "components/db-login/record.hpp"

namespace hasup::loop {

struct DbLoginView {
  bool enabled = false;
  // This node's REST service takes its login from a file the supervisor
  // writes (db.rest_conninfo_file); false: nothing here to switch.
  bool writes_client_file = false;
  std::string manager_user;
  // The cluster's record (cluster/keys.hpp db_login()), absent before any rotation.
  std::optional<db_login::LoginRecord> record;
  std::uint64_t record_index = 0;  // its ModifyIndex: every write is a check-and-set on it
  std::string record_error;        // the stored record cannot be read: nothing is done with it
  // The generation this node's clients were given by this process (0: none
  // yet since its start: the file holds the install's login or an earlier write).
  std::uint64_t applied_generation = 0;
  std::string apply_error;     // the newest failure to write the file or reload the service
  std::string store_key_error; // the cluster's store key cannot be read: nothing sealed can be opened
  std::string rotation_error;  // the newest failure of a leader's step (kept until the next success)
};

}  // namespace hasup::loop
