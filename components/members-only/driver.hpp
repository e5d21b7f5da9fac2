#pragma once
// The members-only ports' driver: loads the table decide() renders from the
// cluster's nodes (rule.hpp says why), and loads it again when it vanishes.
#include "supervisor/loop/driver.hpp"
#include "supervisor/loop/nft_table_keeper.hpp"

namespace hasup::members_only {

class MembersOnlyDriver : public loop::Driver {
 public:
  explicit MembersOnlyDriver(loop::DriverContext& ctx);

  const char* name() const override { return "members_only"; }
  void start() override { table_.start(); }
  void stop() override { table_.stop(); }
  void reload() override { table_.forget_refused(); }
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  loop::DriverContext& ctx_;
  loop::NftTableKeeper table_;
};

}  // namespace hasup::members_only
