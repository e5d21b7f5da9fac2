#pragma once
// Initialises the stolon cluster exactly once, however many nodes start
// together and whenever one joins later (the seed pattern).
//
// `stolonctl init` must run once per cluster: it OVERWRITES an existing
// clusterdata, and keepers that already built databases for the old one would
// then be told to build a new cluster. So:
//   1. A consistent read of clusterdata: there already -> already_initialised.
//   2. A Consul session (this agent's serfHealth + a TTL this code renews;
//      behavior "release") and an acquire of lock_key with it.
//   3. Not acquired: someone else is initialising. Block on lock_key; each time
//      it changes, read clusterdata: there -> initialised_elsewhere; the lock
//      free and still no clusterdata (the holder failed or died) -> acquire.
//   4. Acquired: read clusterdata again (it may have appeared since step 1),
//      then run init_argv (posix_spawn on a worker thread, killed after
//      init_timeout), then wait until clusterdata is readable -> initialised_here;
//      the command failed and no clusterdata -> failed.
//   5. Release the lock (a waiting node takes over at once if we failed), then
//      destroy the session.
//
// A holder that dies mid-init: its session ends (serfHealth when the node
// goes, TTL when only this process does), Consul releases the lock, and after
// the lock-delay another node acquires it. stolonctl init writes clusterdata in
// one PUT at its very end (after reading the old clusterdata and validating
// the spec), so an init that died left nothing behind and a rerun is safe. The
// session's lock-delay is init_timeout + 1 s: the dead holder's init command,
// killed at init_timeout at the latest, can never overlap the next holder's.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "supervisor/consul/client.hpp"

namespace hasup::stolon {

struct BootstrapSettings {
  std::string clusterdata_key;          // stolonctl.hpp: clusterdata_key()
  std::string lock_key;                 // held while initialising; its value names the holder
  std::string node_name;                // this node, written into lock_key
  std::vector<std::string> init_argv;   // stolonctl.hpp: stolonctl_init_argv()
  // The init command's bound, and then again the bound for its clusterdata to
  // become readable. The session's lock-delay is this + 1 s (above); Consul
  // caps lock-delays at 60 s, so this is capped at 59 s.
  std::chrono::milliseconds init_timeout{20000};
  // How long this node keeps trying (Consul errors) and waiting for another
  // node's init before it reports failed. Not counting its own init.
  std::chrono::milliseconds wait_timeout{120000};
  std::chrono::seconds session_ttl{10};  // Consul's minimum unless session_ttl_min is lowered
  std::chrono::milliseconds retry_delay{500};  // after a Consul error
};

enum class BootstrapOutcome { initialised_here, already_initialised, initialised_elsewhere, failed };
std::string to_string(BootstrapOutcome outcome);  // "initialised here", ...

// detail: one line for the log and status (what happened, who initialised, the
// command's own words when it failed).
using BootstrapDone = std::function<void(BootstrapOutcome outcome, std::string detail)>;

// Asynchronous: returns at once; `done` is called exactly once, on a thread
// running `io`. `io` and `consul` must outlive the call, and `io` must keep
// running until `done` was called (the init command's worker thread posts its
// result to it).
void bootstrap_once(boost::asio::io_context& io, consul::Client& consul, BootstrapSettings settings,
                    BootstrapDone done);

}  // namespace hasup::stolon
