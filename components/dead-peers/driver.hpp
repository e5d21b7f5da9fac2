#pragma once
// Dead peers' driver: loads the table decide() renders from the Consul link's
// gossip (rule.hpp says why), and loads it again when it vanishes.
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <string>

#include "supervisor/loop/driver.hpp"
#include "supervisor/util/nft_table_watch.hpp"

namespace hasup::dead_peers {

class DeadPeersDriver : public loop::Driver {
 public:
  explicit DeadPeersDriver(loop::DriverContext& ctx);

  const char* name() const override { return "dead_peers"; }
  void start() override;
  void stop() override;
  void reload() override;
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  void run(const loop::ApplyDeadPeers& a);

  loop::DriverContext& ctx_;
  bool stopped_ = false;
  std::string applied_;
  std::string refused_;
  std::string error_;
  std::unique_ptr<boost::asio::thread_pool> workers_;  // runs nft off the loop's thread
  loop::Timers timers_;
  NftTableWatch table_watch_;  // on a timer from timers_
};

}  // namespace hasup::dead_peers
