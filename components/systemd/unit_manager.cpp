#include "components/systemd/unit_manager.hpp"

#include <boost/asio/post.hpp>
#include <functional>
#include <sdbus-c++/Error.h>
#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/Message.h>
#include <sdbus-c++/Types.h>
#include <set>
#include <type_traits>
#include <spdlog/spdlog.h>

namespace hasup::systemd {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
constexpr const char* kPropertiesInterface = "org.freedesktop.DBus.Properties";

// The broker resolves a well-known sender to its current owner, so these keep
// working when systemd re-executes and comes back under a new unique name.
const std::string kJobRemovedRule =
    "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
    "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'";
const std::string kOwnerRule =
    "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
    "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.freedesktop.systemd1'";

std::string properties_rule(const std::string& path) {
  return "type='signal',sender='org.freedesktop.systemd1',path='" + path +
         "',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'";
}

std::chrono::microseconds usec(milliseconds ms) { return std::chrono::duration_cast<std::chrono::microseconds>(ms); }

milliseconds since(UnitManager::Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(UnitManager::Clock::now() - t);
}

Error error_from(const sdbus::Error& e, const std::string& unit) {
  return classify_error(e.getName(), e.getMessage(), unit);
}

Error not_connected(const std::string& last_error) {
  return Error{Error::Kind::not_connected, "not connected to the bus", "", last_error};
}

Error bad_reply(const std::string& what, const sdbus::Error& e) {
  return Error{Error::Kind::bad_reply, "unreadable reply to " + what, e.getName(), e.getMessage()};
}

// sd-bus calls these from C. sdbus-c++ 1.2 swallows sdbus::Error escaping a
// reply handler and nothing at all escaping a match handler: anything else
// would take the daemon down. Each handler still turns the errors it expects
// into outcomes itself; this is the last resort, and it logs.
template <class Fn>
auto guarded(const char* what, Fn fn) {
  return [what, fn = std::move(fn)](auto&&... args) {
    try {
      fn(args...);
    } catch (const std::exception& e) {
      spdlog::error("systemd: handling {} failed: {}", what, e.what());
    } catch (...) {
      spdlog::error("systemd: handling {} failed", what);
    }
  };
}

// Copies the followed properties present in `props` (one interface's worth,
// from GetAll or PropertiesChanged) into `state`. Throws sdbus::Error on a
// property of an unexpected type.
void apply_properties(UnitState& state, const std::string& interface, const std::map<std::string, sdbus::Variant>& props) {
  auto text = [&props](const char* key, std::string& out) {
    if (auto it = props.find(key); it != props.end()) out = it->second.get<std::string>();
  };
  auto number = [&props](const char* key, auto& out) {
    if (auto it = props.find(key); it != props.end()) out = it->second.get<std::remove_reference_t<decltype(out)>>();
  };
  if (interface == kUnitInterface) {
    text("LoadState", state.load_state);
    text("ActiveState", state.active_state);
    text("SubState", state.sub_state);
    number("StateChangeTimestamp", state.state_change_usec);
  } else if (interface == kServiceInterface) {
    number("NRestarts", state.n_restarts);
    number("MainPID", state.main_pid);
  }
}

bool followed(const std::string& property) {
  static const std::set<std::string> names = {"LoadState", "ActiveState", "SubState", "StateChangeTimestamp",
                                              "NRestarts", "MainPID"};
  return names.count(property) > 0;
}

}  // namespace

UnitManager::UnitManager(asio::io_context& io, UnitManagerOptions options)
    : io_(io),
      options_(std::move(options)),
      bus_(io,
           BusOptions{options_.bus_address, options_.connect_timeout, options_.setup_call_timeout,
                      options_.reconnect_initial, options_.reconnect_max},
           [this](sdbus::IConnection& c) { on_setup(c); },
           [this](const std::string& reason, bool was_up) { on_drop(reason, was_up); }),
      watch_retry_(io) {}

UnitManager::~UnitManager() {
  // Proxies and match slots must go before the connection (bus_ is destroyed
  // last, being declared first); pending calls die with their proxies.
  jobs_.clear();
  watched_.clear();
  matches_.clear();
  unit_proxies_.clear();
  manager_.reset();
}

void UnitManager::connect() { bus_.connect(); }

void UnitManager::post(std::function<void()> fn) {
  asio::post(io_, [alive = std::weak_ptr<int>(alive_), fn = std::move(fn)] {
    if (!alive.expired()) fn();
  });
}

// ---- connection life -------------------------------------------------------

void UnitManager::on_setup(sdbus::IConnection& connection) {
  connection_ = &connection;
  manager_ = sdbus::createProxy(connection, kService, kManagerPath);
  // Both matches are in place before any job is sent on this connection.
  matches_.push_back(connection.addMatch(
      kJobRemovedRule, guarded("JobRemoved", [this](sdbus::Message& m) { on_job_removed(m); })));
  matches_.push_back(connection.addMatch(
      kOwnerRule, guarded("NameOwnerChanged", [this](sdbus::Message& m) { on_name_owner_changed(m); })));
  matcher_.clear();
  subscribe();
  for (auto& [name, watched] : watched_) resolve_watch(name);
  notify_connection(true);
}

void UnitManager::on_drop(const std::string& reason, bool was_up) {
  // Nothing sent on this connection can be answered any more.
  fail_all_jobs(Error{Error::Kind::bus_lost, "bus connection lost", "", reason});
  for (auto& [name, watched] : watched_) {
    watched.match.reset();
    watched.path.clear();
    watched.resolving = false;
  }
  unit_by_path_.clear();
  matches_.clear();
  unit_proxies_.clear();
  manager_.reset();
  connection_ = nullptr;
  matcher_.clear();
  if (was_up) notify_connection(false);
}

void UnitManager::notify_connection(bool up) {
  post([this, up] {
    if (on_connection_) on_connection_(up);
  });
}

// systemd sends JobRemoved and PropertiesChanged only while at least one bus
// client is subscribed; it tracks us by our unique name, so once per connection
// (and again when systemd itself comes back under a new name).
void UnitManager::subscribe() {
  if (!manager_) return;
  auto gen = bus_.generation();
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "Subscribe");
    manager_->callMethod(
        call,
        guarded("Subscribe reply",
                [this, gen](sdbus::MethodReply&, const sdbus::Error* error) {
                  if (gen != bus_.generation()) return;
                  if (error && error->getName() != "org.freedesktop.systemd1.AlreadySubscribed") {
                    Error e = error_from(*error, "");
                    bus_.set_last_error("Subscribe: " + e.to_string());
                    spdlog::warn("systemd: Subscribe failed: {}", e.to_string());
                    return;
                  }
                  spdlog::debug("systemd: subscribed to job and unit signals");
                }),
        usec(options_.call_timeout));
    bus_.kick();
  } catch (const sdbus::Error& e) {
    bus_.set_last_error("Subscribe: " + error_from(e, "").to_string());
    spdlog::warn("systemd: Subscribe not sent: {}", e.what());
  }
}

void UnitManager::on_name_owner_changed(sdbus::Message& message) {
  std::string name, old_owner, new_owner;
  try {
    message >> name >> old_owner >> new_owner;
  } catch (const sdbus::Error& e) {
    spdlog::warn("systemd: unreadable NameOwnerChanged: {}", e.what());
    return;
  }
  if (name != kService) return;
  matcher_.clear();
  if (new_owner.empty()) {
    spdlog::warn("systemd left the bus (was {})", old_owner);
    fail_all_jobs(Error{Error::Kind::no_systemd, "systemd left the bus", "", ""});
    return;
  }
  // A new systemd (re-executed, or started after us): subscribe again and read
  // everything watched afresh, its state may have moved meanwhile.
  spdlog::info("systemd is on the bus as {}", new_owner);
  subscribe();
  for (auto& [unit, watched] : watched_) resolve_watch(unit);
}

// ---- jobs ------------------------------------------------------------------

void UnitManager::run_job(JobVerb verb, const std::string& unit, JobHandler done) {
  auto id = next_job_id_++;
  Job& job = jobs_[id];
  job.verb = verb;
  job.unit = unit;
  job.handler = std::move(done);
  job.started = Clock::now();
  if (!manager_) return finish_job(id, JobStatus::error, {}, not_connected(bus_.last_error()));

  job.timer = std::make_unique<asio::steady_timer>(io_, options_.job_timeout);
  job.timer->async_wait([this, id, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    on_job_timeout(id);
  });
  try {
    auto call = manager_->createMethodCall(kManagerInterface, manager_method(verb));
    // "replace": this request wins over a conflicting job queued for the unit
    // (that one ends as canceled); the decision was made by the loop, on purpose.
    call << unit << std::string("replace");
    job.call = manager_->callMethod(
        call,
        guarded("job reply",
                [this, id](sdbus::MethodReply& reply, const sdbus::Error* error) { on_job_queued(id, reply, error); }),
        usec(options_.call_timeout));
  } catch (const sdbus::Error& e) {
    Error error = error_from(e, unit);
    finish_job(id, JobStatus::error, {}, error);
    if (error.kind == Error::Kind::bus_lost) bus_.lost(e.getMessage());
    return;
  }
  spdlog::debug("systemd: {} {} requested", to_string(verb), unit);
  bus_.kick();
}

void UnitManager::on_job_queued(std::uint64_t id, sdbus::MethodReply& reply, const sdbus::Error* error) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;  // timed out, or failed with the connection
  Job& job = it->second;
  // This call is over: never cancel it from inside its own reply handler.
  job.call = {};
  if (error) return finish_job(id, JobStatus::error, {}, error_from(*error, job.unit));
  sdbus::ObjectPath path;
  try {
    reply >> path;
  } catch (const sdbus::Error& e) {
    return finish_job(id, JobStatus::error, {}, bad_reply(manager_method(job.verb), e));
  }
  job.path = path;
  spdlog::debug("systemd: {} {}: job {} queued", to_string(job.verb), job.unit, job.path);
  if (auto result = matcher_.queued(id, job.path, Clock::now())) {
    spdlog::debug("systemd: job {} had already ended ({}) when its reply came", job.path, *result);
    finish_job(id, job_status_from_result(*result), *result, std::nullopt);
  }
}

void UnitManager::on_job_removed(sdbus::Message& message) {
  std::uint32_t job_id = 0;
  sdbus::ObjectPath path;
  std::string unit, result;
  try {
    message >> job_id >> path >> unit >> result;
  } catch (const sdbus::Error& e) {
    spdlog::warn("systemd: unreadable JobRemoved: {}", e.what());
    return;
  }
  for (auto id : matcher_.removed(path, result, Clock::now()))
    finish_job(id, job_status_from_result(result), result, std::nullopt);
}

void UnitManager::on_job_timeout(std::uint64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  std::string note =
      job.path.empty()
          ? "no answer to " + std::string(manager_method(job.verb)) + " within " +
                std::to_string(options_.job_timeout.count()) + " ms"
          : "not finished within " + std::to_string(options_.job_timeout.count()) + " ms; job " + job.path +
                " is left to systemd";
  // A late reply is no longer wanted; a late JobRemoved matches nobody (the
  // matcher forgets this request), so the handler runs exactly once.
  job.call.cancel();
  finish_job(id, JobStatus::timeout, {}, std::nullopt, note);
}

void UnitManager::finish_job(std::uint64_t id, JobStatus status, std::string result, std::optional<Error> error,
                             std::string note) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job job = std::move(it->second);
  jobs_.erase(it);
  matcher_.forget(id);
  if (job.timer) job.timer->cancel();

  JobOutcome outcome;
  outcome.verb = job.verb;
  outcome.unit = job.unit;
  outcome.status = status;
  outcome.job = job.path;
  outcome.result = std::move(result);
  outcome.error = std::move(error);
  outcome.note = std::move(note);
  outcome.elapsed = since(job.started);
  if (outcome.ok())
    spdlog::info("systemd: {}", outcome.to_string());
  else
    spdlog::warn("systemd: {}", outcome.to_string());

  post([handler = std::move(job.handler), outcome = std::move(outcome)]() mutable {
    if (handler) handler(std::move(outcome));
  });
}

void UnitManager::fail_all_jobs(const Error& error) {
  std::vector<std::uint64_t> ids;
  for (auto& [id, job] : jobs_) ids.push_back(id);
  for (auto id : ids) {
    // Not inside any of these calls' handlers here: cancelling is safe.
    jobs_[id].call.cancel();
    finish_job(id, JobStatus::error, {}, error);
  }
}

// ---- reads -----------------------------------------------------------------

sdbus::IProxy& UnitManager::unit_proxy(const std::string& path) {
  auto& proxy = unit_proxies_[path];
  if (!proxy) proxy = sdbus::createProxy(*connection_, kService, path);
  return *proxy;
}

void UnitManager::load_unit(const std::string& unit, std::function<void(Result<std::string>)> then) {
  if (!manager_) return then(not_connected(bus_.last_error()));
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "LoadUnit");
    call << unit;
    manager_->callMethod(call,
                         guarded("LoadUnit reply",
                                 [unit, then](sdbus::MethodReply& reply, const sdbus::Error* error) {
                                   if (error) return then(error_from(*error, unit));
                                   sdbus::ObjectPath path;
                                   try {
                                     reply >> path;
                                   } catch (const sdbus::Error& e) {
                                     return then(bad_reply("LoadUnit", e));
                                   }
                                   then(std::string(path));
                                 }),
                         usec(options_.call_timeout));
    bus_.kick();
  } catch (const sdbus::Error& e) {
    then(error_from(e, unit));
  }
}

void UnitManager::get_all(const std::string& path, const std::string& interface, const std::string& unit,
                          std::function<void(Result<PropertyMap>)> then) {
  if (!connection_) return then(not_connected(bus_.last_error()));
  try {
    auto& proxy = unit_proxy(path);
    auto call = proxy.createMethodCall(kPropertiesInterface, "GetAll");
    call << interface;
    proxy.callMethod(call,
                     guarded("GetAll reply",
                             [unit, then](sdbus::MethodReply& reply, const sdbus::Error* error) {
                               if (error) return then(error_from(*error, unit));
                               PropertyMap props;
                               try {
                                 reply >> props;
                               } catch (const sdbus::Error& e) {
                                 return then(bad_reply("GetAll", e));
                               }
                               then(std::move(props));
                             }),
                     usec(options_.call_timeout));
    bus_.kick();
  } catch (const sdbus::Error& e) {
    then(error_from(e, unit));
  }
}

void UnitManager::fetch_state(const std::string& unit, const std::string& path,
                              std::function<void(Result<UnitState>)> then) {
  get_all(path, kUnitInterface, unit, [this, unit, path, then](Result<PropertyMap> props) {
    if (!props) return then(props.error());
    UnitState state;
    state.name = unit;
    try {
      apply_properties(state, kUnitInterface, props.value());
    } catch (const sdbus::Error& e) {
      return then(bad_reply("GetAll(Unit)", e));
    }
    if (!is_service(unit) || state.load_state == "not-found") return then(state);
    get_all(path, kServiceInterface, unit, [state, then](Result<PropertyMap> service) mutable {
      if (!service) return then(service.error());
      try {
        apply_properties(state, kServiceInterface, service.value());
      } catch (const sdbus::Error& e) {
        return then(bad_reply("GetAll(Service)", e));
      }
      then(state);
    });
  });
}

void UnitManager::read_state(const std::string& unit, StateHandler done) {
  auto reply = [this, done](Result<UnitState> r) {
    post([done, r] {
      if (done) done(r);
    });
  };
  if (!manager_) return reply(not_connected(bus_.last_error()));
  load_unit(unit, [this, unit, reply](Result<std::string> path) {
    if (!path) return reply(path.error());
    fetch_state(unit, path.value(), reply);
  });
}

// ---- watches ---------------------------------------------------------------

void UnitManager::watch(const std::vector<std::string>& units, ChangeHandler on_change) {
  on_change_ = std::move(on_change);
  std::set<std::string> wanted(units.begin(), units.end());
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    if (!it->second.path.empty()) unit_by_path_.erase(it->second.path);
    it = watched_.erase(it);  // its match slot goes with it (RemoveMatch is sent without waiting)
  }
  for (const auto& unit : wanted) {
    if (watched_.count(unit)) continue;
    watched_[unit];
    resolve_watch(unit);
  }
  bus_.kick();
}

std::optional<UnitState> UnitManager::watched_state(const std::string& unit) const {
  auto it = watched_.find(unit);
  if (it == watched_.end()) return std::nullopt;
  return it->second.state;
}

// LoadUnit, then the match on the unit's path, then the full read: a change
// after the read is signalled, one before it is in the read.
void UnitManager::resolve_watch(const std::string& unit) {
  auto it = watched_.find(unit);
  if (it == watched_.end() || !manager_ || it->second.resolving) return;
  it->second.resolving = true;
  load_unit(unit, std::bind_front(&UnitManager::after_watch_load, this, unit, bus_.generation()));
}

void UnitManager::after_watch_load(const std::string& unit, std::uint64_t gen, Result<std::string> path) {
  auto it = watched_.find(unit);
  if (it == watched_.end() || gen != bus_.generation()) return;
  Watched& watched = it->second;
  if (!path) return watch_failed(watched, unit, path.error().to_string());
  if (!watched.match || watched.generation != gen) {
    try {
      // Synchronous in sdbus-c++ 1.2 (AddMatch round trip to the local
      // broker, bounded by setup_call_timeout), once per unit and connection.
      watched.match = connection_->addMatch(
          properties_rule(path.value()),
          guarded("PropertiesChanged", [this](sdbus::Message& m) { on_properties_changed(m); }));
      watched.generation = gen;
    } catch (const sdbus::Error& e) {
      // Not a reason to drop the connection: that could become a reconnect
      // storm on a broker that refuses this one rule.
      return watch_failed(watched, unit, "AddMatch failed: " + e.getMessage());
    }
  }
  if (!watched.path.empty() && watched.path != path.value()) unit_by_path_.erase(watched.path);
  watched.path = path.value();
  unit_by_path_[watched.path] = unit;
  fetch_state(unit, watched.path, std::bind_front(&UnitManager::after_watch_read, this, unit, gen));
}

void UnitManager::after_watch_read(const std::string& unit, std::uint64_t gen, Result<UnitState> state) {
  auto it = watched_.find(unit);
  if (it == watched_.end() || gen != bus_.generation()) return;
  if (!state) return watch_failed(it->second, unit, state.error().to_string());
  it->second.resolving = false;
  update_watched(unit, state.value(), true);
}

void UnitManager::watch_failed(Watched& watched, const std::string& unit, const std::string& why) {
  watched.resolving = false;
  watched.path.clear();  // resolve it all again next time
  bus_.set_last_error("watching " + unit + ": " + why);
  spdlog::warn("systemd: cannot watch {}: {}", unit, why);
  retry_watches_later();
}

void UnitManager::retry_watches_later() {
  if (watch_retry_armed_) return;
  watch_retry_armed_ = true;
  watch_retry_.expires_after(options_.reconnect_max);
  watch_retry_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    watch_retry_armed_ = false;
    for (auto& [unit, watched] : watched_)
      if (watched.path.empty() || !watched.state) resolve_watch(unit);
  });
}

void UnitManager::on_properties_changed(sdbus::Message& message) {
  auto by_path = unit_by_path_.find(message.getPath());
  if (by_path == unit_by_path_.end()) return;
  const std::string unit = by_path->second;
  auto it = watched_.find(unit);
  // Not read yet: the full read under way was answered after this signal was
  // sent, so it carries newer values than this.
  if (it == watched_.end() || !it->second.state) return;
  std::string interface;
  PropertyMap changed;
  std::vector<std::string> invalidated;
  UnitState next = *it->second.state;
  try {
    message >> interface >> changed >> invalidated;
    if (interface != kUnitInterface && interface != kServiceInterface) return;
    apply_properties(next, interface, changed);
  } catch (const sdbus::Error& e) {
    spdlog::warn("systemd: unreadable PropertiesChanged for {}: {}", unit, e.what());
    return;
  }
  update_watched(unit, next, false);
  // A property sent without its value: read the unit again.
  bool reread = false;
  for (const auto& name : invalidated) reread = reread || followed(name);
  if (!reread) return;
  auto gen = bus_.generation();
  fetch_state(unit, it->second.path, [this, unit, gen](Result<UnitState> state) {
    if (!state || gen != bus_.generation() || !watched_.count(unit)) return;
    update_watched(unit, state.value(), false);
  });
}

void UnitManager::update_watched(const std::string& unit, const UnitState& state, bool report_always) {
  auto it = watched_.find(unit);
  if (it == watched_.end()) return;
  bool changed = !it->second.state || *it->second.state != state;
  it->second.state = state;
  if (!changed && !report_always) return;
  spdlog::debug("systemd: {}", state.to_string());
  post([this, state] {
    if (on_change_) on_change_(state);
  });
}

}  // namespace hasup::systemd
