#include "components/db-login/driver.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <thread>
#include <utility>

#include "components/db-login/client_file.hpp"
#include "components/db-login/decide.hpp"
#include "components/db-login/record_copy.hpp"
#include "components/db-login/secret.hpp"
#include "components/db-login/sql.hpp"
#include "components/patroni/model.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::db_login {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string now_utc() { return utc_iso8601(std::chrono::system_clock::now(), false); }

constexpr std::chrono::milliseconds kRetireMargin{1000};
// How long a retiring replication login's sessions are waited for, per try
// of the step: Patroni's loop (loop_wait) and a WAL receiver's restart fit.
constexpr int kStreamingWaitTries = 40;
constexpr std::chrono::milliseconds kStreamingWaitPause{250};

// Unreachable is worth another try; a refusal by the server is not.
bool retryable(const std::string& error) { return error.rfind("cannot reach the primary", 0) == 0; }

}  // namespace

LoginDriver::LoginDriver(loop::DriverContext& ctx, std::function<std::string()> endpoint_conninfo)
    : ctx_(ctx), endpoint_conninfo_(std::move(endpoint_conninfo)), timers_(ctx.io) {
  read_inputs();
  read_copies();
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
  db_view_.enabled = true;
  db_view_.secret = LoginSecret::db_password;
  db_view_.base_user = c.manager_user;
  db_view_.writes_client_file = !c.rest_conninfo_file.empty();
  // Patroni's replication login: patroni.yml is the file its clients read.
  // stolon keeps its replication password in its own keepers' flags: not rotated here.
  replication_view_.enabled = c.backend == "patroni";
  replication_view_.secret = LoginSecret::replication_password;
  replication_view_.base_user = patroni::kReplicationRole;
  replication_view_.writes_client_file = replication_view_.enabled;
  auto key = secret::read_store_key(c.secrets_file);
  if (key) {
    key_ = std::make_shared<const secret::StoreKey>(std::move(key.value()));
    db_view_.store_key_error.clear();
  } else {
    key_.reset();
    db_view_.store_key_error = key.error().message;
  }
  replication_view_.store_key_error = db_view_.store_key_error;
}

void LoginDriver::read_copies() {
  for (auto secret : {LoginSecret::db_password, LoginSecret::replication_password}) {
    auto& v = view(secret);
    if (!v.enabled) continue;
    const std::string path = record_copy_path(ctx_.config.node.known_nodes_file, secret);
    auto read = read_record_copy(path, v.base_user);
    // An unusable copy is not used, and not overwritten until Consul has the record again.
    if (!read.error.empty()) spdlog::error("{}: {}", login_label(secret), read.error);
    v.copy = std::move(read.record);
    v.copy_error = std::move(read.error);
  }
}

loop::LoginView& LoginDriver::view(LoginSecret secret) {
  return secret == LoginSecret::db_password ? db_view_ : replication_view_;
}

const std::optional<loop::KvView::StoredValue>& LoginDriver::stored(LoginSecret secret) const {
  return secret == LoginSecret::db_password ? ctx_.kv.db_login : ctx_.kv.replication_login;
}

std::string LoginDriver::key_of(LoginSecret secret) const {
  return loop::login_record_key(ctx_.keys, secret);
}

void LoginDriver::observe_record(LoginSecret secret, loop::LoginView& v) const {
  const auto& found = stored(secret);
  if (!v.enabled) return;
  if (!found) {
    // Read, and absent: Consul's data lost, if this node ever had a record.
    if (ctx_.kv.known && v.copy) v.record = v.copy, v.record_from_copy = true;
    return;
  }
  v.record_index = found->index;
  auto decoded = decode_login_record(found->text);
  if (!decoded.record) {
    v.record_error = key_of(secret) + ": " + decoded.error;
    return;
  }
  if (auto why = record_problem(*decoded.record, v.base_user); !why.empty()) {
    v.record_error = key_of(secret) + ": " + why;
    return;
  }
  v.record = std::move(decoded.record);
}

void LoginDriver::give_replication_login(loop::Snapshot& s) const {
  const auto& v = s.replication_login;
  auto& files = s.db.patroni;
  if (!v.enabled) return;
  // pg_hba admits both logins: the one not in use may be the next.
  files.model.replication_logins = {login_for(0, v.base_user), login_for(1, v.base_user)};
  if (!v.record_error.empty()) {
    files.replication_error = "the replication login's record is refused: " + v.record_error;
    return;
  }
  auto target = v.record ? v.record->target() : std::nullopt;
  if (!target) return;  // the install's: the secrets file's replication password
  if (!key_) {
    files.replication_error = "login " + target->login + " (generation " + std::to_string(target->generation) +
                              ")'s password cannot be derived: " + v.store_key_error;
    return;
  }
  files.model.replication_user = target->login;
  files.model.secrets.replication =
      login_password(*key_, LoginSecret::replication_password, target->generation, target->nonce);
  files.replication_generation = target->generation;
}

void LoginDriver::observe(loop::Snapshot& s) const {
  s.db_login = db_view_;
  s.replication_login = replication_view_;
  observe_record(LoginSecret::db_password, s.db_login);
  observe_record(LoginSecret::replication_password, s.replication_login);
  give_replication_login(s);
}

void LoginDriver::observed(loop::Snapshot& s) {
  for (auto secret : {LoginSecret::db_password, LoginSecret::replication_password}) {
    auto& seen = secret == LoginSecret::db_password ? s.db_login : s.replication_login;
    auto& kept = view(secret);
    if (!seen.record || seen.record_from_copy || seen.record == kept.copy) continue;
    const std::string path = record_copy_path(ctx_.config.node.known_nodes_file, secret);
    auto error = keep_record_copy(path, *seen.record);
    if (!error.empty()) {
      if (error != kept.copy_error) spdlog::error("{}: cannot keep the copy of its record: {}", login_label(secret), error);
    } else {
      kept.copy = seen.record;
    }
    kept.copy_error = error;
    seen.copy = kept.copy;
    seen.copy_error = kept.copy_error;
  }
}

bool LoginDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::StartLoginRotation>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::ApplyClientLogin>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::FinishLoginRotation>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::RestoreLoginRecord>(&action)) return run(*a), true;
  return false;
}

std::optional<LoginRecord> LoginDriver::record_at(LoginSecret secret, std::uint64_t index) const {
  const auto& found = stored(secret);
  if (!found || found->index != index) return std::nullopt;
  return decode_login_record(found->text).record;
}

void LoginDriver::run(const loop::StartLoginRotation& a) {
  auto record = record_at(a.secret, a.record_index);
  if (!key_ || !record || !record->rotation) return ctx_.finish_job(loop::Job::start_login_rotation);
  const std::string password = login_password(*key_, a.secret, a.generation, record->rotation->nonce);
  const std::string label = login_label(a.secret);
  spdlog::info("{} rotation {}: setting login {}'s new password on the primary", label, a.generation, a.login);
  asio::post(*workers_, [this, a, password, label, conninfo = endpoint_conninfo_(), base = view(a.secret).base_user] {
    auto error = set_login_password(conninfo, a.secret, base, a.login, password);
    asio::post(ctx_.io, [this, a, error, label] {
      if (stopped_) return;
      auto record = record_at(a.secret, a.record_index);
      if (!record || !record->rotation) return ctx_.finish_job(loop::Job::start_login_rotation);
      auto& v = view(a.secret);
      if (!error.empty() && retryable(error)) {
        v.rotation_error = "setting login " + a.login + "'s password: " + error;
        spdlog::warn("{} rotation {}: {} (trying again)", label, a.generation, v.rotation_error);
        return finish_after_failure(loop::Job::start_login_rotation);
      }
      v.rotation_error.clear();
      auto& rot = *record->rotation;
      if (!error.empty()) {
        // Nothing changed for the clients: the rotation ends as failed.
        spdlog::error("{} rotation {}: the primary refused login {}'s new password: {}", label, a.generation, a.login,
                      error);
        record->last = RotationOutcome{a.generation, false, "the primary refused login " + a.login + "'s new password: " + error,
                                       rot.requested_at, now_utc()};
        record->rotation.reset();
        return write_record(a.secret, *record, a.record_index, loop::Job::start_login_rotation,
                            "rotation " + std::to_string(a.generation) + " failed, nothing changed");
      }
      rot.step = RotationStep::switching;
      rot.switching_at = now_utc();
      write_record(a.secret, *record, a.record_index, loop::Job::start_login_rotation,
                   "login " + a.login + " works with its new password: every node switches to it");
    });
  });
}

void LoginDriver::run(const loop::ApplyClientLogin& a) {
  const auto& c = ctx_.config.db;
  auto fail = [this, &a](const std::string& error) {
    // Tried again every second: said once, until it changes.
    if (error != std::exchange(db_view_.apply_error, error))
      spdlog::error("db login: cannot give the REST service login {} (generation {}): {}", a.login, a.generation,
                    error);
    finish_after_failure(loop::Job::apply_client_login);
  };
  if (!key_) return fail(db_view_.store_key_error);
  const std::string password = login_password(*key_, LoginSecret::db_password, a.generation, a.nonce);
  if (auto error = write_client_file(c.rest_conninfo_file, client_conninfo(c.rest_conninfo, a.login, password));
      !error.empty())
    return fail(error);
  auto done = [this, a](const std::string& reloaded) {
    db_view_.apply_error.clear();
    db_view_.applied_generation = a.generation;
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
      if (error != std::exchange(db_view_.apply_error, error)) spdlog::error("db login: {}", error);
      return finish_after_failure(loop::Job::apply_client_login);
    }
    done(", " + unit_name + " reloaded");
  });
}

void LoginDriver::run(const loop::FinishLoginRotation& a) {
  spdlog::info("{} rotation {}: every node switched; refusing login {} in {} ms", login_label(a.secret), a.generation,
               a.previous_login, kRetireMargin.count());
  // Each REST service was reloaded a moment ago and handles its SIGHUP within
  // milliseconds; until it has, a connection it makes again still uses the
  // previous login. A margin before the login goes, not a wait on every node.
  // (Patroni's standbys are waited for by their sessions: retire() below.)
  auto& timer = timer_for(loop::Job::finish_login_rotation);
  timer.expires_after(kRetireMargin);
  timer.async_wait([this, a](boost::system::error_code ec) {
    if (!ec) retire(a);
  });
}

void LoginDriver::retire(const loop::FinishLoginRotation& a) {
  asio::post(*workers_, [this, a, conninfo = endpoint_conninfo_()] {
    int ended = 0;
    std::string error;
    if (a.secret == LoginSecret::replication_password) {
      // Each standby's Patroni reloads PostgreSQL with the new login in its
      // next loop, and its WAL receiver reconnects with it: until then the
      // previous login still streams, and refusing it would cut a standby
      // off (a synchronous one: every commit waits). Wait for the sessions
      // to go, a bounded while; if some remain, the step is tried again.
      int open = 0;
      for (int tries = 0; tries < kStreamingWaitTries; ++tries) {
        open = open_sessions(conninfo, a.previous_login, error);
        if (open == 0 || !error.empty()) break;
        std::this_thread::sleep_for(kStreamingWaitPause);
      }
      if (error.empty() && open > 0)
        error = std::to_string(open) + " session(s) of login " + a.previous_login +
                " still open (a standby not reconnected with the new login yet)";
    }
    if (error.empty()) error = retire_login(conninfo, a.previous_login, ended);
    asio::post(ctx_.io, [this, a, error, ended] {
      if (stopped_) return;
      auto record = record_at(a.secret, a.record_index);
      if (!record || !record->rotation) return ctx_.finish_job(loop::Job::finish_login_rotation);
      auto& v = view(a.secret);
      if (!error.empty()) {
        v.rotation_error = error;
        spdlog::warn("{} rotation {}: {} (trying again)", login_label(a.secret), a.generation, error);
        return finish_after_failure(loop::Job::finish_login_rotation);
      }
      v.rotation_error.clear();
      const auto& rot = *record->rotation;
      const std::string detail = "login " + rot.login + " in use on every node; login " + a.previous_login +
                                 " refused (" + std::to_string(ended) + " open sessions of it ended)";
      record->current = LoginCredential{rot.generation, rot.login, rot.nonce};
      record->last = RotationOutcome{rot.generation, true, detail, rot.requested_at, now_utc()};
      record->rotation.reset();
      write_record(a.secret, *record, a.record_index, loop::Job::finish_login_rotation, "done: " + detail);
    });
  });
}

void LoginDriver::run(const loop::RestoreLoginRecord& a) {
  consul::PutOptions create_only;
  create_only.cas = 0;
  ctx_.consul.kv_put(key_of(a.secret), a.text, create_only, [this, a](consul::Result<bool> r) {
    if (stopped_) return;
    const std::string label = login_label(a.secret);
    if (!r) {
      ctx_.note_consul_error("writing the " + label + "'s record back", r.error());
      return finish_after_failure(loop::Job::restore_login_record);
    }
    if (!r.value()) {
      spdlog::info("{}: its record is back in Consul already (written meanwhile)", label);
      return ctx_.finish_job(loop::Job::restore_login_record);
    }
    spdlog::warn("{}: Consul held no record (its data lost?): wrote back this node's copy, the newest of a majority "
                 "(revision {})", label, a.revision);
    finish_when_seen(a.secret, loop::Job::restore_login_record, 0, 60);
  });
}

void LoginDriver::write_record(LoginSecret secret, const LoginRecord& record, std::uint64_t cas, loop::Job job,
                               const std::string& done_log) {
  consul::PutOptions put;
  put.cas = cas;
  LoginRecord next = record;
  ++next.revision;
  ctx_.consul.kv_put(key_of(secret), encode(next), put,
                     [this, secret, cas, job, done_log](consul::Result<bool> r) {
                       if (stopped_) return;
                       const std::string label = login_label(secret);
                       if (!r) {
                         ctx_.note_consul_error("writing the " + label + "'s record", r.error());
                         return finish_after_failure(job);
                       }
                       if (!r.value()) {
                         spdlog::warn("{}: the record changed meanwhile; the step is decided again", label);
                         return ctx_.finish_job(job);
                       }
                       spdlog::info("{} rotation: {}", label, done_log);
                       finish_when_seen(secret, job, cas, 60);
                     });
}

void LoginDriver::finish_when_seen(LoginSecret secret, loop::Job job, std::uint64_t old_index, int tries_left) {
  const auto& found = stored(secret);
  const bool unchanged = found ? found->index == old_index : old_index == 0;
  if (tries_left <= 0 || !unchanged) return ctx_.finish_job(job);
  auto& timer = timer_for(job);
  timer.expires_after(50ms);
  timer.async_wait([this, secret, job, old_index, tries_left](boost::system::error_code ec) {
    if (!ec) finish_when_seen(secret, job, old_index, tries_left - 1);
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
