#pragma once
// The switchover's driver: the record moved on in Consul (check-and-set),
// Patroni asked to switch over (POST /switchover on this node's Patroni, the
// way patronictl asks it), and the upload gate's hold file written or
// removed, with the gate's acknowledgement read back while a hold stands.
#include <optional>

#include "components/switchover/view.hpp"
#include "supervisor/loop/driver.hpp"

namespace hasup::switchover {

class SwitchoverDriver : public loop::Driver {
 public:
  explicit SwitchoverDriver(loop::DriverContext& ctx) : ctx_(ctx), timers_(ctx.io) {}

  const char* name() const override { return "switchover"; }
  void start() override;
  void stop() override;
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  void run(const loop::WriteSwitchover& a);
  void run(const loop::AskPatroniSwitchover& a);
  void run(const loop::WakePatroni& a);
  void run(const loop::SetWriteHold& a);
  void read_ack();
  void poll_ack();

  loop::DriverContext& ctx_;
  loop::Timers timers_;
  boost::asio::steady_timer* ack_timer_ = nullptr;
  bool stopped_ = false;
  bool polling_ = false;       // the acknowledgement's timer is armed
  loop::SwitchoverView kept_;  // what observe() copies into the snapshot
  std::string ack_error_;      // the gate's file could not be read (hold_error says the hold file's own)
};

}  // namespace hasup::switchover
