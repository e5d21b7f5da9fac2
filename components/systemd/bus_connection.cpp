#include "components/systemd/bus_connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>
#include <spdlog/spdlog.h>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace hasup::systemd {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// sd-bus synthesizes this signal when the connection ends. Its sender, path and
// interface are local, so sd-bus installs the match without asking the broker.
constexpr const char* kDisconnectedRule =
    "type='signal',sender='org.freedesktop.DBus.Local',path='/org/freedesktop/DBus/Local',"
    "interface='org.freedesktop.DBus.Local',member='Disconnected'";

// processPendingRequest() handles one message per call; after this many the
// pump yields to the io_context so a flood of signals cannot starve the loop.
constexpr int kMaxMessagesPerTurn = 64;

std::chrono::microseconds usec(milliseconds ms) { return std::chrono::duration_cast<std::chrono::microseconds>(ms); }

// sdbus-c++ 1.2 leaks the sd_bus object (about 2 KB) each time it fails to
// open a bus at an explicit address (sd_bus_open_user_with_address returns
// without unref on a failed sd_bus_start). An attempt every 5 s for a day of
// outage would add up, so a "unix:path=" socket is tried first with a plain
// connect(), which fails the same way (ENOENT, ECONNREFUSED) for free.
// Returns the reason it cannot be reached, or "" (also for other transports).
std::string probe_unix_socket(const std::string& address) {
  const std::string prefix = "unix:path=";
  if (address.rfind(prefix, 0) != 0) return {};
  std::string path = address.substr(prefix.size(), address.find_first_of(",;") - prefix.size());
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path) return {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int error = errno;
  ::close(fd);
  if (rc == 0) return {};
  return "cannot connect to " + path + " (" + std::strerror(error) + ")";
}

}  // namespace

struct BusConnection::Opening {
  std::mutex mutex;
  bool abandoned = false;  // the owner stopped waiting (timeout, or destroyed)
  bool finished = false;   // the thread is done
  std::unique_ptr<sdbus::IConnection> connection;
  std::string error;
};

BusConnection::BusConnection(asio::io_context& io, BusOptions options, SetupHandler on_setup, DropHandler on_drop)
    : io_(io),
      options_(std::move(options)),
      on_setup_(std::move(on_setup)),
      on_drop_(std::move(on_drop)),
      fd_(io),
      deadline_(io),
      retry_(io),
      connect_deadline_(io),
      delay_(options_.reconnect_initial) {}

BusConnection::~BusConnection() {
  // An opening thread still running must not deliver to us any more; it throws
  // its connection away itself.
  for (auto* opening : {&opening_, &stuck_}) {
    if (!*opening) continue;
    std::lock_guard lock((*opening)->mutex);
    (*opening)->abandoned = true;
  }
  // The owner has already let go of its proxies and slots (they are declared
  // after us, so destroyed before us); on_drop_ is not called from here.
  boost::system::error_code ignored;
  fd_.close(ignored);
  disconnected_match_.reset();
  connection_.reset();
}

std::string BusConnection::address_text() const {
  if (!options_.address.empty()) return options_.address;
  const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  return std::string("system bus ") + (env && *env ? env : "unix:path=/run/dbus/system_bus_socket");
}

void BusConnection::connect() {
  if (connection_ || opening_ || attempts_ > 0) return;
  attempt();
}

// Runs on the attempt's own thread: creates the connection (connect, auth,
// Hello sent and flushed), nothing else. `deliver` runs under the mutex, and
// only while the owner still waits, so it never touches a dead io_context.
void BusConnection::open_connection(std::shared_ptr<Opening> opening, std::string address,
                                    std::function<void()> deliver) {
  std::unique_ptr<sdbus::IConnection> connection;
  std::string error = probe_unix_socket(address);
  if (error.empty()) {
    try {
      // sdbus-c++ 1.2 opens a bus at an explicit address only through its
      // "session bus with address" call: that is just an sd-bus client at that
      // address (Hello, no session semantics), so it serves a system bus socket too.
      connection = address.empty() ? sdbus::createSystemBusConnection()
                                   : sdbus::createSessionBusConnectionWithAddress(address);
    } catch (const sdbus::Error& e) {
      error = e.getMessage().empty() ? e.getName() : e.getMessage();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  std::lock_guard lock(opening->mutex);
  opening->finished = true;
  if (opening->abandoned) return;  // `connection` is closed here, on this thread
  opening->connection = std::move(connection);
  opening->error = std::move(error);
  deliver();
}

void BusConnection::attempt() {
  if (connection_ || opening_) return;
  ++attempts_;
  if (stuck_) {
    bool finished;
    {
      std::lock_guard lock(stuck_->mutex);
      finished = stuck_->finished;
    }
    if (!finished) return attempt_failed("an earlier connection attempt is still waiting for the broker");
    stuck_.reset();
  }
  auto opening = std::make_shared<Opening>();
  std::weak_ptr<int> alive = alive_;
  auto deliver = [this, &io = io_, opening, alive] {
    asio::post(io, [this, opening, alive] {
      if (!alive.expired()) opened(opening);
    });
  };
  try {
    // sdbus objects are not bound to a thread: created there, used only here.
    std::thread(open_connection, opening, options_.address, std::function<void()>(deliver)).detach();
  } catch (const std::system_error& e) {
    return attempt_failed(std::string("cannot start a thread to connect: ") + e.what());
  }
  opening_ = opening;
  connect_deadline_.expires_after(options_.connect_timeout);
  connect_deadline_.async_wait([this, opening, alive](boost::system::error_code ec) {
    if (ec || alive.expired() || opening_ != opening) return;
    {
      std::lock_guard lock(opening->mutex);
      opening->abandoned = true;
      if (!opening->finished) stuck_ = opening;
    }
    opening_.reset();
    attempt_failed("no answer from the broker within " + std::to_string(options_.connect_timeout.count()) + " ms");
  });
}

void BusConnection::opened(const std::shared_ptr<Opening>& opening) {
  if (opening_ != opening) return;  // given up already (its connection dies with `opening`)
  opening_.reset();
  connect_deadline_.cancel();
  if (!opening->connection) return attempt_failed(opening->error);
  connection_ = std::move(opening->connection);
  try {
    ++generation_;
    connection_->setMethodCallTimeout(usec(options_.setup_call_timeout));
    auto poll = connection_->getEventLoopPollData();
    // asio closes what it holds; sd-bus closes its own fd. A dup keeps both honest.
    int fd = ::fcntl(poll.fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) throw std::runtime_error(std::string("dup of the bus fd failed: ") + std::strerror(errno));
    fd_.assign(fd);
    disconnected_match_ = connection_->addMatch(kDisconnectedRule, [this](sdbus::Message&) {
      lost("the broker closed the connection");
    });
    if (on_setup_) on_setup_(*connection_);
  } catch (const sdbus::Error& e) {
    return attempt_failed(e.getMessage().empty() ? e.getName() : e.getMessage());
  } catch (const std::exception& e) {
    return attempt_failed(e.what());
  }
  up_ = true;
  if (failures_in_a_row_ > 0 || attempts_ > 1)
    spdlog::info("{}: connected again (attempt {})", address_text(), attempts_);
  else
    spdlog::info("{}: connected", address_text());
  up_since_ = std::chrono::steady_clock::now();
  failures_in_a_row_ = 0;
  last_logged_error_.clear();
  kick();
}

void BusConnection::attempt_failed(const std::string& why) {
  if (connection_) {
    // Set up halfway: let the owner drop what it attached to this connection.
    lost_reason_ = why;
    drop();
  }
  last_error_ = why;
  ++failures_in_a_row_;
  // At most one line per attempt, and once the delay stops growing only when
  // the reason changes or every 12th attempt (a minute at 5 s): a broker that
  // stays away must not fill the log.
  bool changed = why != last_logged_error_;
  if (changed || delay_ < options_.reconnect_max || failures_in_a_row_ % 12 == 0) {
    spdlog::log(changed ? spdlog::level::warn : spdlog::level::info,
                "{}: connection attempt {} failed: {}; next attempt in {} ms", address_text(), attempts_, why,
                delay_.count());
    last_logged_error_ = why;
  }
  retry_.expires_after(delay_);
  retry_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    attempt();
  });
  delay_ = std::min(delay_ * 2, options_.reconnect_max);
}

void BusConnection::kick() {
  if (kick_posted_ || !connection_) return;
  kick_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    kick_posted_ = false;
    pump();
  });
}

void BusConnection::lost(const std::string& why) {
  if (!connection_) return;
  if (!lost_reason_) lost_reason_ = why;
  // Never destroy the connection under an sd-bus callback or a caller that is
  // still using a proxy: the pump drops it at its top level, or a posted job does.
  if (!in_pump_) post_drop();
}

void BusConnection::post_drop() {
  if (drop_posted_) return;
  drop_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    drop_posted_ = false;
    if (lost_reason_ && !in_pump_) drop();
  });
}

void BusConnection::pump() {
  if (!connection_ || in_pump_) return;
  in_pump_ = true;
  bool more = false;
  try {
    for (int handled = 0; !lost_reason_; ++handled) {
      if (handled == kMaxMessagesPerTurn) {
        more = true;
        break;
      }
      if (connection_->processPendingRequest()) continue;
      // false normally means nothing left until the fd or the timeout says so,
      // and comes only after a read hit EAGAIN, which is what an edge-triggered
      // reactor (asio's epoll) needs before waiting again. But while closing,
      // sd-bus also returns false after failing each pending call, with more
      // to do at once (timeout zero): finish the closing in this turn, so the
      // loss is known before any handler posted from it runs.
      if (connection_->getEventLoopPollData().timeout_usec != 0) break;
    }
  } catch (const sdbus::Error& e) {
    // sd_bus_process fails once the connection is closed (ENOTCONN, ECONNRESET...).
    if (!lost_reason_) lost_reason_ = e.getMessage().empty() ? e.getName() : e.getMessage();
  }
  in_pump_ = false;
  if (lost_reason_) return drop();
  if (more) kick();
  arm();
}

void BusConnection::arm() {
  if (!connection_ || lost_reason_) return;
  sdbus::IConnection::PollData poll{};
  std::optional<std::chrono::microseconds> timeout;
  try {
    poll = connection_->getEventLoopPollData();
    timeout = poll.getRelativeTimeout();
  } catch (const sdbus::Error& e) {
    return lost(e.getMessage().empty() ? e.getName() : e.getMessage());
  }
  auto gen = generation_;
  std::weak_ptr<int> alive = alive_;
  if ((poll.events & POLLIN) && !waiting_read_) {
    waiting_read_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this, alive, gen](boost::system::error_code ec) {
      if (alive.expired() || gen != generation_) return;
      waiting_read_ = false;
      if (!ec) pump();
    });
  }
  if ((poll.events & POLLOUT) && !waiting_write_) {
    waiting_write_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_write, [this, alive, gen](boost::system::error_code ec) {
      if (alive.expired() || gen != generation_) return;
      waiting_write_ = false;
      if (!ec) pump();
    });
  }
  // sd-bus's timeout: the nearest method-call reply deadline (it then fails
  // that call with a timeout error), or zero when it already holds messages
  // read during a synchronous call. None: wait for the fd only.
  if (timeout) {
    deadline_.expires_after(*timeout);
    deadline_.async_wait([this, alive, gen](boost::system::error_code ec) {
      if (ec || alive.expired() || gen != generation_) return;
      pump();
    });
  } else {
    deadline_.cancel();
  }
}

void BusConnection::drop() {
  if (!connection_) return;
  std::string reason = lost_reason_.value_or("connection dropped");
  bool was_up = up_;
  up_ = false;
  lost_reason_.reset();
  ++generation_;
  waiting_read_ = waiting_write_ = false;
  deadline_.cancel();
  boost::system::error_code ignored;
  fd_.close(ignored);
  // Proxies and slots refer to the connection: the owner lets go of them first.
  if (on_drop_) on_drop_(reason, was_up);
  disconnected_match_.reset();
  connection_.reset();
  last_error_ = reason;
  if (!was_up) return;  // a failed setup: attempt_failed() schedules the retry
  // Back to the shortest delay only after a connection that lasted: a broker
  // that accepts and then drops us at once must not get an attempt every 100 ms.
  if (std::chrono::steady_clock::now() - up_since_ >= options_.reconnect_max) delay_ = options_.reconnect_initial;
  spdlog::warn("{}: connection lost: {}; reconnecting in {} ms", address_text(), reason, delay_.count());
  failures_in_a_row_ = 0;
  last_logged_error_ = reason;
  retry_.expires_after(delay_);
  retry_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    attempt();
  });
  delay_ = std::min(delay_ * 2, options_.reconnect_max);
}

}  // namespace hasup::systemd
