#pragma once
// The supervisor's control loop and the machinery around it. One thread, one
// io_context: observers keep the latest facts (quorum probe, KV watcher,
// session keeper), each cycle freezes them into a Snapshot, decide() chooses,
// and act() starts jobs that report back by waking the loop. Nothing here
// blocks: every Consul call is asynchronous and bounded in time.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "components/systemd/unit_manager.hpp"
#include "supervisor/cluster/keys.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/consul/client.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/service_notify.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

class Engine {
 public:
  using Clock = std::chrono::steady_clock;

  Engine(boost::asio::io_context& io, config::Config config, std::string config_path);

  void start();
  // SIGTERM: hand leadership over at once, close the session, then stop the io_context.
  void request_shutdown();
  // SIGHUP: re-read the config file; apply what can change live, name what needs a restart.
  void reload();
  void wake();

  const Snapshot& last_snapshot() const { return last_snapshot_; }
  const Plan& last_plan() const { return last_plan_; }
  const config::Config& config() const { return config_; }

  // Operator intent: written to Consul, then the loop is woken. Never acts directly.
  void write_maintenance_intent(const std::string& node, bool enabled, const std::string& requested_by,
                                std::function<void(std::string error)> done);
  // Removes a node that is not alive from the cluster's registry (and so from
  // every node's VRRP peers). Refused for a live member.
  void forget_node(const std::string& node, std::function<void(int status, std::string message)> done);

 private:
  Snapshot observe() const;
  void cycle();
  void act(const Plan& plan);
  void run(const IdentifyAgent&);
  void run(const RegisterService&);
  void run(const OpenSession&);
  void run(const PublishMember&);
  void run(const AcquireLeadership&);
  void run(const ReleaseLeadership&);
  void run(const PublishClusterState&);
  void run(const CloseSession&);
  void run(const RegisterNode&);
  void run(const SetVipFault&);
  void run(const SetVipPreference&);
  void run(const ApplyKeepalivedConf&);
  void run(const StartKeepalived&);
  void run(const ApplyNginxConf&);
  void run(const StartNginx&);
  void run(const ApplyPatroniConf&);
  void run(const StartPatroni&);
  void run(const BootstrapStolon&);
  void run(const StartStolonUnits&);
  void run(const ApplySyncthingConfig&);
  void run(const StartSyncthing&);
  void log_decision(const Snapshot& s, const Plan& plan);
  void heartbeat(const Plan& plan);
  void arm_cycle_timer();

  // Observers.
  void probe_quorum();
  void on_probe(bool ok, const std::string& error, const std::optional<consul::KvEntry>& leader_key);
  void restart_watch(const char* why);
  void watch_kv();
  void apply_kv(const std::vector<consul::KvEntry>& entries, std::uint64_t index);
  void refresh_kv(std::function<void()> then);
  void keep_session();
  void check_session_now();

  // Jobs.
  void finish_job(Job job);
  void job_identify_agent();
  void job_register_service();
  void job_open_session();
  void create_session();
  void job_publish_member(const cluster::MemberRecord& record);
  void job_acquire_leadership();
  void job_release_leadership(const std::string& session);
  void job_publish_cluster_state(const cluster::ClusterState& state, std::uint64_t epoch, const std::string& session);
  void job_close_session(const std::string& session);
  void job_set_vip_fault(bool fault);
  void job_set_vip_preference(bool preferred);
  void job_apply_keepalived_conf(const std::string& text);
  void job_start_keepalived();
  void job_register_node(const std::string& syncthing_device_id);
  void start_units();
  void read_vip_template();
  VipView observe_vip() const;
  void finish_shutdown();

  // The floating IP's state as keepalived reports it (engine_vip.cpp).
  void start_vrrp_notify();
  void read_vrrp_notify();
  bool vip_on_interface() const;

  // nginx (engine_nginx.cpp): Consul's healthy services in, a validated config out.
  void start_nginx_watches();
  void watch_service_health(std::size_t index);
  void note_nginx_input_change();
  void read_nginx_template();
  void load_nginx_file();
  NginxView observe_nginx() const;
  void job_apply_nginx_conf(const std::string& text, std::uint64_t generation);
  void on_nginx_checked(const std::string& text, std::uint64_t generation, const std::string& candidate,
                        bool ok, const std::string& why);
  void job_start_nginx();

  // PostgreSQL HA (engine_db.cpp): the backend's state from Consul, the
  // libpq probes, and Patroni's rendered files and unit.
  void read_db_inputs();
  void start_db();
  std::string db_keys_prefix() const;
  void watch_db_state();
  void retry_db_watch(const consul::Error& error);
  void take_db_view(db::DbClusterParse parsed, std::uint64_t index);
  std::string db_endpoint_conninfo() const;
  std::string db_local_conninfo() const;
  void run_db_probe();
  void on_db_probe(const db::EndpointProbe& endpoint, const db::LocalProbe& local);
  DbView observe_db() const;
  void job_apply_patroni_conf(const std::string& yml, const std::string& sql);
  void job_start_patroni();
  void read_stolon_inputs();
  void job_bootstrap_stolon(const std::string& spec);
  void job_start_stolon_units();

  // The replicated folders (engine_files.cpp): syncthing's state read from
  // its REST API, its config kept, conflict copies searched for.
  void start_files();
  void poll_files();
  void on_files_read(FilesView fresh, std::string error);
  void scan_conflicts();
  FilesView observe_files() const;
  void job_apply_syncthing_config(const std::string& body, const std::string& changes);
  void job_start_syncthing();

  void note_consul_error(const std::string& what, const consul::Error& error);
  std::string session_name() const { return "ha-supervisor/" + config_.node.name; }
  std::string service_id() const { return "ha-supervisor-" + config_.node.name; }
  std::string check_id() const { return "ha-supervisor-alive-" + config_.node.name; }
  consul::ReadOptions blocking(std::uint64_t index) const;

  boost::asio::io_context& io_;
  config::Config config_;
  std::string config_path_;
  cluster::Keys keys_;
  consul::Client consul_;

  // The latest facts, kept by observers and jobs; frozen into a Snapshot each cycle.
  ConsulLink link_;
  Clock::time_point last_quorum_contact_{};
  bool service_registered_ = false;
  SessionView session_;
  bool session_lookup_done_ = false;
  KvView kv_;
  std::uint64_t view_index_ = 0;  // Consul index of the view in kv_
  std::set<Job> busy_;
  bool shutting_down_ = false;
  bool stopped_ = false;
  std::map<std::string, std::string> versions_;

  boost::asio::steady_timer cycle_timer_;
  boost::asio::steady_timer probe_timer_;
  boost::asio::steady_timer quorum_deadline_;
  boost::asio::steady_timer session_timer_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer watch_backoff_;
  boost::asio::steady_timer shutdown_deadline_;
  std::chrono::milliseconds watch_backoff_delay_{250};
  std::uint64_t watch_generation_ = 0;  // only the newest watch loop goes on
  bool last_probe_failed_ = false;
  bool cycle_posted_ = false;

  // systemd over D-Bus, when something is to be watched or driven.
  std::vector<std::string> watched_units_;
  std::unique_ptr<systemd::UnitManager> units_;
  bool units_connected_ = false;
  std::map<std::string, UnitView> unit_views_;
  std::string vip_template_text_;
  std::string vip_template_error_;

  std::unique_ptr<boost::asio::posix::stream_descriptor> vrrp_fifo_;
  boost::asio::streambuf vrrp_buffer_;
  std::string vrrp_state_;

  std::vector<WatchedService> nginx_services_;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> nginx_backoff_;
  std::vector<std::chrono::milliseconds> nginx_backoff_delay_;
  std::string nginx_template_text_;
  std::string nginx_template_error_;
  std::optional<std::string> nginx_body_;  // what nginx was last given (file without its header)
  std::uint64_t nginx_generation_ = 0;
  std::string nginx_fingerprint_;
  std::string nginx_rejected_body_;
  std::string nginx_rejected_error_;
  std::string nginx_last_error_;
  std::uint64_t nginx_reloads_ = 0;
  Clock::time_point nginx_changed_at_{};
  std::optional<Clock::time_point> nginx_first_unapplied_;
  std::optional<Clock::time_point> nginx_last_apply_;
  boost::asio::steady_timer wake_timer_;  // a plan's wake_after

  DbView db_;  // kept facts; observe_db() adds the ages
  std::uint64_t db_index_ = 0;
  std::uint64_t db_watch_generation_ = 0;  // only the newest watch loop goes on
  std::chrono::milliseconds db_backoff_delay_{250};
  boost::asio::steady_timer db_backoff_;
  boost::asio::steady_timer db_probe_timer_;
  bool db_probe_running_ = false;
  std::optional<Clock::time_point> db_failing_since_;
  std::optional<Clock::time_point> problem_since_;  // local_problem() not empty since

  FilesView files_;  // kept facts; observe_files() adds the ages
  std::string syncthing_key_;
  boost::asio::steady_timer files_timer_;
  boost::asio::steady_timer conflict_timer_;
  bool files_poll_running_ = false;
  std::optional<Clock::time_point> files_failing_since_;  // since the last whole read of syncthing
  std::optional<Clock::time_point> files_behind_since_;   // this node missing items its peers have, since

  ServiceNotifier notifier_;
  bool announced_ready_ = false;
  Snapshot last_snapshot_;
  Plan last_plan_;
  std::string last_logged_reason_;
  Clock::time_point last_logged_at_{};
  cluster::Role last_role_ = cluster::Role::starting;
  Clock::time_point last_heartbeat_{};
  bool heartbeat_in_flight_ = false;

  // Blocking work (`nginx -t`; the libpq probes on their own thread, so a
  // hung database never delays a config check) runs here, never on the
  // loop's thread. Last members: destroyed (joined) first, before anything
  // their jobs report to.
  std::unique_ptr<boost::asio::thread_pool> db_workers_;
  std::unique_ptr<boost::asio::thread_pool> files_workers_;  // the conflict search walks the folders
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

}  // namespace hasup::loop
