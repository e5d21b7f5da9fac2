#pragma once
// nginx's driver: blocking watches on Consul's instances of each configured
// service (validated on arrival: Consul data never reaches nginx unchecked),
// and the apply job: candidate file -> `nginx -t` on a worker thread ->
// atomic rename -> reload (or start) through systemd.
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>

#include "supervisor/loop/driver.hpp"

namespace hasup::nginx {

class NginxDriver : public loop::Driver {
 public:
  explicit NginxDriver(loop::DriverContext& ctx);
  ~NginxDriver() override;

  const char* name() const override { return "nginx"; }
  std::vector<std::string> units() const override;
  void start() override;
  void stop() override;
  void reload() override;
  void observe(loop::Snapshot& s) const override;
  bool act(const loop::Action& action) override;

 private:
  using Clock = std::chrono::steady_clock;

  // One watched service and its retry state.
  struct Watch {
    loop::WatchedService service;
    boost::asio::steady_timer* backoff = nullptr;
    std::chrono::milliseconds backoff_delay{250};
  };

  void read_template();
  void load_served_file();
  void note_input_change();
  void watch_service(std::size_t index);

  void run(const loop::ApplyNginxConf& a);
  void run(const loop::StartNginx& a);
  void on_checked(const loop::ApplyNginxConf& a, const std::string& candidate, bool ok, const std::string& why);
  void finish_apply(const loop::ApplyNginxConf& a, const std::string& error);

  loop::DriverContext& ctx_;
  loop::Timers timers_;
  bool stopped_ = false;
  std::vector<Watch> watches_;
  std::string template_text_;
  std::string template_error_;
  std::optional<std::string> body_;  // what nginx was last given (file without its header)
  std::uint64_t generation_ = 0;
  std::string fingerprint_;
  std::string rejected_body_;
  std::string rejected_error_;
  std::string last_error_;
  std::uint64_t reloads_ = 0;
  Clock::time_point changed_at_{};
  std::optional<Clock::time_point> first_unapplied_;
  std::optional<Clock::time_point> last_apply_;
  loop::CatchUpRecord catch_up_;  // reloads asked because nginx ran an older file than nginx.conf
  // `nginx -t` runs here, never on the loop's thread. Last member: joined
  // first, before anything its jobs report to is destroyed.
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

}  // namespace hasup::nginx
