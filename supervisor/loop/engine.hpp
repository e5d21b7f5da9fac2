#pragma once
// The supervisor's control loop and what every component shares. One thread,
// one io_context: the engine keeps the Consul link (quorum probe, session,
// the cluster's keys), each driver keeps its component's facts; each cycle
// freezes them into a Snapshot, decide() chooses, and act() starts jobs
// (the cluster's own here, the others in their driver) that report back by
// waking the loop. Nothing here blocks: every Consul call is asynchronous
// and bounded in time.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/cluster/keys.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/consul/client.hpp"
#include "supervisor/metrics/cluster_metrics.hpp"
#include "supervisor/loop/catalog_drift_poll.hpp"
#include "supervisor/loop/driver.hpp"
#include "supervisor/loop/event_log.hpp"
#include "supervisor/loop/gossip_poll.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/service_notify.hpp"
#include "supervisor/loop/settings_keeper.hpp"
#include "supervisor/loop/snapshot.hpp"
#include "supervisor/loop/units.hpp"

namespace hasup::loop {

class Engine {
 public:
  using Clock = std::chrono::steady_clock;

  // `file_config`: the node's file; the cluster's settings are laid over it
  // (this node's copy at once, the store's when read).
  Engine(boost::asio::io_context& io, config::Config file_config, std::string config_path);
  ~Engine();

  void start();
  // SIGTERM: hand leadership over at once, close the session, then stop the io_context.
  void request_shutdown(const std::string& why = "SIGTERM");
  // 0, or 75 when the supervisor stopped to start again with the cluster's
  // settings (systemd's Restart=always starts it).
  int exit_code() const { return exit_code_; }
  // SIGHUP: re-read the config file; apply what can change live, name what needs a restart.
  void reload();
  void wake();

  const Snapshot& last_snapshot() const { return last_snapshot_; }
  const Plan& last_plan() const { return last_plan_; }
  // GET /metrics: Prometheus text of the last snapshot and plan, and the loop's counters.
  std::string metrics_text() const { return metrics_.text(last_snapshot_, last_plan_); }
  const config::Config& config() const { return config_; }
  // GET /events: the cluster's event timeline (every node's ring, merged).
  void read_events(std::function<void(EventTimeline)> done) { events_.read_timeline(std::move(done)); }

  // Operator intent: written to Consul, then the loop is woken. Never acts directly.
  void write_maintenance_intent(const std::string& node, bool enabled, const std::string& requested_by,
                                std::function<void(std::string error)> done);
  // Removes a node that is not alive from the cluster's registry (and so from
  // every node's VRRP peers). Refused for a live member.
  void forget_node(const std::string& node, std::function<void(int status, std::string message)> done);
  // hactl settings set/unset: the store's settings edited (checked against
  // this node's file first), written with a check-and-set.
  void write_cluster_settings(const std::map<std::string, nlohmann::json>& set, const std::vector<std::string>& unset,
                              std::function<void(int status, nlohmann::json body)> done);
  // GET /settings: the store's settings, what is in effect here, each member's.
  nlohmann::json settings_document() const;
  // hactl rotate db-password / replication-password: a rotation of that login
  // requested in the store (check-and-set); the leader drives it.
  void write_login_rotation_request(db_login::LoginSecret secret, const std::string& requested_by, std::function<void(int status, nlohmann::json body)> done);
  // POST /rotate {"secret": "syncthing-key"}: the next generation of every
  // node's syncthing API key, written to the store (components/syncthing/key_rotation.hpp).
  void write_syncthing_key_rotation(const std::string& requested_by, std::function<void(int status, nlohmann::json body)> done);
  // hactl cold-start --accept NODE: the operator's founder written to the
  // store (create-only), after the preview (components/cold-start) allowed it
  // on this node's view; NODE's supervisor carries it out. --cancel removes it.
  void write_cold_start_accept(const std::string& node, const std::string& requested_by,
                               std::function<void(int status, nlohmann::json body)> done);
  void cancel_cold_start_accept(std::function<void(int status, nlohmann::json body)> done);
  // hactl switchover: the request written (phase floating-ip) once the preview on
  // this node's view allows it; the leader carries it out (components/switchover).
  void write_switchover_request(const std::string& to, const std::string& requested_by,
                                std::function<void(int status, nlohmann::json body)> done);
  // hactl pause / resume: the cluster's pause written to the store
  // (check-and-set); every component's rules read it (components/pause).
  void write_pause(bool paused, const std::string& reason, const std::string& requested_by,
                   std::function<void(int status, nlohmann::json body)> done);

 private:
  Snapshot observe() const;
  void cycle();
  void act(const Plan& plan);
  void log_decision(const Snapshot& s, const Plan& plan);
  void heartbeat(const Plan& plan);
  void arm_cycle_timer();
  // Every 10 s on the leader: incidents of the timeline that ended are counted
  // in the metrics (the failover phase histograms), each once.
  void count_incidents_later();

  // Observers.
  void probe_quorum();
  void on_probe(Clock::time_point sent, bool ok, const std::string& error,
                const std::optional<consul::KvEntry>& leader_key);
  void restart_watch(const char* why);
  void rejoin_gossip();
  void watch_kv();
  void apply_kv(const std::vector<consul::KvEntry>& entries, std::uint64_t index);
  void refresh_kv(std::function<void()> then);
  void keep_session();
  void check_session_now();

  // The cluster's jobs; the components' jobs run in their drivers.
  void finish_job(Job job);
  void finish_failed_job(Job job, const std::string& warning = {});
  void run(const IdentifyAgent&);
  void run(const RegisterService&);
  void run(const OpenSession&);
  void create_session();
  void run(const PublishMember&);
  void run(const AcquireLeadership&);
  void run(const ReleaseLeadership&);
  void run(const PublishClusterState&);
  void run(const CloseSession&);
  void run(const RegisterNode&);
  void run(const RememberNodes&);
  void run(const ResyncConsulAgent&);
  void run(const RestoreSettings&);
  void load_known_nodes();
  // The cluster's settings (engine_settings.cpp).
  void consider_settings();
  void adopt(const config::Config& desired, const std::string& origin);
  void keep_settings_copy();
  void update_known_nodes();
  void finish_shutdown();

  void note_consul_error(const std::string& what, const consul::Error& error);
  std::string session_name() const { return "ha-supervisor/" + config_.node.name; }
  std::string service_id() const { return "ha-supervisor-" + config_.node.name; }
  std::string check_id() const { return "ha-supervisor-alive-" + config_.node.name; }
  consul::ReadOptions blocking(std::uint64_t index) const;

  boost::asio::io_context& io_;
  SettingsKeeper settings_;  // before config_: config_ starts from it
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
  // Consul's last refusal of a lock to our session; only the current session's counts.
  struct Refusal {
    std::string session;
    Clock::time_point at;
  };
  std::optional<Refusal> member_refused_, leader_refused_;
  KvView kv_;
  std::uint64_t view_index_ = 0;  // Consul index of the view in kv_
  std::map<std::string, cluster::NodeRegistration> remembered_;  // the known-nodes file
  std::string memory_error_;
  KnownNodes known_;  // cluster::known_nodes(kv_, remembered_), kept current
  std::set<Job> busy_;
  bool shutting_down_ = false;
  int exit_code_ = 0;
  bool settings_checked_at_start_ = false;
  config::SettingsCopy settings_copy_kept_;  // what the copy on disk holds (as written last)
  std::string settings_copy_error_;
  bool stopped_ = false;
  std::map<std::string, std::string> versions_;

  Timers timers_;  // every timer below: finish_shutdown() cancels them all
  boost::asio::steady_timer& cycle_timer_;
  boost::asio::steady_timer& probe_timer_;
  boost::asio::steady_timer& quorum_deadline_;
  boost::asio::steady_timer& session_timer_;
  boost::asio::steady_timer& retry_timer_;
  boost::asio::steady_timer& watch_backoff_;
  boost::asio::steady_timer& wake_timer_;  // a plan's wake_after
  GossipPoll gossip_;  // on a timer from timers_
  CatalogDriftPoll catalog_drift_;  // on a timer from timers_
  EventLog events_;  // on a timer from timers_
  boost::asio::steady_timer& incidents_timer_;
  std::set<std::string> counted_incidents_;  // ended incidents seen while leading
  bool counting_since_leading_ = false;      // a read was made since this node became leader
  // Not in timers_: it bounds the shutdown itself.
  boost::asio::steady_timer shutdown_deadline_;
  std::chrono::milliseconds watch_backoff_delay_{250};
  std::uint64_t watch_generation_ = 0;  // only the newest watch loop goes on
  bool last_probe_failed_ = false;
  // The quorum came back after a loss and the keys have not been re-read with
  // a consistent read since: kv_ may still name this node's lost lock.
  bool view_stale_ = false;
  bool cycle_posted_ = false;
  std::map<Job, boost::asio::steady_timer*> failed_job_timers_;  // from timers_, one per job
  std::map<Job, std::string> failed_job_warned_;  // the failure last warned about, until a success

  Units units_;
  DriverContext driver_context_;
  std::vector<std::unique_ptr<Driver>> drivers_;

  ServiceNotifier notifier_;
  bool announced_ready_ = false;
  Snapshot last_snapshot_;
  Plan last_plan_;
  metrics::ClusterMetrics metrics_;
  std::string last_logged_reason_;
  Clock::time_point last_logged_at_{};
  cluster::Role last_role_ = cluster::Role::starting;
  Clock::time_point last_heartbeat_{};
  bool heartbeat_in_flight_ = false;
};

}  // namespace hasup::loop
