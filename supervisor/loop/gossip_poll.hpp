#pragma once
// Keeps the local agent's gossip members current for the loop: polled every
// consul.gossip_poll_interval_ms, and the loop woken when they change. The
// dead peers' table and the floating IP's cut-off rule both read it
// (Snapshot::consul.gossip).
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <string>

#include "supervisor/consul/client.hpp"

namespace hasup::loop {

struct ConsulLink;

class GossipPoll {
 public:
  // `interval` is read before each wait (a reload may change it).
  GossipPoll(consul::Client& consul, boost::asio::steady_timer& timer, std::function<int()> interval_ms,
             std::function<void()> changed);
  void start();
  void stop() { stopped_ = true; }
  void observe(ConsulLink& link) const;

 private:
  void poll();
  void poll_later();

  consul::Client& consul_;
  boost::asio::steady_timer& timer_;
  std::function<int()> interval_ms_;
  std::function<void()> changed_;
  bool stopped_ = false;
  bool known_ = false;
  std::map<std::string, std::string> members_;  // address -> serf status
  std::string error_;
};

}  // namespace hasup::loop
