#pragma once
// Talks to systemd's notify socket when the supervisor runs as a Type=notify
// service: READY once running, STATUS with the current reason, and WATCHDOG
// pings from the control loop itself, so a loop that stops turning gets the
// process restarted by systemd. Does nothing outside systemd.
#include <chrono>
#include <string>

namespace hasup::loop {

class ServiceNotifier {
 public:
  ServiceNotifier();
  bool watchdog_enabled() const { return watchdog_interval_.count() > 0; }
  void ready();
  void stopping();
  void status(const std::string& text);
  // Called every cycle; pings at most every third of the watchdog interval.
  void cycle_done();

 private:
  std::chrono::microseconds watchdog_interval_{0};
  std::chrono::steady_clock::time_point last_ping_{};
  std::string last_status_;
};

}  // namespace hasup::loop
