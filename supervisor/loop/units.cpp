#include "supervisor/loop/units.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "components/systemd/unit_manager.hpp"

namespace hasup::loop {

Units::Units(boost::asio::io_context& io, std::string bus_address, std::function<void()> wake)
    : io_(io), bus_address_(std::move(bus_address)), wake_(std::move(wake)) {}

Units::~Units() = default;

void Units::start(std::vector<std::string> units) {
  if (units.empty() || manager_) return;
  systemd::UnitManagerOptions options;
  options.bus_address = bus_address_;
  manager_ = std::make_unique<systemd::UnitManager>(io_, options);
  manager_->set_connection_handler([this](bool up) {
    connected_ = up;
    spdlog::log(up ? spdlog::level::info : spdlog::level::warn, "systemd {}",
                up ? "reachable over D-Bus" : "unreachable: " + manager_->last_error());
    wake_();
  });
  // Unit changes (a restart, a crash) are wake-ups of the loop.
  manager_->watch(units, [this](const systemd::UnitState& state) {
    auto& view = views_[state.name];
    if (view.n_restarts != state.n_restarts && state.n_restarts > view.n_restarts && view.main_pid != 0)
      spdlog::warn("{} was restarted by systemd ({} restart(s))", state.name, state.n_restarts);
    view = {state.active_state, state.sub_state, state.n_restarts, state.main_pid, std::nullopt};
    if (state.state_change_usec)
      view.state_changed = WallTime(std::chrono::duration_cast<WallTime::duration>(
          std::chrono::microseconds(state.state_change_usec)));
    wake_();
  });
  manager_->connect();
}

// Without a manager (no unit was ever to be watched) a job fails like one
// asked while systemd is unreachable, and still reports exactly once.
bool Units::usable(const std::string& unit, Done& done) {
  if (manager_) return true;
  boost::asio::post(io_, [unit, done = std::move(done)] {
    systemd::JobOutcome outcome;
    outcome.unit = unit;
    outcome.status = systemd::JobStatus::error;
    outcome.error = systemd::Error{systemd::Error::Kind::not_connected, "no systemd connection", "", ""};
    done(outcome);
  });
  return false;
}

void Units::start_unit(const std::string& unit, Done done) {
  if (usable(unit, done)) manager_->start(unit, std::move(done));
}

void Units::restart_unit(const std::string& unit, Done done) {
  if (usable(unit, done)) manager_->restart(unit, std::move(done));
}

void Units::reload_unit(const std::string& unit, Done done) {
  if (usable(unit, done)) manager_->reload(unit, std::move(done));
}

}  // namespace hasup::loop
