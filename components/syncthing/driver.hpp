#pragma once
// The replicated folders' driver. syncthing's whole state (identity, config,
// connections, this node's folder status, each peer's completion) is read
// when its event stream says something changed, and at least every
// kWholeReadEvery poll intervals; in between, one small ping per poll
// interval tells whether it still answers, so an unreachable syncthing is
// seen as soon as when everything was read every interval. The config job
// (PUT /rest/config, then a restart through systemd only when syncthing says
// it needs one) and a search for conflict copies on a worker thread.
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <map>
#include <optional>

#include "components/syncthing/client.hpp"
#include "components/syncthing/key_rotator.hpp"
#include "supervisor/loop/driver.hpp"

namespace hasup::syncthing {

class FilesDriver : public loop::Driver {
 public:
  // Without an event saying so, the whole state is read every this many poll intervals.
  static constexpr int kWholeReadEvery = 10;

  explicit FilesDriver(loop::DriverContext& ctx);
  ~FilesDriver() override;

  const char* name() const override { return "files"; }
  std::vector<std::string> units() const override;
  void start() override;
  void stop() override;
  void observe(loop::Snapshot& s) const override;
  void observed(loop::Snapshot& s) override;
  bool act(const loop::Action& action) override;

 private:
  void observe_filesystem(loop::FilesView& v) const;
  using Clock = std::chrono::steady_clock;

  bool have_client();
  void tick();
  void schedule_tick(std::chrono::milliseconds after);
  void read_soon();
  void read_state();
  void ping();
  void on_read(loop::FilesView fresh, std::string error);
  void watch_events();
  void scan_conflicts();
  void run(const loop::ApplySyncthingConfig& a);
  void run(const loop::StartSyncthing& a);
  void run(const loop::RotateSyncthingKey& a);
  void key_settled(const std::string& error);
  http::Policy api_policy() const;

  loop::DriverContext& ctx_;
  loop::Timers timers_;
  boost::asio::steady_timer& tick_timer_;
  boost::asio::steady_timer& events_retry_;
  boost::asio::steady_timer& conflict_timer_;
  bool stopped_ = false;
  loop::FilesView files_;  // kept facts; observe() adds the ages
  std::unique_ptr<Client> client_;  // once the API key is read
  std::unique_ptr<KeyRotator> key_rotator_;
  bool rotating_ = false;  // a rotation of the key is under way (the job, or settling its journal)
  std::optional<Clock::time_point> key_error_at_;
  bool tick_running_ = false;       // a ping or a whole read is under way
  bool dirty_ = true;               // something changed since the last whole read began
  bool events_ok_ = false;          // the event stream answers
  std::int64_t event_since_ = 0;
  std::optional<Clock::time_point> last_read_;      // the last whole read that succeeded
  std::optional<Clock::time_point> failing_since_;  // since the last whole read of syncthing
  std::optional<Clock::time_point> behind_since_;   // this node missing items its peers have, since
  std::map<std::string, Clock::time_point> absent_since_;  // registered peers without a member record
  // As last called: the rule's hysteresis needs it (its memory, updated by
  // the const observe()).
  mutable bool filesystem_full_ = false;
  // The conflict search walks the folders here. Last member: joined first.
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

}  // namespace hasup::syncthing
