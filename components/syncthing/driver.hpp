#pragma once
// The replicated folders' driver: syncthing's state read from its REST API
// every poll interval (identity, config, connections, this node's folder
// status, each peer's completion), the config job (PUT /rest/config, then a
// restart through systemd only when syncthing says it needs one), and a
// search for conflict copies on a worker thread.
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>

#include "supervisor/loop/driver.hpp"

namespace hasup::syncthing {

class FilesDriver : public loop::Driver {
 public:
  explicit FilesDriver(loop::DriverContext& ctx);
  ~FilesDriver() override;

  std::vector<std::string> units() const override;
  void start() override;
  void stop() override;
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  using Clock = std::chrono::steady_clock;

  void poll();
  void on_read(loop::FilesView fresh, std::string error);
  void scan_conflicts();
  void run(const loop::ApplySyncthingConfig& a);
  void run(const loop::StartSyncthing& a);

  loop::DriverContext& ctx_;
  loop::Timers timers_;
  boost::asio::steady_timer& poll_timer_;
  boost::asio::steady_timer& conflict_timer_;
  bool stopped_ = false;
  loop::FilesView files_;  // kept facts; observe() adds the ages
  std::string api_key_;
  bool poll_running_ = false;
  std::optional<Clock::time_point> failing_since_;  // since the last whole read of syncthing
  std::optional<Clock::time_point> behind_since_;   // this node missing items its peers have, since
  // The conflict search walks the folders here. Last member: joined first.
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

}  // namespace hasup::syncthing
