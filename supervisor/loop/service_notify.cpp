#include "supervisor/loop/service_notify.hpp"

#include <systemd/sd-daemon.h>

namespace hasup::loop {

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  // unset_environment=0: keep NOTIFY_SOCKET for later calls.
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_interval_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::ready() { sd_notify(0, "READY=1"); }

void ServiceNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void ServiceNotifier::status(const std::string& text) {
  if (text == last_status_) return;
  last_status_ = text;
  sd_notify(0, ("STATUS=" + text).c_str());
}

void ServiceNotifier::cycle_done() {
  if (!watchdog_enabled()) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ping_ < watchdog_interval_ / 3) return;
  last_ping_ = now;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace hasup::loop
