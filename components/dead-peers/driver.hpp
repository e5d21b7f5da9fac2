#pragma once
// Dead peers' driver: loads the table decide() renders from the Consul link's
// gossip (rule.hpp says why), and loads it again when it vanishes.
#include "supervisor/loop/driver.hpp"
#include "supervisor/loop/nft_table_keeper.hpp"

namespace hasup::dead_peers {

class DeadPeersDriver : public loop::Driver {
 public:
  explicit DeadPeersDriver(loop::DriverContext& ctx);

  const char* name() const override { return "dead_peers"; }
  void start() override { table_.start(); }
  void stop() override { table_.stop(); }
  void reload() override { table_.forget_refused(); }
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  void run(const loop::ApplyDeadPeers& a);

  loop::DriverContext& ctx_;
  loop::NftTableKeeper table_;
};

}  // namespace hasup::dead_peers
