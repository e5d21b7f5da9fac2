#pragma once
// systemd for the loop: one D-Bus connection and one watch over every
// driver's units. Unit changes wake the loop; the views are what the
// snapshot shows. Jobs asked while systemd is unreachable fail at once.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "components/systemd/outcome.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::systemd {
class UnitManager;
}

namespace hasup::loop {

class Units {
 public:
  using Done = std::function<void(systemd::JobOutcome)>;

  Units(boost::asio::io_context& io, std::string bus_address, std::function<void()> wake);
  ~Units();

  // Connects and watches `units` (nothing when empty).
  void start(std::vector<std::string> units);

  bool connected() const { return connected_; }
  const std::map<std::string, UnitView>& views() const { return views_; }

  void start_unit(const std::string& unit, Done done);
  void restart_unit(const std::string& unit, Done done);
  void reload_unit(const std::string& unit, Done done);

 private:
  bool usable(const std::string& unit, Done& done);

  boost::asio::io_context& io_;
  std::string bus_address_;
  std::function<void()> wake_;
  std::unique_ptr<systemd::UnitManager> manager_;
  bool connected_ = false;
  std::map<std::string, UnitView> views_;
};

}  // namespace hasup::loop
