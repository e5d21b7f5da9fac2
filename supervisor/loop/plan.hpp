#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/cluster/records.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

struct Action {
  Job job;
  std::optional<cluster::MemberRecord> member;        // publish_member
  std::optional<cluster::ClusterState> cluster_state;  // publish_cluster_state
  std::uint64_t epoch = 0;                             // leader actions: the fencing token
  std::string session;                                 // leader actions: the lock's session
  bool fault = false;                                  // set_vip_fault
  std::string text;                                    // apply_keepalived_conf: the whole file; apply_nginx_conf: the body
  std::uint64_t generation = 0;                        // apply_nginx_conf
  std::string text2;                                   // apply_patroni_conf: the bootstrap SQL (text: patroni.yml)
};

struct Plan {
  cluster::Role role = cluster::Role::starting;
  std::vector<Action> actions;
  std::string reason;  // one line, logged when it changes
  // Something is due later without any event (a debounce running out): run
  // a cycle after this long.
  std::optional<std::chrono::milliseconds> wake_after;
};

}  // namespace hasup::loop
