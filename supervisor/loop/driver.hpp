#pragma once
// One driver per component (floating IP, nginx, database, files): it owns
// that component's observers, timers, kept facts and jobs. The engine keeps
// only what every component shares (the Consul link, the session, the
// cluster's keys, the cycle, the busy set) and lends it to the drivers
// through a DriverContext. decide() stays pure: it reads the snapshot the
// drivers fill in and returns typed actions, which the engine hands back to
// the driver that owns them.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "supervisor/cluster/keys.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/consul/client.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"
#include "supervisor/loop/units.hpp"

namespace hasup::loop {

// What the engine lends every driver. The references outlive the drivers.
struct DriverContext {
  boost::asio::io_context& io;
  consul::Client& consul;
  const config::Config& config;  // the running config: live keys change on SIGHUP
  const cluster::Keys& keys;
  const KvView& kv;              // the cluster's keys as last read
  const KnownNodes& known;       // the cluster's nodes, alive or not (cluster/known_nodes.hpp)
  Units& units;                  // systemd, shared: one connection, one watch
  std::function<void()> wake;    // run a cycle soon
  std::function<void(Job)> finish_job;  // a job of the busy set is done: wakes the loop
  std::function<void(const std::string& what, const consul::Error&)> note_consul_error;
  std::function<consul::ReadOptions(std::uint64_t index)> blocking;  // a blocking read after `index`
};

// Every timer a driver (or the engine) arms comes from here, so stop()
// cancels them all: no hand-kept list to forget one in.
class Timers {
 public:
  explicit Timers(boost::asio::io_context& io) : io_(io) {}
  boost::asio::steady_timer& make() { return timers_.emplace_back(io_); }
  void cancel_all() {
    for (auto& t : timers_) t.cancel();
  }

 private:
  boost::asio::io_context& io_;
  std::deque<boost::asio::steady_timer> timers_;  // a deque: references stay valid
};

class Driver {
 public:
  virtual ~Driver() = default;
  // Its component's name in the component list (components.hpp): the status
  // document's section, the name operators see.
  virtual const char* name() const = 0;
  // The systemd units it runs, watched from the start.
  virtual std::vector<std::string> units() const { return {}; }
  // Starts its observers. Called once, after the engine's own.
  virtual void start() = 0;
  // Cancels its timers and watches; after this nothing of it wakes the loop.
  virtual void stop() = 0;
  // SIGHUP: the config's live keys are applied; re-read what depends on them.
  virtual void reload() {}
  // Consul answered again after a failure, or the leader lock changed under
  // the watcher: a blocking watch may hang on a deposed server.
  virtual void restart_watches() {}
  // Its part of the snapshot, from its kept facts.
  virtual void observe(Snapshot& s) const = 0;
  // After every driver observed: facts that need the whole snapshot.
  virtual void observed(Snapshot& s) {}
  // Starts the job for `action` if it is one of its own; false otherwise.
  virtual bool act(const Action& action) = 0;
};

}  // namespace hasup::loop
