#include "supervisor/loop/gossip_poll.hpp"

#include <spdlog/spdlog.h>

#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

GossipPoll::GossipPoll(consul::Client& consul, boost::asio::steady_timer& timer, std::function<int()> interval_ms,
                       std::function<void()> changed)
    : consul_(consul), timer_(timer), interval_ms_(std::move(interval_ms)), changed_(std::move(changed)) {}

void GossipPoll::start() { poll(); }

void GossipPoll::poll_later() {
  timer_.expires_after(std::chrono::milliseconds(interval_ms_()));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopped_) poll();
  });
}

void GossipPoll::poll() {
  consul_.agent_members([this](consul::Result<std::vector<consul::GossipMember>> r) {
    if (stopped_) return;
    std::map<std::string, std::string> members;
    std::string error;
    if (r) {
      for (const auto& m : r.value()) members[m.address] = m.status;
    } else {
      error = r.error().to_string();
    }
    const bool known = r.ok();
    if (known != known_ || members != members_ || error != error_) {
      if (!known && known_) spdlog::warn("the local Consul agent's gossip members are unreadable: {}", error);
      known_ = known;
      members_ = std::move(members);
      error_ = std::move(error);
      changed_();
    }
    poll_later();
  });
}

void GossipPoll::observe(ConsulLink& link) const {
  link.gossip_known = known_;
  link.gossip = members_;
  link.gossip_error = error_;
}

}  // namespace hasup::loop
