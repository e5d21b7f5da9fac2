#pragma once
// stolon as the database driver's backend: its clusterdata key in Consul,
// the initial cluster spec rendered from the db.* settings, the exactly-once
// bootstrap, and the sentinel, keeper and proxy units.
#include "components/postgres/backend.hpp"

namespace hasup::stolon {

class StolonBackend : public db::DbBackend {
 public:
  explicit StolonBackend(loop::DriverContext& ctx) : ctx_(ctx) {}

  std::vector<std::string> units() const override;
  std::string keys_prefix() const override;
  void read_inputs(loop::DbView& view) override;
  void read_state(std::uint64_t index, std::function<void(consul::Result<db::StateRead>)> done) override;
  std::string default_endpoint_conninfo() const override;
  int local_port() const override { return ctx_.config.db.stolon_keeper_port; }
  bool act(const loop::Action& action, loop::DbView& view) override;

 private:
  void run(const loop::BootstrapStolon& a, loop::DbView& view);
  void run(const loop::StartStolonUnits& a, loop::DbView& view);

  loop::DriverContext& ctx_;
};

}  // namespace hasup::stolon
