#pragma once
// The pause's driver: Patroni's own pause set or cleared the way patronictl
// does it (PATCH /config {"pause": true|null} on this node's Patroni), for the
// leader. The cluster's record is the API's to write (engine_pause.cpp).
#include <chrono>
#include <optional>

#include "components/pause/view.hpp"
#include "supervisor/loop/driver.hpp"

namespace hasup::pause {

class PauseDriver : public loop::Driver {
 public:
  explicit PauseDriver(loop::DriverContext& ctx) : ctx_(ctx) {}

  const char* name() const override { return "pause"; }
  void start() override {}
  void stop() override { stopped_ = true; }
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  using Clock = std::chrono::steady_clock;
  loop::DriverContext& ctx_;
  bool stopped_ = false;
  struct Answer {
    bool paused = false;
    bool ok = false;
    std::string words;
    Clock::time_point at;
  };
  std::optional<Answer> answer_;
};

}  // namespace hasup::pause
