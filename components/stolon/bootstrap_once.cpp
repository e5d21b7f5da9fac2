#include "components/stolon/bootstrap_once.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <thread>

#include "supervisor/util/command.hpp"

namespace hasup::stolon {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Consul refuses a longer lock-delay.
constexpr milliseconds kMaxLockDelay = 60s;
// A waiter's blocking query on the lock key returns at least this often, and
// clusterdata is read again each time: a change missed for any reason costs
// at most this long.
constexpr seconds kMaxBlockingWait = 5s;
// How often the holder looks for the clusterdata its init command wrote.
constexpr milliseconds kClusterdataPoll = 200ms;

std::string ms_text(milliseconds d) { return std::to_string(d.count()) + " ms"; }

class Bootstrap : public std::enable_shared_from_this<Bootstrap> {
 public:
  Bootstrap(boost::asio::io_context& io, consul::Client& consul, BootstrapSettings settings, BootstrapDone done)
      : io_(io),
        consul_(consul),
        s_(bounded(std::move(settings))),
        done_(std::move(done)),
        retry_timer_(io),
        renew_timer_(io),
        poll_timer_(io) {}

  void start() {
    deadline_ = Clock::now() + s_.wait_timeout;
    doCheckInitialised();
  }

 private:
  using Step = void (Bootstrap::*)();

  // The lock-delay must outlast the init command (bootstrap_once.hpp), and
  // Consul caps the lock-delay: so the command's bound is capped below it.
  static BootstrapSettings bounded(BootstrapSettings s) {
    if (s.init_timeout + milliseconds(1000) > kMaxLockDelay) {
      spdlog::warn("stolon bootstrap: init timeout {} ms capped to {} ms (Consul's longest lock-delay, less 1 s)",
                   s.init_timeout.count(), (kMaxLockDelay - milliseconds(1000)).count());
      s.init_timeout = kMaxLockDelay - milliseconds(1000);
    }
    return s;
  }

  // 1. Already initialised?
  void doCheckInitialised() {
    consul_.kv_get(s_.clusterdata_key, consistent(),
                   [self = shared_from_this()](consul::Result<consul::KvRead> r) { self->afterCheckInitialised(r); });
  }
  void afterCheckInitialised(const consul::Result<consul::KvRead>& r) {
    if (!r) return retry("reading " + s_.clusterdata_key, r.error(), &Bootstrap::doCheckInitialised);
    if (r.value().entry)
      return finish(BootstrapOutcome::already_initialised,
                    "clusterdata exists (" + s_.clusterdata_key + "): nothing to initialise");
    doOpenSession();
  }

  // 2. A session for the lock.
  void doOpenSession() {
    consul::SessionSpec spec;
    spec.name = "stolon-bootstrap " + s_.node_name;
    spec.checks = {"serfHealth"};
    spec.ttl = s_.session_ttl;
    spec.lock_delay = s_.init_timeout + milliseconds(1000);
    spec.behavior = consul::SessionSpec::Behavior::release;
    consul_.session_create(spec,
                           [self = shared_from_this()](consul::Result<std::string> r) { self->afterOpenSession(r); });
  }
  void afterOpenSession(const consul::Result<std::string>& r) {
    if (!r) return retry("creating a Consul session", r.error(), &Bootstrap::doOpenSession);
    session_ = r.value();
    armRenewal();
    doAcquire();
  }

  // The session lives while this runs: renewed at half its TTL.
  void armRenewal() {
    renew_timer_.expires_after(s_.session_ttl / 2);
    renew_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_) return;
      self->doRenew();
    });
  }
  void doRenew() {
    if (session_.empty()) return armRenewal();
    consul_.session_renew(session_, [self = shared_from_this()](consul::Result<bool> r) { self->afterRenew(r); });
  }
  void afterRenew(const consul::Result<bool>& r) {
    if (finished_) return;
    if (r && !r.value()) {
      // Invalidated (this node looked dead to Consul): the lock, if we held it,
      // is gone. Another node may take over after the lock-delay, which outlasts
      // our init command. A new session is opened before the next acquire.
      spdlog::warn("stolon bootstrap: Consul invalidated session {}{}", session_,
                   holding_ ? ": the bootstrap lock is lost" : "");
      session_.clear();
      holding_ = false;
    } else if (!r) {
      spdlog::warn("stolon bootstrap: renewing session {}: {}", session_, r.error().to_string());
    }
    armRenewal();
  }

  // 3. The lock: whoever holds it runs the init.
  void doAcquire() {
    if (session_.empty()) return doOpenSession();
    consul_.lock_acquire(s_.lock_key, session_, s_.node_name,
                         [self = shared_from_this()](consul::Result<bool> r) { self->afterAcquire(r); });
  }
  void afterAcquire(const consul::Result<bool>& r) {
    // A retried acquire with the same session succeeds again: it is idempotent.
    if (!r) return retry("acquiring " + s_.lock_key, r.error(), &Bootstrap::doAcquire);
    if (r.value()) {
      holding_ = true;
      return doRecheck();
    }
    doWatchLock();
  }

  // Waiting: block on the lock key, then look for clusterdata.
  void doWatchLock() {
    consul::ReadOptions options;
    options.index = lock_index_;
    auto left = duration_cast<seconds>(deadline_ - Clock::now());
    options.wait = std::clamp(left, seconds(1), kMaxBlockingWait);
    consul_.kv_get(s_.lock_key, options,
                   [self = shared_from_this()](consul::Result<consul::KvRead> r) { self->afterWatchLock(r); });
  }
  void afterWatchLock(const consul::Result<consul::KvRead>& r) {
    if (!r) return retry("watching " + s_.lock_key, r.error(), &Bootstrap::doWatchLock);
    const auto& entry = r.value().entry;
    // Consul's rule for blocking queries: an index that went backwards starts over.
    lock_index_ = r.value().index < lock_index_ ? 0 : r.value().index;
    lock_free_ = !entry || entry->session.empty();
    if (entry && !entry->value.empty()) holder_ = entry->value;
    doReadWhileWaiting();
  }
  void doReadWhileWaiting() {
    consul_.kv_get(s_.clusterdata_key, consistent(),
                   [self = shared_from_this()](consul::Result<consul::KvRead> r) { self->afterReadWhileWaiting(r); });
  }
  void afterReadWhileWaiting(const consul::Result<consul::KvRead>& r) {
    if (!r) return retry("reading " + s_.clusterdata_key, r.error(), &Bootstrap::doReadWhileWaiting);
    if (r.value().entry)
      return finish(BootstrapOutcome::initialised_elsewhere,
                    "clusterdata written by another node" + (holder_.empty() ? "" : " (lock holder: " + holder_ + ")"));
    // The holder failed or died without clusterdata: take over.
    if (lock_free_) return doAcquire();
    if (Clock::now() >= deadline_)
      return finish(BootstrapOutcome::failed, "no clusterdata after waiting " + ms_text(s_.wait_timeout) + " for " +
                                                  (holder_.empty() ? "another node" : holder_) + " to initialise");
    doWatchLock();
  }

  // 4. Holding the lock: clusterdata may have appeared since the first read.
  void doRecheck() {
    consul_.kv_get(s_.clusterdata_key, consistent(),
                   [self = shared_from_this()](consul::Result<consul::KvRead> r) { self->afterRecheck(r); });
  }
  void afterRecheck(const consul::Result<consul::KvRead>& r) {
    if (!r) return retry("reading " + s_.clusterdata_key, r.error(), &Bootstrap::doRecheck);
    if (r.value().entry)
      return finish(BootstrapOutcome::initialised_elsewhere,
                    "clusterdata appeared before this node's init ran" +
                        (holder_.empty() ? std::string() : " (earlier lock holder: " + holder_ + ")"));
    doInit();
  }

  // The command blocks: it runs on a thread of its own, bounded by init_timeout,
  // and posts its result back to the io_context (kept running by the guard).
  void doInit() {
    spdlog::info("stolon bootstrap: {} holds {}; running {}", s_.node_name, s_.lock_key,
                 s_.init_argv.empty() ? std::string("(no command)") : s_.init_argv.front());
    std::thread([self = shared_from_this(), guard = boost::asio::make_work_guard(io_)]() mutable {
      CommandResult result = run_command(self->s_.init_argv, self->s_.init_timeout);
      auto& io = self->io_;
      boost::asio::post(io, [self = std::move(self), result = std::move(result)]() mutable {
        self->afterInit(std::move(result));
      });
      guard.reset();
    }).detach();
  }
  void afterInit(CommandResult result) {
    init_result_ = std::move(result);
    await_deadline_ = Clock::now() + s_.init_timeout;
    if (!init_result_.ok())
      spdlog::warn("stolon bootstrap: init command failed: {}", init_result_.summary());
    doAwaitClusterdata();
  }

  // The init's PUT is the last thing it does: once it exited, clusterdata is
  // there or will never be.
  void doAwaitClusterdata() {
    consul_.kv_get(s_.clusterdata_key, consistent(),
                   [self = shared_from_this()](consul::Result<consul::KvRead> r) { self->afterAwaitClusterdata(r); });
  }
  void afterAwaitClusterdata(const consul::Result<consul::KvRead>& r) {
    if (r && r.value().entry) {
      std::string detail = "stolon cluster initialised by this node (" + s_.clusterdata_key + ")";
      if (!init_result_.ok()) detail += "; the init command reported: " + init_result_.summary();
      return finish(BootstrapOutcome::initialised_here, detail);
    }
    if (r && !init_result_.ok())
      return finish(BootstrapOutcome::failed, "init command failed: " + init_result_.summary());
    if (Clock::now() >= await_deadline_) {
      std::string why = r ? "the init command succeeded but no clusterdata appeared at " + s_.clusterdata_key
                          : "cannot read " + s_.clusterdata_key + ": " + r.error().to_string();
      return finish(BootstrapOutcome::failed, why + " within " + ms_text(s_.init_timeout));
    }
    poll_timer_.expires_after(kClusterdataPoll);
    poll_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->finished_) self->doAwaitClusterdata();
    });
  }

  // 5. Whatever the outcome: release (a waiting node takes over at once when
  // this one failed), destroy the session, report.
  void finish(BootstrapOutcome outcome, std::string detail) {
    if (finished_) return;
    finished_ = true;
    outcome_ = outcome;
    detail_ = std::move(detail);
    retry_timer_.cancel();
    renew_timer_.cancel();
    poll_timer_.cancel();
    if (holding_) return doRelease();
    if (!session_.empty()) return doDestroySession();
    report();
  }
  void doRelease() {
    consul_.lock_release(s_.lock_key, session_, [self = shared_from_this()](consul::Result<bool> r) {
      if (!r || !r.value())
        spdlog::warn("stolon bootstrap: releasing {}: {}", self->s_.lock_key,
                     r ? std::string("refused (the session no longer holds it)") : r.error().to_string());
      self->holding_ = false;
      self->doDestroySession();
    });
  }
  void doDestroySession() {
    // Also releases the lock if the release above failed (then with the lock-delay).
    consul_.session_destroy(session_, [self = shared_from_this()](consul::Result<bool> r) {
      if (!r)
        spdlog::warn("stolon bootstrap: destroying session {} (it expires with its TTL): {}", self->session_,
                     r.error().to_string());
      self->session_.clear();
      self->report();
    });
  }
  void report() {
    if (outcome_ == BootstrapOutcome::failed)
      spdlog::error("stolon bootstrap on {}: {}: {}", s_.node_name, to_string(outcome_), detail_);
    else
      spdlog::info("stolon bootstrap on {}: {}: {}", s_.node_name, to_string(outcome_), detail_);
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(outcome_, detail_);
  }

  // A Consul error: try again after retry_delay, until the deadline.
  void retry(const std::string& what, const consul::Error& error, Step again) {
    if (Clock::now() + s_.retry_delay >= deadline_)
      return finish(BootstrapOutcome::failed, what + ": " + error.to_string());
    spdlog::warn("stolon bootstrap: {}: {} (retrying)", what, error.to_string());
    retry_timer_.expires_after(s_.retry_delay);
    retry_timer_.async_wait([self = shared_from_this(), again](const boost::system::error_code& ec) {
      if (!ec && !self->finished_) (self.get()->*again)();
    });
  }

  static consul::ReadOptions consistent() {
    consul::ReadOptions options;
    options.consistency = consul::Consistency::consistent;
    return options;
  }

  boost::asio::io_context& io_;
  consul::Client& consul_;
  const BootstrapSettings s_;
  BootstrapDone done_;
  boost::asio::steady_timer retry_timer_, renew_timer_, poll_timer_;
  Clock::time_point deadline_{}, await_deadline_{};
  std::string session_;
  bool holding_ = false;
  std::uint64_t lock_index_ = 0;
  bool lock_free_ = false;
  std::string holder_;  // the last node name seen in the lock key
  CommandResult init_result_;
  bool finished_ = false;
  BootstrapOutcome outcome_ = BootstrapOutcome::failed;
  std::string detail_;
};

}  // namespace

std::string to_string(BootstrapOutcome outcome) {
  switch (outcome) {
    case BootstrapOutcome::initialised_here: return "initialised here";
    case BootstrapOutcome::already_initialised: return "already initialised";
    case BootstrapOutcome::initialised_elsewhere: return "initialised elsewhere";
    case BootstrapOutcome::failed: return "failed";
  }
  return "failed";
}

void bootstrap_once(boost::asio::io_context& io, consul::Client& consul, BootstrapSettings settings,
                    BootstrapDone done) {
  std::make_shared<Bootstrap>(io, consul, std::move(settings), std::move(done))->start();
}

}  // namespace hasup::stolon
