#pragma once
// Watches whether Consul's catalog agrees with the local agent on this node's
// checks. The agent pushes each change of a check's status to the catalog
// (anti-entropy); a push lost around a restart of the agent beside a Raft
// election is not tried again until the next full sync, one to two minutes
// away at three nodes, and meanwhile every peer sees a service that passes as
// critical: nginx drops it, the floating IP avoids its node (found by the fault
// suite: kill-consul-leader, docs/fault-suite.md). Polled every kPollInterval;
// decide() asks the agent for a full sync when a disagreement lasts
// (catalog_sync.hpp).
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "supervisor/consul/client.hpp"

namespace hasup::loop {

struct ConsulLink;

class CatalogDriftPoll {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kPollInterval{1000};

  // `agent_node`: the local agent's node name ("" until it is known).
  CatalogDriftPoll(consul::Client& consul, boost::asio::steady_timer& timer, std::function<std::string()> agent_node,
                   std::function<void()> changed);
  void start() { poll(); }
  void stop() { stopped_ = true; }
  void observe(ConsulLink& link) const;
  // The agent was just asked for a full sync.
  void resynced() { resynced_at_ = Clock::now(); }

 private:
  struct Disagreement {
    std::string agent;    // the status the local agent runs
    std::string catalog;  // the catalog's, or "missing"
    Clock::time_point since;
  };
  void poll();
  void poll_later();
  void compare(const consul::CheckStatuses& agent, const consul::CheckStatuses& catalog);
  void forget();  // no evidence: nothing is acted on

  consul::Client& consul_;
  boost::asio::steady_timer& timer_;
  std::function<std::string()> agent_node_;
  std::function<void()> changed_;
  bool stopped_ = false;
  std::map<std::string, Disagreement> disagreements_;  // by check id
  std::optional<Clock::time_point> resynced_at_;
};

}  // namespace hasup::loop
