#include "components/db-login/driver.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <utility>

#include "components/db-login/client_file.hpp"
#include "components/db-login/secret.hpp"
#include "components/db-login/sql.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::db_login {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string now_utc() { return utc_iso8601(std::chrono::system_clock::now(), false); }

constexpr std::chrono::milliseconds kRetireMargin{1000};

// Unreachable is worth another try; a refusal by the server is not.
bool retryable(const std::string& error) { return error.rfind("cannot reach the primary", 0) == 0; }

}  // namespace

LoginDriver::LoginDriver(loop::DriverContext& ctx, std::function<std::string()> endpoint_conninfo)
    : ctx_(ctx), endpoint_conninfo_(std::move(endpoint_conninfo)), timers_(ctx.io) {
  read_inputs();
}

LoginDriver::~LoginDriver() = default;

std::vector<std::string> LoginDriver::units() const {
  const auto& c = ctx_.config.db;
  if (c.rest_conninfo_file.empty() || c.rest_unit.empty()) return {};
  return {c.rest_unit};
}

void LoginDriver::start() { workers_ = std::make_unique<asio::thread_pool>(1); }

void LoginDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
}

void LoginDriver::read_inputs() {
  const auto& c = ctx_.config.db;
  view_.enabled = true;
  view_.manager_user = c.manager_user;
  view_.writes_client_file = !c.rest_conninfo_file.empty();
  auto key = secret::read_store_key(c.secrets_file);
  if (key) {
    key_ = std::make_shared<const secret::StoreKey>(std::move(key.value()));
    view_.store_key_error.clear();
  } else {
    key_.reset();
    view_.store_key_error = key.error().message;
  }
}

void LoginDriver::observe(loop::Snapshot& s) const {
  s.db_login = view_;
  auto& v = s.db_login;
  const auto& stored = ctx_.kv.db_login;
  if (!stored) return;
  v.record_index = stored->index;
  auto decoded = decode_login_record(stored->text);
  if (!decoded.record) {
    v.record_error = ctx_.keys.db_login() + ": " + decoded.error;
    return;
  }
  if (auto why = record_problem(*decoded.record, v.manager_user); !why.empty()) {
    v.record_error = ctx_.keys.db_login() + ": " + why;
    return;
  }
  v.record = std::move(decoded.record);
}

bool LoginDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::StartLoginRotation>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::ApplyClientLogin>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::FinishLoginRotation>(&action)) return run(*a), true;
  return false;
}

std::optional<LoginRecord> LoginDriver::record_at(std::uint64_t index) const {
  const auto& stored = ctx_.kv.db_login;
  if (!stored || stored->index != index) return std::nullopt;
  return decode_login_record(stored->text).record;
}

void LoginDriver::run(const loop::StartLoginRotation& a) {
  auto record = record_at(a.record_index);
  if (!key_ || !record || !record->rotation) return ctx_.finish_job(loop::Job::start_login_rotation);
  const std::string password = login_password(*key_, a.generation, record->rotation->nonce);
  spdlog::info("db login rotation {}: setting login {}'s new password on the primary", a.generation, a.login);
  asio::post(*workers_, [this, a, password, conninfo = endpoint_conninfo_(), manager = view_.manager_user] {
    auto error = set_login_password(conninfo, manager, a.login, password);
    asio::post(ctx_.io, [this, a, error] {
      if (stopped_) return;
      auto record = record_at(a.record_index);
      if (!record || !record->rotation) return ctx_.finish_job(loop::Job::start_login_rotation);
      if (!error.empty() && retryable(error)) {
        view_.rotation_error = "setting login " + a.login + "'s password: " + error;
        spdlog::warn("db login rotation {}: {} (trying again)", a.generation, view_.rotation_error);
        return finish_after_failure(loop::Job::start_login_rotation);
      }
      view_.rotation_error.clear();
      auto& rot = *record->rotation;
      if (!error.empty()) {
        // Nothing changed for the clients: the rotation ends as failed.
        spdlog::error("db login rotation {}: the primary refused login {}'s new password: {}", a.generation, a.login, error);
        record->last = RotationOutcome{a.generation, false, "the primary refused login " + a.login + "'s new password: " + error,
                                       rot.requested_at, now_utc()};
        record->rotation.reset();
        return write_record(*record, a.record_index, loop::Job::start_login_rotation,
                            "rotation " + std::to_string(a.generation) + " failed, nothing changed");
      }
      rot.step = RotationStep::switching;
      rot.switching_at = now_utc();
      write_record(*record, a.record_index, loop::Job::start_login_rotation,
                   "login " + a.login + " works with its new password: every node switches to it");
    });
  });
}

void LoginDriver::run(const loop::ApplyClientLogin& a) {
  const auto& c = ctx_.config.db;
  auto fail = [this, &a](const std::string& error) {
    // Tried again every second: said once, until it changes.
    if (error != std::exchange(view_.apply_error, error))
      spdlog::error("db login: cannot give the REST service login {} (generation {}): {}", a.login, a.generation,
                    error);
    finish_after_failure(loop::Job::apply_client_login);
  };
  if (!key_) return fail(view_.store_key_error);
  const std::string password = login_password(*key_, a.generation, a.nonce);
  if (auto error = write_client_file(c.rest_conninfo_file, client_conninfo(c.rest_conninfo, a.login, password));
      !error.empty())
    return fail(error);
  auto done = [this, a](const std::string& reloaded) {
    view_.apply_error.clear();
    view_.applied_generation = a.generation;
    spdlog::info("db login: {} now holds login {} (generation {}){}", ctx_.config.db.rest_conninfo_file, a.login,
                 a.generation, reloaded);
    ctx_.finish_job(loop::Job::apply_client_login);
  };
  if (c.rest_unit.empty()) return done(": no unit to reload (db.rest_unit is empty)");
  // The generation counts as given only once the service took it: never on a guess.
  if (!ctx_.units.connected()) return fail("systemd is not reachable: " + c.rest_unit + " cannot be reloaded");
  const auto& units = ctx_.units.views();
  auto unit = units.find(c.rest_unit);
  if (unit == units.end()) return fail("systemd has not reported " + c.rest_unit + " yet");
  if (!unit->second.reloadable()) return done(": " + c.rest_unit + " reads it when it starts");
  ctx_.units.reload_unit(c.rest_unit, [this, done, unit_name = c.rest_unit](systemd::JobOutcome outcome) {
    if (stopped_) return;
    if (!outcome.ok()) {
      // The file holds the new login; a failed reload is tried again (the view's generation did not move).
      const std::string error = "reloading " + unit_name + ": " + outcome.to_string();
      if (error != std::exchange(view_.apply_error, error)) spdlog::error("db login: {}", error);
      return finish_after_failure(loop::Job::apply_client_login);
    }
    done(", " + unit_name + " reloaded");
  });
}

void LoginDriver::run(const loop::FinishLoginRotation& a) {
  spdlog::info("db login rotation {}: every node switched; refusing login {} in {} ms", a.generation,
               a.previous_login, kRetireMargin.count());
  // Each REST service was reloaded a moment ago and handles its SIGHUP within
  // milliseconds; until it has, a connection it makes again still uses the
  // previous login. A margin before the login goes, not a wait on every node.
  auto& timer = timer_for(loop::Job::finish_login_rotation);
  timer.expires_after(kRetireMargin);
  timer.async_wait([this, a](boost::system::error_code ec) {
    if (!ec) retire(a);
  });
}

void LoginDriver::retire(const loop::FinishLoginRotation& a) {
  asio::post(*workers_, [this, a, conninfo = endpoint_conninfo_()] {
    int ended = 0;
    auto error = retire_login(conninfo, a.previous_login, ended);
    asio::post(ctx_.io, [this, a, error, ended] {
      if (stopped_) return;
      auto record = record_at(a.record_index);
      if (!record || !record->rotation) return ctx_.finish_job(loop::Job::finish_login_rotation);
      if (!error.empty()) {
        view_.rotation_error = error;
        spdlog::warn("db login rotation {}: {} (trying again)", a.generation, error);
        return finish_after_failure(loop::Job::finish_login_rotation);
      }
      view_.rotation_error.clear();
      const auto& rot = *record->rotation;
      const std::string detail = "login " + rot.login + " in use on every node; login " + a.previous_login +
                                 " refused (" + std::to_string(ended) + " open sessions of it ended)";
      record->current = LoginCredential{rot.generation, rot.login, rot.nonce};
      record->last = RotationOutcome{rot.generation, true, detail, rot.requested_at, now_utc()};
      record->rotation.reset();
      write_record(*record, a.record_index, loop::Job::finish_login_rotation, "done: " + detail);
    });
  });
}

void LoginDriver::write_record(const LoginRecord& record, std::uint64_t cas, loop::Job job,
                               const std::string& done_log) {
  consul::PutOptions put;
  put.cas = cas;
  ctx_.consul.kv_put(ctx_.keys.db_login(), encode(record), put,
                     [this, cas, job, done_log](consul::Result<bool> r) {
                       if (stopped_) return;
                       if (!r) {
                         ctx_.note_consul_error("writing the database login's record", r.error());
                         return finish_after_failure(job);
                       }
                       if (!r.value()) {
                         spdlog::warn("db login: the record changed meanwhile; the step is decided again");
                         return ctx_.finish_job(job);
                       }
                       spdlog::info("db login rotation: {}", done_log);
                       finish_when_seen(job, cas, 60);
                     });
}

void LoginDriver::finish_when_seen(loop::Job job, std::uint64_t old_index, int tries_left) {
  const auto& stored = ctx_.kv.db_login;
  if (tries_left <= 0 || !stored || stored->index != old_index) return ctx_.finish_job(job);
  auto& timer = timer_for(job);
  timer.expires_after(50ms);
  timer.async_wait([this, job, old_index, tries_left](boost::system::error_code ec) {
    if (!ec) finish_when_seen(job, old_index, tries_left - 1);
  });
}

boost::asio::steady_timer& LoginDriver::timer_for(loop::Job job) {
  auto [it, made] = job_timers_.try_emplace(job, nullptr);
  if (made) it->second = &timers_.make();
  return *it->second;
}

void LoginDriver::finish_after_failure(loop::Job job) {
  auto& timer = timer_for(job);
  timer.expires_after(1s);
  timer.async_wait([this, job](boost::system::error_code ec) {
    if (!ec) ctx_.finish_job(job);
  });
}

}  // namespace hasup::db_login
