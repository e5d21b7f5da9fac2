#pragma once
// The floating IP as the loop sees it: its part of the snapshot (snapshot.hpp).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/keepalived/model.hpp"
#include "supervisor/loop/stale_file.hpp"

namespace hasup::loop {

// The floating IP on this node: what keepalived is told, read from the files.
struct VipView {
  bool enabled = false;
  std::string template_text;                 // templates/keepalived.conf.mustache
  std::string template_error;                // when it could not be read
  std::optional<std::string> current_conf;   // keepalived.conf as it is; nullopt: absent
  ConfigFileState conf_file;                 // its mtime and the catch-up reloads
  std::optional<bool> fault_now;             // the track file says FAULT; nullopt: absent
  keepalived::VrrpModel base;                // from config; decide() adds the peers
  std::string unit;                          // keepalived's systemd unit
  std::string vrrp_state;                    // keepalived's last notify: MASTER, BACKUP, FAULT, STOP; "" unknown
  bool holds_address = false;                // the floating IP is on this node's interface now
  // How long this node has had a local problem (local_problem() not empty),
  // and how long one must last before the IP goes to a fit node: a failure
  // every node sees at once (a database failover) then moves nothing.
  std::optional<bool> preferred_now;        // the preference track file says 1; nullopt: absent
  std::chrono::milliseconds problem_for{0};
  std::chrono::milliseconds unfit_grace{0};
  // How long past the cut-off a node without quorum, but in the gossip
  // majority, keeps the right to hold the IP (a Consul leader election).
  std::chrono::milliseconds election_grace{0};
  // How long this supervisor has run (since its floating-IP driver was made):
  // a restarted one keeps the IP it holds while it rejoins, within the grace.
  std::chrono::milliseconds up_for{0};
  // The kernel's VRRP filter (render_vrrp_filter): what this process loaded
  // last ("" nothing yet: after a boot the table is gone, so every start
  // loads it once), and a ruleset nft refused, not asked for again.
  bool filter_enabled = false;
  std::string filter_applied;
  std::string filter_refused;
  std::string filter_error;
  // A switchover's drain (render_vrrp_filter's drain rule): whether the loaded
  // filter drops new connections to the address, since when, and the TCP
  // connections to the address still established (-1: not counted).
  bool drain_loaded = false;
  std::chrono::milliseconds drain_for{0};
  int address_connections = -1;
};

}  // namespace hasup::loop
