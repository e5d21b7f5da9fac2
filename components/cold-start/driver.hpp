#pragma once
// The cold start's driver: the operator's accepted founder asked of this
// node's Patroni (POST /failover with the candidate, Patroni's own manual
// failover, the way patronictl asks it), and a done acceptance dropped from
// Consul by the leader.
#include "supervisor/loop/driver.hpp"

namespace hasup::cold_start {

class ColdStartDriver : public loop::Driver {
 public:
  explicit ColdStartDriver(loop::DriverContext& ctx) : ctx_(ctx) {}

  const char* name() const override { return "cold_start"; }
  void start() override {}
  void stop() override { stopped_ = true; }
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  using Clock = std::chrono::steady_clock;
  void run(const loop::AcceptColdStart& a);
  void run(const loop::DropColdStartAccept& a);
  void answered(const std::string& node, bool accepted, std::string answer);

  loop::DriverContext& ctx_;
  bool stopped_ = false;
  struct Attempt {
    std::string node;
    Clock::time_point at;
    bool accepted = false;
    std::string answer;
  };
  std::optional<Attempt> last_attempt_;
  std::string drop_error_;
};

}  // namespace hasup::cold_start
