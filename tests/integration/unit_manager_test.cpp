// The systemd unit manager against a real systemd 252 (PID 1 of its own
// namespaces, one node per test, see tests/testbed/systemd_node.hpp), and
// against a private dbus-daemon with no systemd on it (no systemd, access
// denied, the bus killed and restarted).
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <sdbus-c++/sdbus-c++.h>
#include <string>
#include <thread>
#include <vector>

#include "components/systemd/unit_manager.hpp"
#include "tests/testbed/private_bus.hpp"
#include "tests/testbed/systemd_node.hpp"

namespace hasup::systemd {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testbed::PrivateBus;
using testbed::SystemdNode;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

// Runs the io_context until `done` holds or the time is up.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  io.restart();
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    io.run_one_for(10ms);
    if (io.stopped()) {  // no work queued at all: do not spin
      io.restart();
      std::this_thread::sleep_for(2ms);
    }
  }
  return true;
}

void run_for(boost::asio::io_context& io, milliseconds duration) {
  run_until(io, [] { return false; }, duration);
}

Error no_answer() {
  Error e;
  e.message = "no answer (test)";
  return e;
}

// Every handler given to the manager in a test, to prove each ran exactly once.
struct Calls {
  std::vector<JobOutcome> outcomes;
};

class ManagerHarness {
 protected:
  JobOutcome job(UnitManager& manager, JobVerb verb, const std::string& unit, milliseconds timeout = 15s) {
    auto calls = std::make_shared<Calls>();
    all_calls_.push_back(calls);
    manager.run_job(verb, unit, [calls](JobOutcome o) { calls->outcomes.push_back(std::move(o)); });
    bool answered = run_until(io_, [&calls] { return !calls->outcomes.empty(); }, timeout);
    EXPECT_TRUE(answered) << to_string(verb) << " " << unit << ": no outcome within " << timeout.count() << " ms";
    if (answered) return calls->outcomes.front();
    JobOutcome none;
    none.verb = verb;
    none.unit = unit;
    none.error = no_answer();
    return none;
  }

  Result<UnitState> read(UnitManager& manager, const std::string& unit) {
    auto out = std::make_shared<std::optional<Result<UnitState>>>();
    manager.read_state(unit, [out](Result<UnitState> r) { out->emplace(std::move(r)); });
    bool answered = run_until(io_, [&out] { return out->has_value(); }, 10s);
    EXPECT_TRUE(answered) << "read_state(" << unit << "): no answer";
    return answered ? **out : Result<UnitState>(no_answer());
  }

  // Late answers (a timed-out job ending, a reply after an error) must not call
  // a handler a second time.
  void expect_each_handler_called_once() {
    run_for(io_, 100ms);
    for (const auto& calls : all_calls_)
      EXPECT_EQ(calls->outcomes.size(), 1u)
          << (calls->outcomes.empty() ? std::string("never called") : calls->outcomes.front().to_string());
  }

  boost::asio::io_context io_;
  std::vector<std::shared_ptr<Calls>> all_calls_;
};

// ---- against a real systemd --------------------------------------------------

class UnitManagerTest : public ::testing::Test, public ManagerHarness {
 protected:
  void SetUp() override {
    auto why = SystemdNode::unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << "no systemd node here: " << why;
    node_ = std::make_unique<SystemdNode>("sdnode");
    const std::string dir = node_->dir();
    node_->add_unit("sleeper.service", "[Service]\nExecStart=/bin/sleep infinity\n");
    node_->add_unit("idle.service", "[Service]\nExecStart=/bin/sleep infinity\n");
    node_->add_unit("failing.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n");
    node_->add_unit("restarting.service",
                    "[Service]\nExecStart=/bin/sleep infinity\nRestart=on-failure\nRestartSec=100ms\n");
    node_->add_unit("slow.service", "[Service]\nExecStartPre=/bin/sleep 1.5\nExecStart=/bin/sleep infinity\n");
    node_->add_unit("reloadable.service", "[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/sh -c 'echo reloaded >>" +
                                              dir + "/reloads'\n");
    auto started = steady_clock::now();
    node_->boot();
    boot_time_ = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
    manager_ = make_manager();
  }

  void TearDown() override {
    if (manager_) expect_each_handler_called_once();
    manager_.reset();
    node_.reset();
  }

  std::unique_ptr<UnitManager> make_manager(milliseconds job_timeout = 15s) {
    UnitManagerOptions options;
    options.bus_address = node_->bus_address();
    options.job_timeout = job_timeout;
    auto manager = std::make_unique<UnitManager>(io_, options);
    manager->connect();
    EXPECT_TRUE(run_until(io_, [&manager] { return manager->connected(); }, 5s)) << manager->last_error();
    return manager;
  }

  // What systemctl inside the node says, independent of the manager.
  std::string systemctl_is_active(const std::string& unit) {
    std::string out;
    node_->exec({"/bin/systemctl", "is-active", unit}, &out);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  std::unique_ptr<SystemdNode> node_;
  std::unique_ptr<UnitManager> manager_;
  milliseconds boot_time_{0};
};

TEST_F(UnitManagerTest, StartMakesAServiceActiveAndRunning) {
  auto outcome = job(*manager_, JobVerb::start, "sleeper.service");
  EXPECT_EQ(outcome.status, JobStatus::done) << outcome.to_string();
  EXPECT_EQ(outcome.result, "done");
  EXPECT_TRUE(contains(outcome.job, "/org/freedesktop/systemd1/job/"));

  auto state = read(*manager_, "sleeper.service");
  ASSERT_TRUE(state.ok()) << state.error().to_string();
  EXPECT_EQ(state.value().load_state, "loaded");
  EXPECT_EQ(state.value().active_state, "active");
  EXPECT_EQ(state.value().sub_state, "running");
  EXPECT_GT(state.value().main_pid, 0u);
  EXPECT_EQ(systemctl_is_active("sleeper.service"), "active");

  // Nothing left to do: systemd may send JobRemoved before the reply.
  auto again = job(*manager_, JobVerb::start, "sleeper.service");
  EXPECT_EQ(again.status, JobStatus::done) << again.to_string();
  std::printf("node booted in %lld ms\n", static_cast<long long>(boot_time_.count()));
}

TEST_F(UnitManagerTest, StopMakesItInactive) {
  ASSERT_TRUE(job(*manager_, JobVerb::start, "sleeper.service").ok());
  auto outcome = job(*manager_, JobVerb::stop, "sleeper.service");
  EXPECT_EQ(outcome.status, JobStatus::done) << outcome.to_string();
  auto state = read(*manager_, "sleeper.service");
  ASSERT_TRUE(state.ok()) << state.error().to_string();
  EXPECT_EQ(state.value().active_state, "inactive");
  EXPECT_EQ(state.value().sub_state, "dead");
  EXPECT_EQ(state.value().main_pid, 0u);
  EXPECT_EQ(systemctl_is_active("sleeper.service"), "inactive");
}

TEST_F(UnitManagerTest, RestartGivesANewMainProcess) {
  ASSERT_TRUE(job(*manager_, JobVerb::start, "sleeper.service").ok());
  auto before = read(*manager_, "sleeper.service");
  ASSERT_TRUE(before.ok());
  auto outcome = job(*manager_, JobVerb::restart, "sleeper.service");
  EXPECT_EQ(outcome.status, JobStatus::done) << outcome.to_string();
  auto after = read(*manager_, "sleeper.service");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after.value().running()) << after.value().to_string();
  EXPECT_NE(after.value().main_pid, 0u);
  EXPECT_NE(after.value().main_pid, before.value().main_pid);
}

TEST_F(UnitManagerTest, ReloadRunsExecReload) {
  ASSERT_TRUE(job(*manager_, JobVerb::start, "reloadable.service").ok());
  auto outcome = job(*manager_, JobVerb::reload, "reloadable.service");
  EXPECT_EQ(outcome.status, JobStatus::done) << outcome.to_string();
  EXPECT_TRUE(contains(testbed::read_file(node_->dir() + "/reloads"), "reloaded"));

  // No ExecReload: systemd refuses the job outright.
  ASSERT_TRUE(job(*manager_, JobVerb::start, "sleeper.service").ok());
  auto refused = job(*manager_, JobVerb::reload, "sleeper.service");
  EXPECT_EQ(refused.status, JobStatus::error) << refused.to_string();
  ASSERT_TRUE(refused.error.has_value());
  EXPECT_EQ(refused.error->kind, Error::Kind::refused) << refused.to_string();
}

// The catch-up rule (supervisor/loop/stale_file.hpp) compares a config
// file's mtime with StateChangeTimestamp: a finished reload must move it, and
// the watch must report that (PropertiesChanged carries it), or the rule
// would ask for the same reload again and again.
TEST_F(UnitManagerTest, AWatchedUnitsStateChangeTimestampMovesWithAReload) {
  ASSERT_TRUE(job(*manager_, JobVerb::start, "reloadable.service").ok());
  auto reports = std::make_shared<std::vector<UnitState>>();
  manager_->watch({"reloadable.service"}, [reports](const UnitState& s) { reports->push_back(s); });
  ASSERT_TRUE(run_until(io_, [&] { return !reports->empty(); }, 5s)) << "the watch never reported the unit";
  const UnitState started = reports->back();
  ASSERT_TRUE(started.running()) << started.to_string();
  const auto now_usec = [] {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  };
  // CLOCK_REALTIME, as file mtimes: within a minute of this process's clock.
  ASSERT_GT(started.state_change_usec, now_usec() - 60'000'000u) << started.to_string();
  ASSERT_LE(started.state_change_usec, now_usec());

  const std::uint64_t before_reload = now_usec();
  ASSERT_TRUE(job(*manager_, JobVerb::reload, "reloadable.service").ok());
  ASSERT_TRUE(run_until(io_,
                        [&] {
                          auto w = manager_->watched_state("reloadable.service");
                          return w && w->active_state == "active" && w->state_change_usec > before_reload;
                        },
                        5s))
      << "the reload's end was not reported with a newer StateChangeTimestamp";
}

TEST_F(UnitManagerTest, StartOfAUnitWhoseExecStartFailsIsFailed) {
  auto outcome = job(*manager_, JobVerb::start, "failing.service");
  EXPECT_EQ(outcome.status, JobStatus::failed) << outcome.to_string();
  EXPECT_EQ(outcome.result, "failed");
  auto state = read(*manager_, "failing.service");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state.value().active_state, "failed");
}

TEST_F(UnitManagerTest, UnknownUnitIsNotFound) {
  for (auto verb : {JobVerb::start, JobVerb::stop}) {
    auto outcome = job(*manager_, verb, "no-such.service");
    EXPECT_EQ(outcome.status, JobStatus::error) << outcome.to_string();
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, Error::Kind::not_found) << outcome.to_string();
    EXPECT_EQ(outcome.error->message, "unit no-such.service not found");
    EXPECT_EQ(outcome.error->name, "org.freedesktop.systemd1.NoSuchUnit");
  }
}

TEST_F(UnitManagerTest, JobLongerThanTheTimeoutEndsInTimeoutOnlyOnce) {
  auto hasty = make_manager(500ms);
  auto calls = std::make_shared<Calls>();
  all_calls_.push_back(calls);
  auto sent = steady_clock::now();
  hasty->start("slow.service", [calls](JobOutcome o) { calls->outcomes.push_back(std::move(o)); });
  ASSERT_TRUE(run_until(io_, [&] { return !calls->outcomes.empty(); }, 5s));
  auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - sent);
  const JobOutcome& outcome = calls->outcomes.front();
  EXPECT_EQ(outcome.status, JobStatus::timeout) << outcome.to_string();
  EXPECT_TRUE(contains(outcome.note, "left to systemd"));
  EXPECT_GE(waited, 500ms);
  EXPECT_LT(waited, 1400ms) << "the timeout must fire before the job (1.5 s) ends";

  // The job goes on in systemd and ends; its JobRemoved must not call the handler again.
  bool active = run_until(
      io_,
      [&] {
        auto state = read(*hasty, "slow.service");
        return state.ok() && state.value().active();
      },
      5s);
  EXPECT_TRUE(active) << "slow.service never became active";
  run_for(io_, 200ms);
  EXPECT_EQ(calls->outcomes.size(), 1u);
}

TEST_F(UnitManagerTest, WatchReportsARestartAfterTheMainProcessIsKilled) {
  ASSERT_TRUE(job(*manager_, JobVerb::start, "restarting.service").ok());
  auto reports_seen = std::make_shared<std::vector<UnitState>>();
  auto& reports = *reports_seen;
  manager_->watch({"restarting.service"}, [reports_seen](const UnitState& s) { reports_seen->push_back(s); });
  ASSERT_TRUE(run_until(io_, [&] { return !reports.empty(); }, 5s)) << "the watch never reported the unit";
  const UnitState first = reports.back();
  ASSERT_TRUE(first.running()) << first.to_string();
  ASSERT_GT(first.main_pid, 0u);
  ASSERT_EQ(manager_->watched_state("restarting.service"), first);

  // MainPID is a PID of the node's namespace: translate it, checked, before kill(2).
  pid_t host = node_->host_pid(static_cast<pid_t>(first.main_pid));
  ASSERT_GT(host, 0) << "main pid " << first.main_pid << " not found in the node";
  // Type=simple counts as started at fork: the exec of sleep may still be under way.
  ASSERT_TRUE(testbed::wait_until(
      [host] { return contains(testbed::read_file("/proc/" + std::to_string(host) + "/cmdline"), "sleep"); }, 2s))
      << "pid " << host << " is not the unit's sleep";
  reports.clear();
  ASSERT_EQ(::kill(host, SIGKILL), 0);

  auto restarted = [&] {
    for (const auto& s : reports)
      if (s.n_restarts == first.n_restarts + 1 && s.running() && s.main_pid != 0 && s.main_pid != first.main_pid)
        return true;
    return false;
  };
  ASSERT_TRUE(run_until(io_, restarted, 5s)) << "no report of the restart; last: "
                                             << (reports.empty() ? "none" : reports.back().to_string());
  // The way there was reported too (auto-restart / activating), not just the end.
  bool saw_not_running = false;
  for (const auto& s : reports) saw_not_running = saw_not_running || !s.running();
  EXPECT_TRUE(saw_not_running);
}

TEST_F(UnitManagerTest, LoadUnitReadsAStoppedNeverStartedUnit) {
  auto state = read(*manager_, "idle.service");
  ASSERT_TRUE(state.ok()) << state.error().to_string();
  EXPECT_EQ(state.value().name, "idle.service");
  EXPECT_EQ(state.value().load_state, "loaded");
  EXPECT_EQ(state.value().active_state, "inactive");
  EXPECT_EQ(state.value().sub_state, "dead");
  EXPECT_EQ(state.value().main_pid, 0u);
  EXPECT_EQ(state.value().n_restarts, 0u);

  auto missing = read(*manager_, "no-such.service");
  ASSERT_TRUE(missing.ok()) << missing.error().to_string();
  EXPECT_EQ(missing.value().load_state, "not-found");
  EXPECT_FALSE(missing.value().exists());
}

// The node's dbus-daemon is killed; systemd's dbus.socket still listens, so the
// manager's next attempt socket-activates a new one, and systemd rejoins it.
TEST_F(UnitManagerTest, WatchSurvivesARestartOfTheNodesSystemBus) {
  ASSERT_TRUE(job(*manager_, JobVerb::start, "sleeper.service").ok());
  // Shared: the handlers may still run in TearDown, after this body's locals are gone.
  auto links_seen = std::make_shared<std::vector<bool>>();
  auto& links = *links_seen;
  manager_->set_connection_handler([links_seen](bool up) { links_seen->push_back(up); });
  auto reports_seen = std::make_shared<std::vector<UnitState>>();
  auto& reports = *reports_seen;
  manager_->watch({"sleeper.service"}, [reports_seen](const UnitState& s) { reports_seen->push_back(s); });
  ASSERT_TRUE(run_until(io_, [&] { return !reports.empty(); }, 5s));

  auto dbus = read(*manager_, "dbus.service");
  ASSERT_TRUE(dbus.ok() && dbus.value().main_pid > 0);
  pid_t host = node_->host_pid(static_cast<pid_t>(dbus.value().main_pid));
  ASSERT_GT(host, 0);
  ASSERT_TRUE(contains(testbed::read_file("/proc/" + std::to_string(host) + "/cmdline"), "dbus-daemon"));
  reports.clear();
  ASSERT_EQ(::kill(host, SIGKILL), 0);

  ASSERT_TRUE(run_until(io_, [&] { return !manager_->connected(); }, 2s)) << "the loss went unnoticed";
  ASSERT_TRUE(run_until(io_, [&] { return manager_->connected() && !reports.empty(); }, 8s))
      << "not back with a fresh read: " << manager_->last_error();
  EXPECT_TRUE(reports.back().running()) << reports.back().to_string();
  ASSERT_GE(links.size(), 2u);
  EXPECT_FALSE(links[0]);
  EXPECT_TRUE(links[1]);

  // Jobs work again on the new connection (subscribed again: JobRemoved arrives).
  auto outcome = job(*manager_, JobVerb::stop, "sleeper.service");
  EXPECT_EQ(outcome.status, JobStatus::done) << outcome.to_string();
  ASSERT_TRUE(run_until(io_, [&] { return !reports.back().active(); }, 3s));
}

// ---- against a private bus without systemd -----------------------------------

// Owns org.freedesktop.systemd1 on a private bus and never answers.
class SilentSystemd {
 public:
  explicit SilentSystemd(const std::string& address)
      : connection_(sdbus::createSessionBusConnectionWithAddress(address)) {
    connection_->requestName("org.freedesktop.systemd1");
  }

 private:
  std::unique_ptr<sdbus::IConnection> connection_;
};

class UnitManagerBusTest : public ::testing::Test, public ManagerHarness {
 protected:
  void SetUp() override {
    auto why = PrivateBus::unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << why;
  }
  void TearDown() override {
    if (manager_) expect_each_handler_called_once();
    manager_.reset();
  }

  std::unique_ptr<UnitManager> make_manager(const std::string& address) {
    UnitManagerOptions options;
    options.bus_address = address;
    options.call_timeout = 20s;
    options.job_timeout = 20s;
    options.reconnect_initial = 100ms;
    options.reconnect_max = 2s;
    auto manager = std::make_unique<UnitManager>(io_, options);
    manager->connect();
    run_until(io_, [&manager] { return manager->connected(); }, 5s);
    return manager;
  }

  std::unique_ptr<UnitManager> manager_;
};

TEST_F(UnitManagerBusTest, CallsFailClearlyWhenSystemdIsNotOnTheBus) {
  PrivateBus bus;
  bus.start();
  manager_ = make_manager(bus.address());
  ASSERT_TRUE(manager_->connected()) << manager_->last_error();
  auto outcome = job(*manager_, JobVerb::start, "web.service");
  ASSERT_TRUE(outcome.error.has_value()) << outcome.to_string();
  EXPECT_EQ(outcome.error->kind, Error::Kind::no_systemd) << outcome.to_string();
  EXPECT_EQ(outcome.error->name, "org.freedesktop.DBus.Error.ServiceUnknown");
  EXPECT_TRUE(contains(outcome.to_string(), "systemd is not on the bus"));

  auto state = read(*manager_, "web.service");
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().kind, Error::Kind::no_systemd);
  EXPECT_TRUE(contains(manager_->last_error(), "Subscribe"));
}

TEST_F(UnitManagerBusTest, DenyingPolicyGivesAccessDenied) {
  PrivateBus bus(PrivateBus::Policy::deny_systemd);
  bus.start();
  SilentSystemd systemd(bus.address());  // so the call reaches the policy check
  manager_ = make_manager(bus.address());
  ASSERT_TRUE(manager_->connected()) << manager_->last_error();
  auto outcome = job(*manager_, JobVerb::start, "web.service", 5s);
  ASSERT_TRUE(outcome.error.has_value()) << outcome.to_string();
  EXPECT_EQ(outcome.error->kind, Error::Kind::access_denied) << outcome.to_string();
  EXPECT_EQ(outcome.error->name, "org.freedesktop.DBus.Error.AccessDenied");
  EXPECT_TRUE(contains(outcome.to_string(), "access denied"));
}

TEST_F(UnitManagerBusTest, BusLossFailsPendingJobsThenReconnectsWithBackoff) {
  PrivateBus bus;
  bus.start();
  auto systemd = std::make_unique<SilentSystemd>(bus.address());
  manager_ = make_manager(bus.address());
  ASSERT_TRUE(manager_->connected()) << manager_->last_error();
  // Shared: the handlers may still run in TearDown, after this body's locals are gone.
  auto links_seen = std::make_shared<std::vector<bool>>();
  auto& links = *links_seen;
  manager_->set_connection_handler([links_seen](bool up) { links_seen->push_back(up); });

  auto calls = std::make_shared<Calls>();
  all_calls_.push_back(calls);
  manager_->start("web.service", [calls](JobOutcome o) { calls->outcomes.push_back(std::move(o)); });
  run_for(io_, 200ms);
  ASSERT_TRUE(calls->outcomes.empty()) << "the silent systemd cannot have answered";

  bus.kill();
  ASSERT_TRUE(run_until(io_, [&] { return !calls->outcomes.empty(); }, 2s)) << "the pending job was not failed";
  const JobOutcome& outcome = calls->outcomes.front();
  ASSERT_TRUE(outcome.error.has_value()) << outcome.to_string();
  EXPECT_EQ(outcome.error->kind, Error::Kind::bus_lost) << outcome.to_string();
  EXPECT_TRUE(contains(outcome.to_string(), "bus connection lost"));
  EXPECT_FALSE(manager_->connected());
  systemd.reset();

  // While the bus is down (its socket first refuses, then is gone): a few
  // attempts, spaced out, not a storm.
  auto attempts_before = manager_->connect_attempts();
  run_for(io_, 1s);
  EXPECT_TRUE(contains(manager_->last_error(), "refused"));
  bus.remove_socket();
  run_for(io_, 2s);
  EXPECT_TRUE(contains(manager_->last_error(), "No such file"));
  auto attempts = manager_->connect_attempts() - attempts_before;
  EXPECT_GE(attempts, 3u) << "it must keep trying";
  EXPECT_LE(attempts, 8u) << "backoff, not a retry storm";
  EXPECT_FALSE(manager_->connected());
  EXPECT_FALSE(manager_->last_error().empty());
  auto refused = job(*manager_, JobVerb::start, "web.service");
  ASSERT_TRUE(refused.error.has_value());
  EXPECT_EQ(refused.error->kind, Error::Kind::not_connected) << refused.to_string();

  // Back: reconnected by itself within the longest backoff step.
  bus.start();
  auto restarted = steady_clock::now();
  ASSERT_TRUE(run_until(io_, [&] { return manager_->connected(); }, 2500ms))
      << "not reconnected within reconnect_max: " << manager_->last_error();
  std::printf("reconnected %lld ms after the bus came back; %llu attempts in 3 s while down\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(steady_clock::now() - restarted).count()),
              static_cast<unsigned long long>(attempts));
  run_for(io_, 50ms);
  // Up (the first connection, reported after the handler was set), down, up.
  EXPECT_EQ(links, (std::vector<bool>{true, false, true}));
  // And it talks on the new connection.
  auto after = job(*manager_, JobVerb::start, "web.service");
  ASSERT_TRUE(after.error.has_value());
  EXPECT_EQ(after.error->kind, Error::Kind::no_systemd) << after.to_string();
}

// dbus-daemon stopped (SIGSTOP): connect() succeeds in the kernel, the
// handshake never ends. sd-bus alone would block for its auth timeout (over 40 s
// measured here); the loop must not.
TEST_F(UnitManagerBusTest, AFrozenBrokerNeverBlocksTheLoop) {
  PrivateBus bus;
  bus.start();
  bus.freeze();
  UnitManagerOptions options;
  options.bus_address = bus.address();
  options.connect_timeout = 300ms;
  options.reconnect_initial = 100ms;
  options.reconnect_max = 1s;
  manager_ = std::make_unique<UnitManager>(io_, options);

  auto started = steady_clock::now();
  manager_->connect();
  EXPECT_LT(steady_clock::now() - started, 100ms) << "connect() waited for the broker";
  boost::asio::steady_timer tick(io_, 50ms);
  std::optional<steady_clock::time_point> ticked;
  tick.async_wait([&ticked](boost::system::error_code) { ticked = steady_clock::now(); });
  ASSERT_TRUE(run_until(io_, [&] { return ticked.has_value(); }, 1s));
  EXPECT_LT(*ticked - started, 250ms) << "the io_context was blocked";

  ASSERT_TRUE(run_until(io_, [&] { return contains(manager_->last_error(), "no answer from the broker"); }, 2s))
      << manager_->last_error();
  EXPECT_FALSE(manager_->connected());
  auto outcome = job(*manager_, JobVerb::start, "web.service", 1s);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, Error::Kind::not_connected) << outcome.to_string();

  bus.thaw();
  ASSERT_TRUE(run_until(io_, [&] { return manager_->connected(); }, 3s)) << manager_->last_error();
}

}  // namespace
}  // namespace hasup::systemd
