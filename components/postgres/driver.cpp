#include "components/postgres/driver.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "components/switchover/record.hpp"

namespace hasup::db {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {
// How often the endpoint is probed while a switchover waits for the new primary.
constexpr milliseconds kSwitchoverProbeInterval{100};
}  // namespace

namespace {

bool has_keyword(const std::string& conninfo, const std::string& keyword) {
  return conninfo.find(keyword + "=") != std::string::npos || conninfo.find(keyword + " =") != std::string::npos;
}

}  // namespace

// The supervisor's own pgpass: libpq reads the superuser's password from it,
// so no conninfo the supervisor builds or logs ever holds a password.
std::string supervisor_pgpass() { return "/run/ha-supervisor/pgpass"; }

std::string with_passfile(std::string conninfo) {
  if (!has_keyword(conninfo, "password") && !has_keyword(conninfo, "passfile"))
    conninfo += " passfile=" + supervisor_pgpass();
  return conninfo;
}

DbDriver::DbDriver(loop::DriverContext& ctx, std::unique_ptr<DbBackend> backend)
    : ctx_(ctx),
      backend_(std::move(backend)),
      timers_(ctx.io),
      backoff_(timers_.make()),
      probe_timer_(timers_.make()) {
  read_inputs();
}

DbDriver::~DbDriver() = default;

void DbDriver::read_inputs() {
  const auto& c = ctx_.config.db;
  db_.enabled = true;
  db_.backend = c.backend;
  db_.unit = c.unit;
  db_.unfit_after = milliseconds(c.unfit_after_ms);
  backend_->read_inputs(db_);
}

void DbDriver::reload() { read_inputs(); }

void DbDriver::start() {
  workers_ = std::make_unique<asio::thread_pool>(1);
  spdlog::info("database: {} backend, state from Consul under {}", ctx_.config.db.backend, backend_->keys_prefix());
  watch_state();
  run_probe();
}

void DbDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
}

// The watch can hang on a deposed Consul server, like the engine's: a stale
// primary in status, a preference on the wrong node.
void DbDriver::restart_watches() {
  ++watch_generation_;
  backoff_.cancel();
  backoff_delay_ = 250ms;
  watch_state();
}

void DbDriver::retry_watch(const consul::Error& error) {
  db_.cluster_error = error.to_string();
  ctx_.note_consul_error("watching the database's state", error);
  backoff_.expires_after(backoff_delay_);
  backoff_delay_ = std::min(backoff_delay_ * 2, milliseconds(5000));
  const std::uint64_t generation = watch_generation_;
  backoff_.async_wait([this, generation](boost::system::error_code ec) {
    if (!ec && generation == watch_generation_) watch_state();
  });
  ctx_.wake();
}

void DbDriver::take_view(DbClusterParse parsed, std::uint64_t index) {
  backoff_delay_ = 250ms;
  index_ = index < index_ ? 0 : index;  // Consul's index went back: start over
  const auto& backend = ctx_.config.db.backend;
  if (!parsed.view) {
    if (parsed.error != db_.cluster_error)
      spdlog::error("database: refused {}'s state in Consul: {} (the last good view stays)", backend, parsed.error);
    db_.cluster_error = parsed.error;
    return ctx_.wake();
  }
  db_.cluster_error.clear();
  for (const auto& problem : parsed.view->problems)
    if (std::find(db_.cluster.problems.begin(), db_.cluster.problems.end(), problem) == db_.cluster.problems.end())
      spdlog::warn("database: refused part of {}'s state: {}", backend, problem);
  if (parsed.view->initialized && (!db_.cluster_known || parsed.view->primary != db_.cluster.primary))
    spdlog::info("database: primary {}", parsed.view->primary.empty() ? "none (failover in progress)" : parsed.view->primary);
  if (!db_.cluster_known || *parsed.view != db_.cluster) ctx_.wake();
  db_.cluster = std::move(*parsed.view);
  db_.cluster_known = true;
}

void DbDriver::watch_state() {
  if (stopped_) return;
  const std::uint64_t generation = watch_generation_;
  backend_->read_state(index_, [this, generation](consul::Result<StateRead> r) {
    if (stopped_ || generation != watch_generation_) return;  // a newer watch has taken over
    if (!r) return retry_watch(r.error());
    take_view(std::move(r.value().parsed), r.value().index);
    watch_state();
  });
}

std::string DbDriver::endpoint_conninfo() const {
  const auto& c = ctx_.config.db;
  return with_passfile(!c.endpoint.empty() ? c.endpoint : backend_->default_endpoint_conninfo());
}

std::string DbDriver::local_conninfo() const {
  const auto& c = ctx_.config.db;
  if (!c.local.empty()) return with_passfile(c.local);
  return with_passfile("host=127.0.0.1 port=" + std::to_string(backend_->local_port()) +
                       " dbname=postgres user=postgres connect_timeout=1");
}

// One probe round at a time on its own thread; the next one starts an
// interval after this one ends, so a hung server never piles probes up.
void DbDriver::run_probe() {
  if (stopped_ || probe_running_) return;
  probe_running_ = true;
  ProbeSettings settings;
  settings.endpoint_conninfo = endpoint_conninfo();
  settings.local_conninfo = local_conninfo();
  settings.node_name = ctx_.config.node.name;
  settings.timeout = milliseconds(ctx_.config.db.probe_timeout_ms);
  asio::post(*workers_, [this, settings] {
    auto endpoint = probe_endpoint(settings, endpoint_session_);
    auto local = probe_local(settings, local_session_);
    asio::post(ctx_.io, [this, endpoint, local] { on_probe(endpoint, local); });
  });
}

void DbDriver::on_probe(const EndpointProbe& endpoint, const LocalProbe& local) {
  probe_running_ = false;
  if (stopped_) return;
  const bool was_writable = !db_.endpoint || db_.endpoint->writable;
  if (endpoint.writable) {
    if (failing_since_) spdlog::info("database: writable again through the local endpoint ({})", endpoint.server);
    failing_since_.reset();
  } else if (!failing_since_) {
    failing_since_ = Clock::now();
    spdlog::warn("database: the local endpoint does not take writes: {}", endpoint.error);
  }
  if (was_writable != endpoint.writable || !db_.local || db_.local->in_recovery != local.in_recovery) ctx_.wake();
  db_.endpoint = endpoint;
  db_.local = local;
  // While a switchover waits for the new primary, writes are held at every
  // gate: the probe that sees it take writes ends the wait, so it runs often.
  const bool switching = !endpoint.writable && ctx_.kv.switchover &&
                         switchover::database_phase(ctx_.kv.switchover->text);
  probe_timer_.expires_after(switching ? kSwitchoverProbeInterval : milliseconds(ctx_.config.db.probe_interval_ms));
  probe_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) run_probe();
  });
}

void DbDriver::observe(loop::Snapshot& s) const {
  s.db = db_;
  backend_->observe(s.db);
  s.db.data_space = util::read_filesystem_space(ctx_.config.db.data_dir);
  s.db.endpoint_failing_for =
      failing_since_ ? std::chrono::duration_cast<milliseconds>(Clock::now() - *failing_since_) : 0ms;
}

}  // namespace hasup::db
