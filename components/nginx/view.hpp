#pragma once
// nginx as the loop sees it: its part of the snapshot (snapshot.hpp).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/nginx/model.hpp"
#include "supervisor/loop/stale_file.hpp"

namespace hasup::loop {

// One Consul service whose passing instances nginx routes to, as last read.
struct WatchedService {
  std::string name;
  bool known = false;            // Consul answered at least once
  std::uint64_t index = 0;       // Consul's index of that answer
  nginx::ServiceSet set;         // passing instances that passed validation
  // Valid instances failing their checks on nodes gossip has alive: routed to
  // when none passes. Every instance failing at once is a shared cause (the
  // database failing over), and their own answers say what it is; the moment
  // it ends they serve again, with no wait for Consul's checks and a reload.
  nginx::ServiceSet failing_on_live_nodes;
  std::vector<std::string> rejected;  // why each other instance was refused (Consul data, sanitized)
  std::set<std::string> failing_nodes;  // Consul nodes whose instance fails its checks
  std::string error;             // the newest watch failure; the set above stays in use
};

// nginx on this node: what it serves, what Consul says it should serve, and
// the timing facts the debounce needs (all relative to the snapshot).
struct NginxView {
  bool enabled = false;
  std::string template_text;
  std::string template_error;
  nginx::NginxModel base;                       // from config; decide() adds the services
  std::vector<WatchedService> services;         // in config order
  std::optional<std::string> current_body;      // the config nginx was last given; nullopt: none yet
  std::uint64_t generation = 0;                 // of current_body: one more per applied config
  std::string fingerprint;                      // of current_body's upstream set
  std::string rejected_body;                    // the newest render that `nginx -t` refused
  std::string rejected_error;
  std::string last_error;                       // the newest failure to apply or reload
  std::uint64_t reloads = 0;                    // since this supervisor started
  std::chrono::milliseconds since_change{0};    // since the inputs last changed
  std::chrono::milliseconds since_first_unapplied{0};  // since the first change not yet applied
  std::optional<std::chrono::milliseconds> since_last_apply;  // nullopt: never applied
  std::chrono::milliseconds wait_min{0};
  std::chrono::milliseconds wait_max{0};
  std::chrono::milliseconds reload_interval{0};
  std::string unit;
  ConfigFileState conf_file;                    // nginx.conf's mtime and the catch-up reloads
};

}  // namespace hasup::loop
