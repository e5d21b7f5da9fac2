#pragma once
// PostgreSQL HA's driver: a blocking watch on the backend's state in Consul,
// parsed into the shared model; the libpq probes of the local endpoint and
// server on their own worker thread; the backend's jobs.
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>

#include "components/postgres/backend.hpp"
#include "supervisor/loop/driver.hpp"

namespace hasup::db {

class DbDriver : public loop::Driver {
 public:
  DbDriver(loop::DriverContext& ctx, std::unique_ptr<DbBackend> backend);
  ~DbDriver() override;

  const char* name() const override { return "db"; }
  std::vector<std::string> units() const override { return backend_->units(); }
  void start() override;
  void stop() override;
  void reload() override;
  void restart_watches() override;
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override { return backend_->act(action, db_); }
  // The way to the primary, as the superuser (by the passfile).
  std::string endpoint_conninfo() const;

 private:
  using Clock = std::chrono::steady_clock;

  void read_inputs();
  void watch_state();
  void retry_watch(const consul::Error& error);
  void take_view(DbClusterParse parsed, std::uint64_t index);
  std::string local_conninfo() const;
  void run_probe();
  void on_probe(const EndpointProbe& endpoint, const LocalProbe& local);

  loop::DriverContext& ctx_;
  std::unique_ptr<DbBackend> backend_;
  loop::Timers timers_;
  boost::asio::steady_timer& backoff_;
  boost::asio::steady_timer& probe_timer_;
  bool stopped_ = false;
  loop::DbView db_;  // kept facts; observe() adds the ages
  std::uint64_t index_ = 0;
  std::uint64_t watch_generation_ = 0;  // only the newest watch loop goes on
  std::chrono::milliseconds backoff_delay_{250};
  bool probe_running_ = false;
  std::optional<Clock::time_point> failing_since_;
  // The probes' connections, kept from one round to the next; used on the
  // worker thread only (one round at a time).
  PgSession endpoint_session_;
  PgSession local_session_;
  // The probes run here, so a hung database never delays the loop. Last
  // member: joined first, before anything its jobs report to.
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

// The superuser's password file the probes read (libpq's passfile).
std::string supervisor_pgpass();
// `conninfo` with the supervisor's passfile, unless it names a password or passfile.
std::string with_passfile(std::string conninfo);

}  // namespace hasup::db
