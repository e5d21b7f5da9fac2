#pragma once
// systemd units over the system bus (org.freedesktop.systemd1), from the
// supervisor's single thread: start/stop/restart/reload jobs with a clear
// outcome each, unit state reads, and watches that turn unit changes into
// wake-ups of the control loop.
//
// Everything is asynchronous and bounded: each job has a timeout, each D-Bus
// call a reply timeout, and the bus connection comes back by itself with
// backoff (see bus_connection.hpp for how sd-bus is driven by the io_context).
// Handlers are always called from the io_context (posted), never from inside
// the call that started them, and nothing throws out of this class.
//
// Jobs: Subscribe() once per connection (systemd only emits JobRemoved and
// PropertiesChanged while someone is subscribed), the JobRemoved match is in
// place before any StartUnit/StopUnit/RestartUnit/ReloadUnit(unit, "replace")
// is sent, and the job path each returns is matched against JobRemoved
// (JobMatcher, which also covers JobRemoved arriving before the reply).
//
// Watches: LoadUnit (which, unlike GetUnit, also answers for a stopped unit
// that systemd has unloaded), then a PropertiesChanged match on the unit's
// object path, then a full read. A change of ActiveState, SubState,
// LoadState, StateChangeTimestamp, NRestarts or MainPID calls on_change with
// the new UnitState.
// After every (re)connection, and when systemd reappears on the bus, the
// watched units are read again and reported (whether they changed or not).
//
// Destroying the manager drops the handlers of calls still under way (they
// are not called).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sdbus-c++/IProxy.h>
#include <string>
#include <vector>

#include "components/systemd/bus_connection.hpp"
#include "components/systemd/job_matcher.hpp"
#include "components/systemd/outcome.hpp"
#include "components/systemd/unit_state.hpp"

namespace hasup::systemd {

struct UnitManagerOptions {
  // Empty: the system bus (DBUS_SYSTEM_BUS_ADDRESS when set). Tests and the
  // lab point it at a node's socket: "unix:path=/some/dir/system_bus_socket".
  std::string bus_address;
  // From sending StartUnit & co. to the job's end (JobRemoved). A job still
  // running then is reported as timeout and left to systemd.
  std::chrono::milliseconds job_timeout{30000};
  // Reply bound for each D-Bus method call (systemd answers StartUnit at once:
  // it only queues the job; the wait for the job is job_timeout's business).
  std::chrono::milliseconds call_timeout{5000};
  // Bound for opening a connection (connect and the broker's handshake).
  std::chrono::milliseconds connect_timeout{3000};
  // Bound for the synchronous AddMatch round trips of a connection's setup
  // and of each new watch (sdbus-c++ 1.2 has no asynchronous addMatch).
  std::chrono::milliseconds setup_call_timeout{2000};
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{5000};
};

class UnitManager {
 public:
  using Clock = std::chrono::steady_clock;
  using JobHandler = std::function<void(JobOutcome)>;
  using StateHandler = std::function<void(Result<UnitState>)>;
  using ChangeHandler = std::function<void(const UnitState&)>;
  using ConnectionHandler = std::function<void(bool connected)>;

  UnitManager(boost::asio::io_context& io, UnitManagerOptions options = {});
  ~UnitManager();
  UnitManager(const UnitManager&) = delete;
  UnitManager& operator=(const UnitManager&) = delete;

  // First connection attempt now (it completes in the io_context: connected()
  // turns true there); reconnects by itself from then on.
  void connect();

  void start(const std::string& unit, JobHandler done) { run_job(JobVerb::start, unit, std::move(done)); }
  void stop(const std::string& unit, JobHandler done) { run_job(JobVerb::stop, unit, std::move(done)); }
  void restart(const std::string& unit, JobHandler done) { run_job(JobVerb::restart, unit, std::move(done)); }
  void reload(const std::string& unit, JobHandler done) { run_job(JobVerb::reload, unit, std::move(done)); }
  void run_job(JobVerb verb, const std::string& unit, JobHandler done);

  // LoadUnit + the unit's properties (and the service's, for .service units).
  void read_state(const std::string& unit, StateHandler done);

  // Replaces the watched set and the callback. New units are read (and
  // reported) at once when connected; units left out are no longer watched.
  void watch(const std::vector<std::string>& units, ChangeHandler on_change);
  std::optional<UnitState> watched_state(const std::string& unit) const;

  // Called (posted) when the connection comes up or goes down.
  void set_connection_handler(ConnectionHandler handler) { on_connection_ = std::move(handler); }

  bool connected() const { return bus_.connected(); }
  // The latest reason something failed: connection, subscription, watch.
  const std::string& last_error() const { return bus_.last_error(); }
  std::uint64_t connect_attempts() const { return bus_.attempts(); }
  const UnitManagerOptions& options() const { return options_; }

 private:
  struct Job {
    JobVerb verb = JobVerb::start;
    std::string unit;
    JobHandler handler;
    std::unique_ptr<boost::asio::steady_timer> timer;
    sdbus::PendingAsyncCall call;
    std::string path;
    Clock::time_point started;
  };

  struct Watched {
    std::string path;  // from LoadUnit; empty until known on this connection
    sdbus::Slot match;
    std::optional<UnitState> state;
    std::uint64_t generation = 0;  // the connection `match` and `path` belong to
    bool resolving = false;
  };

  using PropertyMap = std::map<std::string, sdbus::Variant>;

  // Connection life.
  void on_setup(sdbus::IConnection& connection);
  void on_drop(const std::string& reason, bool was_up);
  void subscribe();
  void on_name_owner_changed(sdbus::Message& message);
  void notify_connection(bool up);

  // Jobs.
  void on_job_queued(std::uint64_t id, sdbus::MethodReply& reply, const sdbus::Error* error);
  void on_job_removed(sdbus::Message& message);
  void on_job_timeout(std::uint64_t id);
  void finish_job(std::uint64_t id, JobStatus status, std::string result, std::optional<Error> error,
                  std::string note = {});
  void fail_all_jobs(const Error& error);

  // Reads.
  void load_unit(const std::string& unit, std::function<void(Result<std::string>)> then);
  void get_all(const std::string& path, const std::string& interface, const std::string& unit,
               std::function<void(Result<PropertyMap>)> then);
  void fetch_state(const std::string& unit, const std::string& path, std::function<void(Result<UnitState>)> then);
  sdbus::IProxy& unit_proxy(const std::string& path);

  // Watches.
  void resolve_watch(const std::string& unit);
  void after_watch_load(const std::string& unit, std::uint64_t generation, Result<std::string> path);
  void after_watch_read(const std::string& unit, std::uint64_t generation, Result<UnitState> state);
  void watch_failed(Watched& watched, const std::string& unit, const std::string& why);
  void on_properties_changed(sdbus::Message& message);
  void update_watched(const std::string& unit, const UnitState& state, bool report_always);
  void retry_watches_later();

  void post(std::function<void()> fn);

  boost::asio::io_context& io_;
  UnitManagerOptions options_;
  // Declared before everything that refers to its connection, so destroyed after it.
  BusConnection bus_;

  sdbus::IConnection* connection_ = nullptr;  // bus_'s current connection, once set up
  std::unique_ptr<sdbus::IProxy> manager_;
  std::map<std::string, std::unique_ptr<sdbus::IProxy>> unit_proxies_;  // by object path
  std::vector<sdbus::Slot> matches_;  // JobRemoved, NameOwnerChanged: one connection's

  std::uint64_t next_job_id_ = 1;
  std::map<std::uint64_t, Job> jobs_;
  JobMatcher matcher_;

  std::map<std::string, Watched> watched_;        // by unit name
  std::map<std::string, std::string> unit_by_path_;
  ChangeHandler on_change_;
  ConnectionHandler on_connection_;
  // A watch whose LoadUnit, AddMatch or read failed on a working connection is
  // tried again after reconnect_max (a lost connection retries everything anyway).
  boost::asio::steady_timer watch_retry_;
  bool watch_retry_armed_ = false;

  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace hasup::systemd
