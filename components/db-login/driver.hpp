#pragma once
// The rotating logins' driver: the store key read from the secrets file, the
// rotation's steps on the primary (on a worker thread: libpq blocks), the
// REST service's conninfo file written and its unit reloaded, and the
// replication login handed to the database's view (patroni.yml).
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>

#include "components/db-login/record.hpp"
#include "supervisor/loop/driver.hpp"
#include "supervisor/util/store_key.hpp"

namespace hasup::db_login {

class LoginDriver : public loop::Driver {
 public:
  // `endpoint_conninfo`: the database driver's way to the primary (as the superuser, by its passfile).
  LoginDriver(loop::DriverContext& ctx, std::function<std::string()> endpoint_conninfo);
  ~LoginDriver() override;

  const char* name() const override { return "db_login"; }
  // The REST service's unit: watched, so a rotation knows whether to reload it.
  std::vector<std::string> units() const override;
  void start() override;
  void stop() override;
  void reload() override { read_inputs(); }
  void observe(loop::Snapshot& s) const override;
  // Keeps this node's copy of each record (record_copy.hpp) as Consul holds it.
  void observed(loop::Snapshot& s) override;
  bool act(const loop::Action& action) override;

 private:
  void read_inputs();
  void read_copies();
  void run(const loop::RestoreLoginRecord& a);
  void run(const loop::StartLoginRotation& a);
  void run(const loop::ApplyClientLogin& a);
  void run(const loop::FinishLoginRotation& a);
  void retire(const loop::FinishLoginRotation& a);
  loop::LoginView& view(LoginSecret secret);
  const std::optional<loop::KvView::StoredValue>& stored(LoginSecret secret) const;
  std::string key_of(LoginSecret secret) const;
  // One secret's part of the snapshot from its stored record.
  void observe_record(LoginSecret secret, loop::LoginView& v) const;
  // The replication login in force put into the database's model.
  void give_replication_login(loop::Snapshot& s) const;
  // The record as the view holds it now, when it is still at `index`.
  std::optional<LoginRecord> record_at(LoginSecret secret, std::uint64_t index) const;
  // Writes `record` with a check-and-set on `cas`; the job ends once the
  // view holds the write (or after a bound), so decide() never repeats a
  // step on a view from before it.
  void write_record(LoginSecret secret, const LoginRecord& record, std::uint64_t cas, loop::Job job,
                    const std::string& done_log);
  // old_index 0: the record was absent (a ModifyIndex is never 0).
  void finish_when_seen(LoginSecret secret, loop::Job job, std::uint64_t old_index, int tries_left);
  // A failed step is tried again after a pause, not at every cycle.
  void finish_after_failure(loop::Job job);
  boost::asio::steady_timer& timer_for(loop::Job job);  // one per job: its jobs never overlap themselves

  loop::DriverContext& ctx_;
  std::function<std::string()> endpoint_conninfo_;
  loop::Timers timers_;
  std::map<loop::Job, boost::asio::steady_timer*> job_timers_;  // from timers_
  bool stopped_ = false;
  std::shared_ptr<const secret::StoreKey> key_;  // null when it cannot be read (view_.store_key_error)
  loop::LoginView db_view_;           // kept facts; observe() adds the record
  loop::LoginView replication_view_;
  std::unique_ptr<boost::asio::thread_pool> workers_;  // last: joined first
};

}  // namespace hasup::db_login
