#pragma once
// The broker's driver: reads the local broker's management API (two GETs
// a poll, parsed whole), watches the cluster's founder key in Consul, and
// runs the jobs: rabbitmq.conf written and the unit started, the founder
// claimed (create-only), a join or a forget run as a oneshot unit as the
// rabbitmq user (ha-rabbitmq-join@ADDRESS, ha-rabbitmq-forget@ADDRESS: the
// supervisor holds no Erlang cookie and runs no rabbitmqctl itself).
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "components/rabbitmq/model.hpp"
#include "components/rabbitmq/view_clock.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/loop/driver.hpp"

namespace hasup::rabbitmq {

class BrokerDriver : public loop::Driver {
 public:
  explicit BrokerDriver(loop::DriverContext& ctx);

  const char* name() const override { return "broker"; }
  std::vector<std::string> units() const override { return {ctx_.config.broker.unit}; }
  void start() override;
  void stop() override;
  void reload() override;
  void restart_watches() override;
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  using Clock = std::chrono::steady_clock;

  void read_files();
  bool read_cookie_fingerprint();  // whether it changed
  void poll();
  void get(const char* target, std::function<void(http::Outcome)> done);
  void checked(http::Outcome outcome);
  void read_nodes();
  void read_queues(std::uint64_t began, BrokerFacts nodes);
  void read_ended(std::uint64_t began, const std::string& error, const std::string& queues_error,
                  std::optional<BrokerFacts> facts);
  void poll_later();
  void watch_seed();
  void unit_job(loop::Job job, const std::string& unit, bool restart, const std::string& what);

  void run(const loop::ApplyBrokerConf& a);
  void run(const loop::ClaimBrokerSeed& a);
  void run(const loop::JoinBrokerCluster& a);
  void run(const loop::ForgetBrokerNode& a);

  loop::DriverContext& ctx_;
  loop::Timers timers_;
  boost::asio::steady_timer* poll_timer_ = nullptr;
  boost::asio::steady_timer* seed_backoff_ = nullptr;
  bool stopped_ = false;
  std::uint64_t seed_generation_ = 0;  // a restarted watch makes the older one's answers stale

  std::string template_text_;
  std::string template_error_;
  std::optional<std::string> conf_file_;
  std::string authorization_;  // "Basic ..." from the password file; never logged
  std::string cookie_fingerprint_;
  std::string password_error_;     // the password file could not be read
  std::string cookie_file_error_;  // the fingerprint file could not be read

  std::optional<BrokerFacts> facts_;
  std::string facts_error_;
  std::string queues_error_;  // the last queues read failed: facts_ holds the queues of the one before
  std::string read_error_;  // the local check's: "" while the broker answers
  bool refused_ = false;
  std::string local_alarm_;
  Clock::time_point heard_at_;  // the last whole answer, or the unit's last start by us
  ViewClock views_;  // which view belongs to the broker's current run; how long it lists a partition

  bool seed_known_ = false;
  std::uint64_t seed_index_ = 0;
  std::optional<BrokerSeed> seed_;
  std::string seed_error_;

  std::string join_error_;
  std::optional<Clock::time_point> join_failed_at_;
  std::string forget_error_;
  std::optional<Clock::time_point> forget_failed_at_;
  std::string last_error_;
};

}  // namespace hasup::rabbitmq
