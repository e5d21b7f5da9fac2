#pragma once
// A private D-Bus broker for tests: dbus-daemon on a unix socket in a temp
// dir, with an allow-all policy (or one that refuses every method call to
// org.freedesktop.systemd1). Tracked by PID (no --fork), killed by PID only,
// restartable on the same socket path, as a crashed and restarted system bus.
#include <sys/types.h>

#include <chrono>
#include <string>

#include "tests/testbed/process.hpp"

namespace hasup::testbed {

class PrivateBus {
 public:
  enum class Policy {
    allow_all,
    deny_systemd,  // method calls to org.freedesktop.systemd1 are refused (AccessDenied)
  };

  static constexpr const char* kDaemon = "/usr/bin/dbus-daemon";
  // Empty when usable here, else why not.
  static std::string unavailable_reason();

  explicit PrivateBus(Policy policy = Policy::allow_all, const std::string& tag = "bus");
  ~PrivateBus();
  PrivateBus(const PrivateBus&) = delete;
  PrivateBus& operator=(const PrivateBus&) = delete;

  // Starts (or restarts) the daemon on the same socket path and waits until it
  // accepts connections. Throws std::runtime_error when it does not.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // SIGKILL by PID and reap. The socket file stays behind, as after a crash.
  void kill();
  void remove_socket();
  // SIGSTOP / SIGCONT: a wedged broker that still accepts connections (the
  // kernel completes connect()) but never answers the handshake.
  void freeze();
  void thaw();
  bool running();
  pid_t pid() const { return process_.pid(); }

  std::string address() const { return "unix:path=" + socket_path(); }
  std::string socket_path() const { return dir_ + "/bus"; }
  const std::string& dir() const { return dir_; }

 private:
  Policy policy_;
  std::string dir_;
  std::string config_path_;
  Process process_;
};

// True when something accepts connections on the unix socket at `path` now.
bool unix_socket_accepts(const std::string& path);

}  // namespace hasup::testbed
