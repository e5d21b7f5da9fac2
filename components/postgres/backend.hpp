#pragma once
// What differs between the PostgreSQL HA managers the database driver runs
// (stolon, Patroni): where their state lives in Consul and how it reads, the
// files and units they need, the conninfo of the local endpoint, and their
// jobs. The driver keeps what they share: the watch loop, the probes, the view.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "components/postgres/model.hpp"
#include "supervisor/loop/driver.hpp"

namespace hasup::db {

// One read of the backend's state: parsed (or refused), and Consul's index.
struct StateRead {
  DbClusterParse parsed;
  std::uint64_t index = 0;
};

class DbBackend {
 public:
  virtual ~DbBackend() = default;
  virtual std::vector<std::string> units() const = 0;
  // The Consul keys its state lives under ("service/manager/").
  virtual std::string keys_prefix() const = 0;
  // Templates, secrets and files as they are: at start and on SIGHUP.
  virtual void read_inputs(loop::DbView& view) = 0;
  // Reads its state, blocking until it changes after `index`.
  virtual void read_state(std::uint64_t index, std::function<void(consul::Result<StateRead>)> done) = 0;
  // Where local clients connect when db.endpoint is not set.
  virtual std::string default_endpoint_conninfo() const = 0;
  // The local PostgreSQL server's port, for the probe of this node.
  virtual int local_port() const = 0;
  // Its facts that change with no event (a file's mtime), into the snapshot's view.
  virtual void observe(loop::DbView& view) const {}
  // Starts the job for `action` if it is one of its own; false otherwise.
  // Failures go to view.last_error.
  virtual bool act(const loop::Action& action, loop::DbView& view) = 0;
};

}  // namespace hasup::db
