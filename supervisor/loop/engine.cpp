#include "supervisor/loop/engine.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <fcntl.h>

#include "supervisor/cluster/kv_view.hpp"
#include "supervisor/log/logging.hpp"
#include "supervisor/loop/decide.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/split.hpp"
#include "supervisor/version.hpp"

namespace hasup::loop {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

milliseconds ms(int value) { return milliseconds(value); }

consul::ClientSettings client_settings(const config::Config& c) {
  consul::ClientSettings s;
  s.agent = {c.consul.host, static_cast<unsigned short>(c.consul.port)};
  s.token = c.consul.token;
  s.request_timeout = ms(c.consul.request_timeout_ms);
  return s;
}

std::string short_id(const std::string& id) { return id.substr(0, 8); }

}  // namespace

Engine::Engine(asio::io_context& io, config::Config config, std::string config_path)
    : io_(io),
      config_(std::move(config)),
      config_path_(std::move(config_path)),
      keys_{config_.consul.key_prefix},
      consul_(io, client_settings(config_)),
      cycle_timer_(io),
      probe_timer_(io),
      quorum_deadline_(io),
      session_timer_(io),
      retry_timer_(io),
      watch_backoff_(io),
      shutdown_deadline_(io),
      wake_timer_(io),
      db_backoff_(io),
      db_probe_timer_(io),
      files_timer_(io),
      conflict_timer_(io) {
  versions_["supervisor"] = kVersion;
  link_.quorum_loss_timeout = ms(config_.consul.quorum_loss_timeout_ms);
  watched_units_ = split_list(config_.systemd.watch_units);
  if (config_.vip.enabled()) {
    watched_units_.push_back(config_.vip.keepalived_unit);
    read_vip_template();
  }
  if (config_.nginx.enabled) {
    watched_units_.push_back(config_.nginx.unit);
    read_nginx_template();
    load_nginx_file();
  }
  if (config_.db.enabled()) {
    if (config_.db.backend == "patroni") watched_units_.push_back(config_.db.unit);
    if (config_.db.backend == "stolon")
      for (const auto& unit : split_list(config_.db.stolon_units)) watched_units_.push_back(unit);
    read_db_inputs();
  }
  if (config_.files.enabled) watched_units_.push_back(config_.files.unit);
}

void Engine::read_vip_template() {
  auto text = read_small_file(config_.vip.template_path);
  vip_template_text_ = text.value_or("");
  vip_template_error_ = text ? "" : "cannot read the template " + config_.vip.template_path;
  if (!text) spdlog::error("{}", vip_template_error_);
}

void Engine::start_units() {
  if (watched_units_.empty()) return;
  systemd::UnitManagerOptions options;
  options.bus_address = config_.systemd.bus_address;
  units_ = std::make_unique<systemd::UnitManager>(io_, options);
  units_->set_connection_handler([this](bool up) {
    units_connected_ = up;
    spdlog::log(up ? spdlog::level::info : spdlog::level::warn, "systemd {}", up ? "reachable over D-Bus" : "unreachable: " + units_->last_error());
    wake();
  });
  // Unit changes (a restart, a crash) are wake-ups of the loop.
  units_->watch(watched_units_, [this](const systemd::UnitState& state) {
    auto& view = unit_views_[state.name];
    if (view.n_restarts != state.n_restarts && state.n_restarts > view.n_restarts && view.main_pid != 0)
      spdlog::warn("{} was restarted by systemd ({} restart(s))", state.name, state.n_restarts);
    view = {state.active_state, state.sub_state, state.n_restarts, state.main_pid};
    wake();
  });
  units_->connect();
}

void Engine::start() {
  spdlog::info("starting: node {} ({}), consul agent {}:{}, key prefix {}", config_.node.name, config_.node.address,
               config_.consul.host, config_.consul.port, config_.consul.key_prefix);
  probe_quorum();
  watch_kv();
  keep_session();
  start_units();
  start_vrrp_notify();
  start_nginx_watches();
  start_db();
  start_files();
  wake();
}

void Engine::wake() {
  if (cycle_posted_ || stopped_) return;
  cycle_posted_ = true;
  asio::post(io_, [this] { cycle(); });
}

void Engine::arm_cycle_timer() {
  cycle_timer_.expires_after(ms(config_.loop.interval_ms));
  cycle_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) wake();
  });
}

Snapshot Engine::observe() const {
  Snapshot s;
  s.self = config_.node.name;
  s.self_address = config_.node.address;
  s.versions = versions_;
  s.wall_time = cluster::utc_now_iso8601();
  s.consul = link_;
  if (link_.ever_reached_quorum) {
    auto age = std::chrono::duration_cast<milliseconds>(Clock::now() - last_quorum_contact_);
    s.consul.since_quorum_contact = age;
    s.consul.quorum_reachable = age < link_.quorum_loss_timeout;
  }
  s.service_registered = service_registered_;
  s.session = session_;
  s.kv = kv_;
  s.busy = busy_;
  s.shutting_down = shutting_down_;
  s.units_connected = units_connected_;
  s.units = unit_views_;
  s.vip = observe_vip();
  s.nginx = observe_nginx();
  s.db = observe_db();
  s.files = observe_files();
  return s;
}

VipView Engine::observe_vip() const {
  VipView v;
  const auto& c = config_.vip;
  v.enabled = c.enabled();
  if (!v.enabled) return v;
  v.template_text = vip_template_text_;
  v.template_error = vip_template_error_;
  v.current_conf = read_small_file(c.keepalived_conf);
  if (auto track = read_small_file(c.track_file)) v.fault_now = track->empty() || (*track)[0] != '0';
  v.unit = c.keepalived_unit;
  v.unfit_grace = milliseconds(c.unfit_grace_ms);
  if (c.db_primary_weight > 0) {
    v.base.preference_file = c.preference_file;
    v.base.preference_weight = c.db_primary_weight;
    if (auto file = read_small_file(c.preference_file)) v.preferred_now = !file->empty() && (*file)[0] == '1';
  }
  v.base.node_name = config_.node.name;
  v.base.interface = c.interface;
  v.base.virtual_router_id = c.virtual_router_id;
  v.base.priority = c.priority;
  v.base.advert_interval_ms = c.advert_interval_ms;
  v.base.self_address = config_.node.address;
  v.base.vip = c.address;
  v.base.track_file = c.track_file;
  v.base.notify_fifo = c.notify_fifo;
  v.vrrp_state = vrrp_state_;
  v.holds_address = vip_on_interface();
  return v;
}

void Engine::cycle() {
  cycle_posted_ = false;
  if (stopped_) return;
  Snapshot snapshot = observe();
  // The age of this node's local problem: decide() holds the floating IP
  // through a short one.
  if (local_problem(snapshot).empty())
    problem_since_.reset();
  else if (!problem_since_)
    problem_since_ = Clock::now();
  if (problem_since_) snapshot.vip.problem_for = std::chrono::duration_cast<milliseconds>(Clock::now() - *problem_since_);
  const Plan plan = decide(snapshot);
  log_decision(snapshot, plan);
  last_snapshot_ = snapshot;
  last_plan_ = plan;
  act(plan);
  heartbeat(plan);
  // READY once the loop turns (systemd orders dependents after it); the
  // watchdog is fed only from here, so a wedged loop gets us restarted.
  if (!announced_ready_) {
    notifier_.ready();
    announced_ready_ = true;
  }
  notifier_.status(cluster::to_string(plan.role) + ": " + plan.reason);
  notifier_.cycle_done();
  if (shutting_down_ && plan.actions.empty() && busy_.empty()) return finish_shutdown();
  arm_cycle_timer();
  if (plan.wake_after) {
    wake_timer_.expires_after(*plan.wake_after);
    wake_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) wake();
    });
  }
}

void Engine::log_decision(const Snapshot& s, const Plan& plan) {
  auto now = Clock::now();
  if (plan.role != last_role_) {
    auto level = plan.role == cluster::Role::cut_off ? spdlog::level::warn : spdlog::level::info;
    spdlog::log(level, "role {} -> {}", cluster::to_string(last_role_), cluster::to_string(plan.role));
    last_role_ = plan.role;
  }
  bool changed = plan.reason != last_logged_reason_;
  if (changed || now - last_logged_at_ >= std::chrono::seconds(config_.loop.log_repeat_s)) {
    if (s.busy.empty())
      spdlog::info("[{}] {}", cluster::to_string(plan.role), plan.reason);
    else
      spdlog::info("[{}] {} (busy: {})", cluster::to_string(plan.role), plan.reason, to_string(s.busy));
    last_logged_reason_ = plan.reason;
    last_logged_at_ = now;
  }
}

void Engine::act(const Plan& plan) {
  for (const auto& action : plan.actions) {
    busy_.insert(job_of(action));
    std::visit([this](const auto& a) { run(a); }, action);
  }
}

void Engine::run(const IdentifyAgent&) { job_identify_agent(); }
void Engine::run(const RegisterService&) { job_register_service(); }
void Engine::run(const OpenSession&) { job_open_session(); }
void Engine::run(const PublishMember& a) { job_publish_member(a.record); }
void Engine::run(const AcquireLeadership&) { job_acquire_leadership(); }
void Engine::run(const ReleaseLeadership& a) { job_release_leadership(a.session); }
void Engine::run(const PublishClusterState& a) { job_publish_cluster_state(a.state, a.epoch, a.session); }
void Engine::run(const CloseSession& a) { job_close_session(a.session); }
void Engine::run(const RegisterNode& a) { job_register_node(a.syncthing_device_id); }
void Engine::run(const SetVipFault& a) { job_set_vip_fault(a.fault); }
void Engine::run(const SetVipPreference& a) { job_set_vip_preference(a.preferred); }
void Engine::run(const ApplyKeepalivedConf& a) { job_apply_keepalived_conf(a.text); }
void Engine::run(const StartKeepalived&) { job_start_keepalived(); }
void Engine::run(const ApplyNginxConf& a) {
  nginx_first_unapplied_.reset();  // changes from now on wait for the next apply
  job_apply_nginx_conf(a.text, a.generation);
}
void Engine::run(const StartNginx&) { job_start_nginx(); }
void Engine::run(const ApplyPatroniConf& a) { job_apply_patroni_conf(a.yml, a.sql); }
void Engine::run(const StartPatroni&) { job_start_patroni(); }
void Engine::run(const BootstrapStolon& a) { job_bootstrap_stolon(a.spec); }
void Engine::run(const StartStolonUnits&) { job_start_stolon_units(); }
void Engine::run(const ApplySyncthingConfig& a) { job_apply_syncthing_config(a.body, a.changes); }
void Engine::run(const StartSyncthing&) { job_start_syncthing(); }

void Engine::finish_job(Job job) {
  busy_.erase(job);
  wake();
}

// The liveness check proves the loop turns: it is passed from the cycle, so a
// wedged loop lets it expire, which invalidates the session and frees the locks.
void Engine::heartbeat(const Plan& plan) {
  if (!service_registered_ || heartbeat_in_flight_ || shutting_down_) return;
  auto now = Clock::now();
  if (now - last_heartbeat_ < ms(config_.consul.check_ttl_ms) / 3) return;
  heartbeat_in_flight_ = true;
  consul_.check_pass(check_id(), "loop alive: " + cluster::to_string(plan.role), [this, now](consul::Result<bool> r) {
    heartbeat_in_flight_ = false;
    if (r) {
      last_heartbeat_ = now;
      return;
    }
    if (r.error().kind == consul::Error::Kind::status) {
      // The agent no longer knows our check (restarted with fresh state): register again.
      spdlog::warn("liveness check refused by the local agent ({}): registering again", r.error().to_string());
      service_registered_ = false;
      wake();
    }
  });
}

// ---- observers -------------------------------------------------------------

// A consistent read must be confirmed by the Raft leader with a quorum: its
// success is the proof that this node still talks to the cluster. A cut-off
// agent answers stale reads happily, so only consistent reads count here.
void Engine::probe_quorum() {
  if (stopped_) return;
  consul::ReadOptions options;
  options.consistency = consul::Consistency::consistent;
  consul_.kv_get(keys_.leader(), options, [this](consul::Result<consul::KvRead> r) {
    on_probe(r.ok(), r ? "" : r.error().to_string(), r ? r.value().entry : std::nullopt);
    probe_timer_.expires_after(ms(config_.consul.probe_interval_ms));
    probe_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) probe_quorum();
    });
  });
}

void Engine::on_probe(bool ok, const std::string& error, const std::optional<consul::KvEntry>& leader_key) {
  auto now = Clock::now();
  bool was_reachable = link_.ever_reached_quorum && now - last_quorum_contact_ < link_.quorum_loss_timeout;
  if (!ok) {
    link_.quorum_error = error;
    link_.last_error = error;
    last_probe_failed_ = true;
    spdlog::debug("quorum probe failed: {}", error);
    return;  // the deadline timer below declares the loss when the bound passes
  }
  // The probe reads the leader lock with a consistent read: the freshest fact
  // there is. A blocking query may hang on a Consul server that just lost its
  // Raft leadership (until its own timeout, ~35 s), so the watcher is not
  // trusted when the lock says otherwise, nor after a failed probe.
  std::string holder = leader_key ? leader_key->session : "";
  std::uint64_t epoch = leader_key && !holder.empty() ? leader_key->modify_index : 0;
  bool view_differs = kv_.known && (kv_.leader ? kv_.leader->session : "") != holder;
  if (!view_differs && kv_.known && kv_.leader) view_differs = kv_.leader->epoch != epoch;
  if (was_reachable && (view_differs || last_probe_failed_))
    restart_watch(view_differs ? "the leader lock changed under the watcher" : "Consul answered again after a failure");
  last_probe_failed_ = false;
  last_quorum_contact_ = now;
  link_.ever_reached_quorum = true;
  link_.quorum_error.clear();
  link_.last_error.clear();
  if (!was_reachable) {
    spdlog::info("Consul quorum reachable");
    // The watcher may still be backing off or waiting on a dead connection:
    // read the keys now so the first decisions after a cut-off are on fresh data.
    refresh_kv([] {});
    wake();
  }
  // Wake exactly when the bound would pass without another success.
  quorum_deadline_.expires_after(link_.quorum_loss_timeout + 1ms);
  quorum_deadline_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    spdlog::warn("no Consul quorum for {} ms: {}", link_.quorum_loss_timeout.count(),
                 link_.quorum_error.empty() ? "no answer" : link_.quorum_error);
    wake();
  });
}

consul::ReadOptions Engine::blocking(std::uint64_t index) const {
  consul::ReadOptions options;
  options.index = index;
  options.wait = std::chrono::seconds(config_.consul.blocking_wait_s);
  return options;
}

void Engine::restart_watch(const char* why) {
  spdlog::debug("re-reading the cluster's keys: {}", why);
  ++watch_generation_;
  watch_backoff_.cancel();
  watch_backoff_delay_ = 250ms;
  refresh_kv([] {});
  watch_kv();
  // The database's watch can hang on the same deposed server: a stale primary
  // in status, a preference on the wrong node.
  if (config_.db.enabled()) {
    ++db_watch_generation_;
    db_backoff_.cancel();
    db_backoff_delay_ = 250ms;
    watch_db_state();
  }
}

void Engine::watch_kv() {
  if (stopped_) return;
  std::uint64_t asked = view_index_;
  std::uint64_t generation = watch_generation_;
  consul_.kv_list(keys_.prefix + "/", blocking(asked), [this, asked, generation](consul::Result<consul::KvTree> r) {
    if (stopped_) return;
    bool current = generation == watch_generation_;  // else a newer loop has taken over
    if (!r) {
      if (!current) return;
      note_consul_error("watching " + keys_.prefix + "/", r.error());
      watch_backoff_.expires_after(watch_backoff_delay_);
      watch_backoff_delay_ = std::min(watch_backoff_delay_ * 2, milliseconds(5000));
      watch_backoff_.async_wait([this, generation](boost::system::error_code ec) {
        if (!ec && generation == watch_generation_) watch_kv();
      });
      return;
    }
    if (!current) {
      apply_kv(r.value().entries, r.value().index);  // still true data; apply_kv drops it if older
      return;
    }
    watch_backoff_delay_ = 250ms;
    if (r.value().index < asked) {
      // Consul's index went backwards (its state was reset or restored): start over.
      spdlog::warn("Consul index went back from {} to {}: re-reading", asked, r.value().index);
      view_index_ = 0;
    }
    apply_kv(r.value().entries, r.value().index);
    watch_kv();
  });
}

void Engine::apply_kv(const std::vector<consul::KvEntry>& entries, std::uint64_t index) {
  // An answer older than the view we hold (a read-back after a write overtook
  // it) or unchanged (a blocking query that timed out) changes nothing.
  if (kv_.known && index <= view_index_) return;
  view_index_ = index;
  bool had_member = kv_.members.count(config_.node.name) > 0;
  KvView view = cluster::build_kv_view(entries, keys_);
  for (const auto& bad : view.unreadable) {
    bool known = false;
    for (const auto& old : kv_.unreadable) known = known || (old.key == bad.key && old.error == bad.error);
    if (!known) spdlog::warn("ignoring unreadable record {}: {}", bad.key, bad.error);
  }
  kv_ = std::move(view);
  // Our record vanished although we published it: Consul deleted it, which it
  // does when it invalidates our session. Check the session now, not at the next renew.
  if (had_member && !kv_.members.count(config_.node.name) && session_.valid) check_session_now();
  wake();
}

// After a write, read back at once so the next cycle decides on what Consul
// now holds instead of repeating the write before the watcher catches up.
void Engine::refresh_kv(std::function<void()> then) {
  consul::ReadOptions options;
  options.consistency = consul::Consistency::consistent;
  consul_.kv_list(keys_.prefix + "/", options, [this, then = std::move(then)](consul::Result<consul::KvTree> r) {
    if (r) apply_kv(r.value().entries, r.value().index);
    then();
  });
}

void Engine::keep_session() {
  if (stopped_) return;
  int ttl = config_.consul.session_ttl_s;
  auto interval = ttl > 0 ? milliseconds(ttl * 1000 / 3) : milliseconds(5000);
  session_timer_.expires_after(interval);
  session_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    check_session_now();
    keep_session();
  });
}

void Engine::check_session_now() {
  if (!session_.valid) return;
  std::string id = session_.id;
  consul_.session_renew(id, [this, id](consul::Result<bool> r) {
    if (!r) return note_consul_error("renewing session " + short_id(id), r.error());
    if (!r.value() && session_.id == id) {
      spdlog::warn("session {} is gone (Consul invalidated it): stepping down and opening a new one", short_id(id));
      session_ = {};
      wake();
    }
  });
}

void Engine::note_consul_error(const std::string& what, const consul::Error& error) {
  link_.last_error = what + ": " + error.to_string();
  spdlog::debug("{}", link_.last_error);
}

// ---- jobs ------------------------------------------------------------------

void Engine::job_identify_agent() {
  consul_.agent_self([this](consul::Result<consul::AgentSelf> r) {
    if (r) {
      link_.agent_known = true;
      link_.agent_node = r.value().node_name;
      link_.agent_version = r.value().version;
      versions_["consul"] = r.value().version;
      spdlog::info("local Consul agent: node {}, datacenter {}, version {}{}", r.value().node_name,
                   r.value().datacenter, r.value().version, r.value().server ? ", server" : "");
    } else {
      note_consul_error("asking the local agent who it is", r.error());
      retry_timer_.expires_after(ms(config_.consul.probe_interval_ms));
      retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) wake();
      });
    }
    finish_job(Job::identify_agent);
  });
}

void Engine::job_register_service() {
  consul::ServiceRegistration registration;
  registration.id = service_id();
  registration.name = "ha-supervisor";
  registration.address = config_.node.address;
  registration.port = config_.api.port;
  registration.meta["node"] = config_.node.name;
  registration.meta["version"] = kVersion;
  consul::CheckDefinition alive;
  alive.id = check_id();
  alive.name = "ha-supervisor control loop alive";
  alive.ttl = ms(config_.consul.check_ttl_ms);
  alive.initial_status = "passing";
  registration.checks.push_back(alive);
  consul_.service_register(registration, [this](consul::Result<bool> r) {
    if (r) {
      service_registered_ = true;
      last_heartbeat_ = Clock::now();
      spdlog::info("registered service {} with liveness check {} (ttl {} ms)", service_id(), check_id(),
                   config_.consul.check_ttl_ms);
    } else {
      note_consul_error("registering the service", r.error());
      spdlog::warn("{}", link_.last_error);
    }
    finish_job(Job::register_service);
  });
}

// A supervisor restarted within the check TTL finds its previous session still
// alive (and maybe still holding the leader lock): adopting it keeps the
// cluster's state instead of forcing a needless handover.
void Engine::job_open_session() {
  if (session_lookup_done_) return create_session();
  consul_.sessions_on_node(link_.agent_node, [this](consul::Result<std::vector<consul::SessionInfo>> r) {
    if (!r) {
      note_consul_error("listing this node's sessions", r.error());
      return finish_job(Job::open_session);
    }
    session_lookup_done_ = true;
    std::vector<std::string> ours;
    for (const auto& s : r.value())
      if (s.name == session_name()) ours.push_back(s.id);
    if (ours.empty()) return create_session();
    for (std::size_t i = 1; i < ours.size(); ++i)
      consul_.session_destroy(ours[i], [](consul::Result<bool>) {});
    std::string id = ours.front();
    consul_.session_renew(id, [this, id](consul::Result<bool> renewed) {
      if (renewed && renewed.value()) {
        session_ = {id, true};
        spdlog::info("adopted this node's surviving session {}", short_id(id));
        return refresh_kv([this] { finish_job(Job::open_session); });
      }
      create_session();
    });
  });
}

void Engine::create_session() {
  consul::SessionSpec spec;
  spec.name = session_name();
  spec.node = link_.agent_node;
  // serfHealth: the node is gone or cut off; our check: the loop stopped turning.
  spec.checks = {"serfHealth", check_id()};
  spec.ttl = std::chrono::seconds(config_.consul.session_ttl_s);
  spec.lock_delay = ms(config_.consul.lock_delay_ms);
  // Delete, not release: a dead node's member record disappears with it.
  spec.behavior = consul::SessionSpec::Behavior::remove;
  consul_.session_create(spec, [this](consul::Result<std::string> r) {
    if (!r) {
      note_consul_error("opening a session", r.error());
      spdlog::warn("{}", link_.last_error);
      return finish_job(Job::open_session);
    }
    session_ = {r.value(), true};
    spdlog::info("opened session {} (checks serfHealth+{}, ttl {} s, lock-delay {} ms)", short_id(r.value()),
                 check_id(), config_.consul.session_ttl_s, config_.consul.lock_delay_ms);
    refresh_kv([this] { finish_job(Job::open_session); });
  });
}

void Engine::job_publish_member(const cluster::MemberRecord& record) {
  consul::PutOptions options;
  options.acquire = session_.id;
  consul_.kv_put(keys_.member(record.name), cluster::encode(record), options, [this](consul::Result<bool> r) {
    if (!r) {
      note_consul_error("publishing the member record", r.error());
    } else if (!r.value()) {
      spdlog::warn("member key {} is held by another session: not published", keys_.member(config_.node.name));
    }
    refresh_kv([this] { finish_job(Job::publish_member); });
  });
}

void Engine::job_acquire_leadership() {
  cluster::LeaderValue value{config_.node.name, config_.node.address};
  consul_.lock_acquire(keys_.leader(), session_.id, cluster::encode(value), [this](consul::Result<bool> r) {
    if (!r) {
      note_consul_error("acquiring the leader lock", r.error());
    } else if (!r.value()) {
      // Lost the race, or Consul's lock-delay still protects the previous
      // holder: try again soon rather than at the next timer tick.
      spdlog::debug("leader lock not acquired (taken, or within lock-delay)");
      retry_timer_.expires_after(150ms);
      retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) wake();
      });
    } else {
      spdlog::info("acquired the leader lock");
    }
    refresh_kv([this] { finish_job(Job::acquire_leadership); });
  });
}

void Engine::job_release_leadership(const std::string& session) {
  consul_.lock_release(keys_.leader(), session, [this](consul::Result<bool> r) {
    if (!r)
      note_consul_error("releasing the leader lock", r.error());
    else
      spdlog::info("released the leader lock");
    refresh_kv([this] { finish_job(Job::release_leadership); });
  });
}

// Fenced: the write commits only if the leader lock is still held by our
// session at the epoch we decided on; a deposed leader's write is refused.
void Engine::job_publish_cluster_state(const cluster::ClusterState& state, std::uint64_t epoch,
                                       const std::string& session) {
  std::vector<consul::TxnOp> ops(3);
  ops[0].verb = consul::TxnOp::Verb::check_session;
  ops[0].key = keys_.leader();
  ops[0].session = session;
  ops[1].verb = consul::TxnOp::Verb::check_index;
  ops[1].key = keys_.leader();
  ops[1].index = epoch;
  ops[2].verb = consul::TxnOp::Verb::set;
  ops[2].key = keys_.cluster_state();
  ops[2].value = cluster::encode(state);
  consul_.txn(ops, [this, epoch](consul::Result<consul::TxnResult> r) {
    if (!r) {
      note_consul_error("publishing the cluster view", r.error());
    } else if (!r.value().committed) {
      std::string why;
      for (const auto& e : r.value().errors) why += (why.empty() ? "" : "; ") + e;
      spdlog::warn("fenced write at epoch {} refused (leadership lost?): {}", epoch, why);
    }
    refresh_kv([this] { finish_job(Job::publish_cluster_state); });
  });
}

void Engine::job_close_session(const std::string& session) {
  consul_.session_destroy(session, [this, session](consul::Result<bool> r) {
    if (!r)
      note_consul_error("closing the session", r.error());
    else
      spdlog::info("closed session {}", short_id(session));
    if (session_.id == session) session_ = {};
    finish_job(Job::close_session);
  });
}

void Engine::job_register_node(const std::string& syncthing_device_id) {
  cluster::NodeRegistration node{config_.node.name, config_.node.address, syncthing_device_id};
  consul_.kv_put(keys_.node(node.name), cluster::encode(node), {}, [this](consul::Result<bool> r) {
    if (!r)
      note_consul_error("registering this node", r.error());
    else
      spdlog::info("registered node {} ({}) in the cluster", config_.node.name, config_.node.address);
    refresh_kv([this] { finish_job(Job::register_node); });
  });
}

void Engine::forget_node(const std::string& node, std::function<void(int, std::string)> done) {
  if (kv_.members.count(node)) return done(409, node + " is alive (it has a member record): stop it first");
  if (!kv_.registered.count(node)) return done(404, node + " is not registered");
  consul_.kv_delete(keys_.node(node), std::nullopt, false, [this, node, done](consul::Result<bool> r) {
    if (!r) return done(503, "not forgotten: " + r.error().to_string());
    spdlog::info("forgot node {} (operator request)", node);
    wake();
    done(200, node + " forgotten");
  });
}

// A local file write, done at once: it must work when Consul is gone, which is
// exactly when the floating IP has to leave this node.
void Engine::job_set_vip_fault(bool fault) {
  auto error = write_file_atomically(config_.vip.track_file, fault ? "1\n" : "0\n", 0644);
  if (!error.empty())
    spdlog::error("floating IP: {}", error);
  else
    spdlog::log(fault ? spdlog::level::warn : spdlog::level::info, "floating IP: track file set to {} ({})",
                fault ? 1 : 0, fault ? "FAULT: the IP leaves this node" : "this node may hold the IP");
  asio::post(io_, [this] { finish_job(Job::set_vip_fault); });
}

void Engine::job_set_vip_preference(bool preferred) {
  auto error = write_file_atomically(config_.vip.preference_file, preferred ? "1\n" : "0\n", 0644);
  if (!error.empty())
    spdlog::error("floating IP: {}", error);
  else
    spdlog::info("floating IP: preference track file set to {} ({})", preferred ? 1 : 0,
                 preferred ? "the database primary is here: next holder among healthy nodes" : "no preference");
  asio::post(io_, [this] { finish_job(Job::set_vip_preference); });
}

// New peers reach keepalived by a reload (SIGHUP), not a restart: the
// instance keeps its state and the IP does not flap.
void Engine::job_apply_keepalived_conf(const std::string& text) {
  auto error = write_file_atomically(config_.vip.keepalived_conf, text, 0644);
  if (!error.empty()) {
    spdlog::error("floating IP: {}", error);
    asio::post(io_, [this] { finish_job(Job::apply_keepalived_conf); });
    return;
  }
  spdlog::info("floating IP: wrote {}", config_.vip.keepalived_conf);
  auto unit = unit_views_.find(config_.vip.keepalived_unit);
  bool running = unit != unit_views_.end() && unit->second.reloadable();
  if (!units_ || !running) {
    asio::post(io_, [this] { finish_job(Job::apply_keepalived_conf); });
    return;
  }
  units_->reload(config_.vip.keepalived_unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok())
      spdlog::info("floating IP: keepalived reloaded");
    else
      spdlog::error("floating IP: {}", outcome.to_string());
    finish_job(Job::apply_keepalived_conf);
  });
}

void Engine::job_start_keepalived() {
  units_->start(config_.vip.keepalived_unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok())
      spdlog::info("floating IP: keepalived started");
    else
      spdlog::error("floating IP: {}", outcome.to_string());
    finish_job(Job::start_keepalived);
  });
}

// ---- shutdown and reload ---------------------------------------------------

void Engine::request_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  notifier_.stopping();
  spdlog::info("shutdown requested: handing over roles");
  // Bounded: an unreachable Consul must not keep the process alive.
  shutdown_deadline_.expires_after(ms(config_.consul.request_timeout_ms) * 2);
  shutdown_deadline_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    spdlog::warn("shutdown: Consul did not answer in time; stopping anyway");
    finish_shutdown();
  });
  wake();
}

void Engine::finish_shutdown() {
  if (stopped_) return;
  stopped_ = true;
  for (auto* t : {&cycle_timer_, &probe_timer_, &quorum_deadline_, &session_timer_, &retry_timer_, &watch_backoff_,
                 &wake_timer_, &db_backoff_, &db_probe_timer_})
    t->cancel();
  for (auto& t : nginx_backoff_) t->cancel();
  consul_.service_deregister(service_id(), [this](consul::Result<bool> r) {
    if (!r) spdlog::warn("shutdown: could not deregister {}: {}", service_id(), r.error().to_string());
    shutdown_deadline_.cancel();
    spdlog::info("stopped");
    io_.stop();
  });
}

void Engine::reload() {
  auto loaded = config::load_file(config_path_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) spdlog::error("{}", e.to_string());
    spdlog::error("reload refused: {} error(s) in {}; still running with the previous configuration",
                  loaded.errors.size(), config_path_);
    return;
  }
  const config::Config& next = *loaded.config;
  auto changes = config::diff(config_, next);
  // Only the keys the schema marks live are taken; the rest wait for a restart.
  config_.loop = next.loop;
  config_.log.level = next.log.level;
  log::set_level(next.log.level);
  config_.consul.request_timeout_ms = next.consul.request_timeout_ms;
  config_.consul.probe_interval_ms = next.consul.probe_interval_ms;
  config_.consul.quorum_loss_timeout_ms = next.consul.quorum_loss_timeout_ms;
  config_.consul.blocking_wait_s = next.consul.blocking_wait_s;
  config_.consul.token = next.consul.token;
  config_.consul.token_file = next.consul.token_file;
  log::add_secret(next.consul.token);
  consul_.set_token(next.consul.token);
  consul_.set_request_timeout(ms(next.consul.request_timeout_ms));
  link_.quorum_loss_timeout = ms(next.consul.quorum_loss_timeout_ms);
  auto join = [](const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
    return out.empty() ? std::string("none") : out;
  };
  if (config_.vip.enabled()) read_vip_template();
  config_.nginx.template_path = next.nginx.template_path;
  config_.nginx.wait_min_ms = next.nginx.wait_min_ms;
  config_.nginx.wait_max_ms = next.nginx.wait_max_ms;
  config_.nginx.reload_interval_ms = next.nginx.reload_interval_ms;
  config_.nginx.check_timeout_ms = next.nginx.check_timeout_ms;
  if (config_.nginx.enabled) read_nginx_template();
  config_.vip.unfit_grace_ms = next.vip.unfit_grace_ms;
  config_.db.probe_interval_ms = next.db.probe_interval_ms;
  config_.db.probe_timeout_ms = next.db.probe_timeout_ms;
  config_.db.unfit_after_ms = next.db.unfit_after_ms;
  config_.files.poll_interval_ms = next.files.poll_interval_ms;
  config_.files.unfit_after_ms = next.files.unfit_after_ms;
  config_.files.conflict_scan_interval_ms = next.files.conflict_scan_interval_ms;
  if (config_.db.enabled()) read_db_inputs();
  spdlog::info("reloaded {}: applied live: {}; needs a restart to apply: {}", config_path_, join(changes.live),
               join(changes.needs_restart));
  wake();
}

void Engine::write_maintenance_intent(const std::string& node, bool enabled, const std::string& requested_by,
                                      std::function<void(std::string)> done) {
  auto finish = [this, done = std::move(done)](std::string error) {
    wake();
    done(std::move(error));
  };
  if (!enabled) {
    consul_.kv_delete(keys_.maintenance(node), std::nullopt, false, [finish](consul::Result<bool> r) {
      finish(r ? std::string{} : r.error().to_string());
    });
    return;
  }
  cluster::MaintenanceIntent intent{true, requested_by, cluster::utc_now_iso8601()};
  consul_.kv_put(keys_.maintenance(node), cluster::encode(intent), {}, [finish](consul::Result<bool> r) {
    finish(r ? std::string{} : r.error().to_string());
  });
}

}  // namespace hasup::loop
