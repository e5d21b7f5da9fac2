#pragma once
// The floating IP's driver: keepalived's state from its notify FIFO and the
// interface, the track files that give the IP up or prefer this node, and
// keepalived.conf rendered by decide() and applied by a reload.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>

#include "supervisor/loop/driver.hpp"
#include "supervisor/util/nft_table_watch.hpp"

namespace hasup::keepalived {

class VipDriver : public loop::Driver {
 public:
  explicit VipDriver(loop::DriverContext& ctx);

  const char* name() const override { return "vip"; }
  std::vector<std::string> units() const override;
  void start() override;
  void stop() override;
  void reload() override;
  void observe(loop::Snapshot& s) const override;
  void observed(loop::Snapshot& s) override;
  bool act(const loop::Action& action) override;

 private:
  using Clock = std::chrono::steady_clock;

  void read_template();
  void start_notify();
  void read_notify();
  bool address_on_interface() const;

  void run(const loop::SetVipFault& a);
  void run(const loop::SetVipPreference& a);
  void run(const loop::ApplyKeepalivedConf& a);
  void run(const loop::StartKeepalived& a);
  void run(const loop::ApplyVrrpFilter& a);
  void beat();

  loop::DriverContext& ctx_;
  bool stopped_ = false;
  std::string template_text_;
  std::string template_error_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> fifo_;
  boost::asio::streambuf fifo_buffer_;
  std::string vrrp_state_;  // keepalived's last notify
  Clock::time_point made_at_ = Clock::now();  // this supervisor's start, near enough
  std::optional<Clock::time_point> problem_since_;  // local_problem() not empty since
  std::string filter_applied_;   // the VRRP filter nft loaded last
  std::string filter_refused_;   // one it refused
  std::optional<Clock::time_point> drain_loaded_at_;  // the loaded filter drains the address since
  std::string filter_error_;
  std::unique_ptr<boost::asio::thread_pool> workers_;  // runs nft off the loop's thread
  loop::Timers timers_;
  boost::asio::steady_timer& heartbeat_;  // vip.heartbeat_file, every second
  NftTableWatch filter_watch_;            // the VRRP filter, on a timer from timers_
  std::string heartbeat_error_;
  loop::CatchUpRecord catch_up_;  // reloads asked because keepalived ran an older keepalived.conf
};

}  // namespace hasup::keepalived
