#pragma once
// One D-Bus connection (sdbus-c++ 1.2), driven by the caller's io_context on
// the caller's thread, that comes back by itself after the broker goes away.
//
// Why not sdbus-c++'s own event loop: enterEventLoopAsync() runs a second
// thread that calls our handlers, so every piece of state they touch would need
// locking, and the supervisor's rule is one thread, one io_context. Instead we
// take the connection's poll data (fd, events, timeout) from
// getEventLoopPollData(), wait for the fd with an asio stream_descriptor (on a
// dup, so asio never closes sd-bus's fd) and for the timeout with a
// steady_timer, and call processPendingRequest() until it has nothing left.
// All sd-bus callbacks thus run inside our pump(), on the io_context's thread,
// as in bmcweb/phosphor (sdbusplus::asio::connection).
//
// Opening: sdbus-c++ 1.2 opens a connection synchronously, including the
// broker's handshake, which a frozen (SIGSTOPped, wedged) broker holds for
// sd-bus's auth timeout (still blocked after 40 s when measured here). So each
// attempt opens the connection on a short-lived thread (it only creates the
// object, it never dispatches) and hands it to the io_context's thread; after connect_timeout the attempt is
// given up and the thread, when it ends, throws its late connection away.
// At most one such thread is ever blocked: while it is, attempts fail at once.
//
// Loss: the fd reports hangup, sd-bus fails pending calls with "Connection
// terminated" and emits the local Disconnected signal; or a call or the poll
// data fails with a disconnect error. Either way the connection is dropped
// (never from inside an sd-bus callback: deferred to the pump's top level),
// then retried with exponential backoff (reconnect_initial doubling up to
// reconnect_max), one attempt and at most one log line per step.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <sdbus-c++/IConnection.h>
#include <string>

namespace hasup::systemd {

struct BusOptions {
  // "unix:path=/run/dbus/system_bus_socket" and the like; empty: the system bus
  // (DBUS_SYSTEM_BUS_ADDRESS when set, else /run/dbus/system_bus_socket).
  std::string address;
  // Bounds opening a connection (connect + handshake with the broker).
  std::chrono::milliseconds connect_timeout{3000};
  // Bounds the few synchronous calls made when a connection is set up
  // (sdbus-c++ 1.2 installs match rules with a blocking AddMatch round trip).
  std::chrono::milliseconds setup_call_timeout{2000};
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{5000};
};

class BusConnection {
 public:
  // Runs once per new connection: install matches, subscribe, re-read.
  // Throwing (sdbus::Error or any std::exception) fails this attempt.
  using SetupHandler = std::function<void(sdbus::IConnection&)>;
  // Runs just before a connection is destroyed (lost, or its setup failed):
  // let go of every proxy and match slot of it, fail what waited on it.
  using DropHandler = std::function<void(const std::string& reason, bool was_up)>;

  BusConnection(boost::asio::io_context& io, BusOptions options, SetupHandler on_setup, DropHandler on_drop);
  ~BusConnection();
  BusConnection(const BusConnection&) = delete;
  BusConnection& operator=(const BusConnection&) = delete;

  // First attempt now (it completes in the io_context); after that it
  // reconnects by itself.
  void connect();

  bool connected() const { return up_; }
  // Null while not connected.
  sdbus::IConnection* connection() const { return up_ ? connection_.get() : nullptr; }
  // Changes with every new connection: callbacks compare it to ignore stale answers.
  std::uint64_t generation() const { return generation_; }

  // After queuing a message outside the pump: flush it and re-arm the waits
  // (the write queue or the nearest reply deadline may have changed).
  void kick();
  // A call saw the connection break: drop it (deferred) and reconnect.
  void lost(const std::string& why);

  const std::string& last_error() const { return last_error_; }
  void set_last_error(std::string text) { last_error_ = std::move(text); }
  // Connection attempts so far, successful or not.
  std::uint64_t attempts() const { return attempts_; }
  std::string address_text() const;

 private:
  struct Opening;  // one attempt's connection, being opened off the io thread
  void attempt();
  static void open_connection(std::shared_ptr<Opening> opening, std::string address, std::function<void()> deliver);
  void opened(const std::shared_ptr<Opening>& opening);
  void attempt_failed(const std::string& why);
  void pump();
  void arm();
  void drop();
  void post_drop();

  boost::asio::io_context& io_;
  BusOptions options_;
  SetupHandler on_setup_;
  DropHandler on_drop_;

  std::unique_ptr<sdbus::IConnection> connection_;
  sdbus::Slot disconnected_match_;
  boost::asio::posix::stream_descriptor fd_;  // a dup of sd-bus's fd, owned by asio
  boost::asio::steady_timer deadline_;        // sd-bus's next timeout
  boost::asio::steady_timer retry_;
  boost::asio::steady_timer connect_deadline_;
  std::shared_ptr<Opening> opening_;  // the attempt under way
  std::shared_ptr<Opening> stuck_;    // an attempt given up whose thread is still blocked
  bool up_ = false;
  bool in_pump_ = false;
  bool kick_posted_ = false;
  bool drop_posted_ = false;
  bool waiting_read_ = false;
  bool waiting_write_ = false;
  std::optional<std::string> lost_reason_;
  std::uint64_t generation_ = 0;

  std::chrono::milliseconds delay_;  // before the next attempt
  std::chrono::steady_clock::time_point up_since_{};
  std::uint64_t attempts_ = 0;
  std::uint64_t failures_in_a_row_ = 0;
  std::string last_error_;
  std::string last_logged_error_;

  // Handlers queued in the io_context check this before touching `this`.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace hasup::systemd
