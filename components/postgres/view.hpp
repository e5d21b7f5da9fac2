#pragma once
// PostgreSQL HA as the loop sees it: its part of the snapshot (snapshot.hpp).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/patroni/keys_copy.hpp"
#include "components/patroni/model.hpp"
#include "supervisor/util/filesystem_space.hpp"
#include "components/postgres/model.hpp"
#include "components/postgres/probe.hpp"
#include "supervisor/loop/stale_file.hpp"

namespace hasup::loop {

// Patroni's part: patroni.yml and the bootstrap SQL, rendered by decide()
// from these and compared with the files as they are; what the supervisor
// keeps of Patroni's records and of its wakes.
struct PatroniFiles {
  std::string conf_template;                // templates/patroni.yml.mustache
  std::string sql_template;                 // templates/patroni-bootstrap.sql.mustache
  patroni::PatroniModel model;              // from config and secrets
  std::optional<std::string> current_conf;  // patroni.yml as it is; nullopt: absent
  std::optional<std::string> current_sql;
  ConfigFileState conf_file;                // patroni.yml's mtime and the catch-up reloads
  // The replication login in the model, put there from the cluster's record
  // (components/db-login): its generation (0: the install's), or why its
  // password cannot be derived here (patroni.yml is then left as it is).
  std::uint64_t replication_generation = 0;
  std::string replication_error;
  // This node's copy of Patroni's records in Consul, as on its disk (none:
  // it never saw the cluster initialised), and the newest failure to read or
  // write it. What Consul's data lost is rebuilt from (keys_copy.hpp).
  std::optional<patroni::KeysCopy> keys_copy;
  std::string keys_copy_error;
  // The leader key's member this node last woke its Patroni for
  // (WakePatroniForLeader); nullopt until the keys were read once: the
  // member then is where it starts, so a supervisor's start wakes nothing.
  std::optional<std::string> leader_woken_for;
  // The newest refused SetPatroniStrict: what Patroni answered, how long ago
  // (asked again after a pause, not every cycle).
  struct StrictRefusal {
    std::string words;
    std::chrono::milliseconds ago{0};
  };
  std::optional<StrictRefusal> strict_refused;
};

// stolon's part: the initial cluster spec (rendered at load; empty with the
// view's template_error), its units, and the newest bootstrap's outcome.
struct StolonSetup {
  std::string spec;
  std::vector<std::string> units;
  std::string bootstrap_outcome;
};

// PostgreSQL HA on this node: what the backend's keys in Consul say about the
// cluster, what the probes saw, and (Patroni) the files the supervisor renders.
struct DbView {
  bool enabled = false;
  std::string backend;                      // patroni, stolon
  // The cluster as its HA manager reports it in Consul.
  bool cluster_known = false;               // Consul answered at least once
  db::DbClusterView cluster;                // the newest whole view
  std::string cluster_error;                // why the newest read was refused (the last view stays)
  // Probes of this node (nullopt: none finished yet).
  std::optional<db::EndpointProbe> endpoint;
  std::optional<db::LocalProbe> local;
  std::chrono::milliseconds endpoint_failing_for{0};  // 0 while the last write probe succeeded
  std::chrono::milliseconds unfit_after{0};
  std::string template_error;               // a template, the secrets file or the spec could not be read
  std::string unit;
  std::string last_error;                   // newest failure to write, reload or start
  util::FilesystemSpaceRead data_space;     // the data directory's filesystem, read each cycle
  PatroniFiles patroni;                     // with the Patroni backend
  StolonSetup stolon;                       // with the stolon backend
};

}  // namespace hasup::loop
