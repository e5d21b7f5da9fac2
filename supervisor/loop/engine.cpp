#include "supervisor/loop/engine.hpp"

#include "supervisor/events/incidents.hpp"

#include <stdexcept>
#include <utility>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "supervisor/cluster/known_nodes.hpp"
#include "supervisor/cluster/kv_view.hpp"
#include "supervisor/log/logging.hpp"
#include "supervisor/loop/decide.hpp"
#include "supervisor/loop/drivers.hpp"
#include "supervisor/loop/gate_durability.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"
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
  if (!c.consul.ca_file.empty()) {
    // The config's load checked the file; it can only have gone since.
    std::string error;
    s.agent.tls = http::load_tls_trust(c.consul.ca_file, error);
    if (!s.agent.tls) throw std::runtime_error("consul.ca_file: " + error);
  }
  s.token = c.consul.token;
  s.request_timeout = ms(c.consul.request_timeout_ms);
  return s;
}

std::string short_id(const std::string& id) { return id.substr(0, 8); }

// Why Consul refused a transaction, in one line.
std::string refusal_text(const consul::TxnResult& result) {
  std::string why;
  for (const auto& e : result.errors) why += (why.empty() ? "" : "; ") + e;
  return why;
}

// One transaction: `key` set to `value` and `removed` deleted, or neither.
std::vector<consul::TxnOp> set_and_remove(const std::string& key, const std::string& value, const std::string& removed) {
  std::vector<consul::TxnOp> ops(2);
  ops[0].verb = consul::TxnOp::Verb::set;
  ops[0].key = key;
  ops[0].value = value;
  ops[1].verb = consul::TxnOp::Verb::remove;
  ops[1].key = removed;
  return ops;
}

}  // namespace

Engine::Engine(asio::io_context& io, config::Config file_config, std::string config_path)
    : io_(io),
      settings_(std::move(file_config)),
      config_(settings_.starting_config()),
      config_path_(std::move(config_path)),
      keys_{config_.consul.key_prefix},
      consul_(io, client_settings(config_)),
      timers_(io),
      cycle_timer_(timers_.make()),
      probe_timer_(timers_.make()),
      quorum_deadline_(timers_.make()),
      session_timer_(timers_.make()),
      retry_timer_(timers_.make()),
      watch_backoff_(timers_.make()),
      wake_timer_(timers_.make()),
      gossip_(consul_, timers_.make(), [this] { return config_.consul.gossip_poll_interval_ms; }, [this] { wake(); }),
      catalog_drift_(consul_, timers_.make(), [this] { return link_.agent_node; }, [this] { wake(); }),
      events_(consul_, timers_.make(), keys_.events_dir(), config_.node.name),
      incidents_timer_(timers_.make()),
      shutdown_deadline_(io),
      units_(io, config_.systemd.bus_address, [this] { wake(); }),
      driver_context_{io,
                      consul_,
                      config_,
                      keys_,
                      kv_,
                      known_,
                      units_,
                      [this] { wake(); },
                      [this](Job job) { finish_job(job); },
                      [this](const std::string& what, const consul::Error& error) { note_consul_error(what, error); },
                      [this](std::uint64_t index) { return blocking(index); }},
      drivers_(make_drivers(driver_context_)) {
  versions_["supervisor"] = kVersion;
  settings_copy_kept_ = settings_.applied();
  link_.quorum_loss_timeout = ms(config_.consul.quorum_loss_timeout_ms);
}

// Drivers first: their jobs' callbacks refer to the engine's members.
Engine::~Engine() { drivers_.clear(); }

void Engine::start() {
  spdlog::info("starting: node {} ({}), consul agent {}:{}, key prefix {}", config_.node.name, config_.node.address,
               config_.consul.host, config_.consul.port, config_.consul.key_prefix);
  events_.note("supervisor", "start", std::string("supervisor ") + kVersion + " started");
  load_known_nodes();
  probe_quorum();
  gossip_.start();
  catalog_drift_.start();
  watch_kv();
  keep_session();
  // One watch over every unit: the configured extras, then each driver's.
  std::vector<std::string> units = split_list(config_.systemd.watch_units);
  for (const auto& driver : drivers_)
    for (auto& unit : driver->units()) units.push_back(std::move(unit));
  units_.start(std::move(units));
  for (const auto& driver : drivers_) driver->start();
  count_incidents_later();
  wake();
}

void Engine::count_incidents_later() {
  incidents_timer_.expires_after(std::chrono::seconds(10));
  incidents_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    if (last_plan_.role != cluster::Role::leader) {
      counting_since_leading_ = false;
      return count_incidents_later();
    }
    events_.read_timeline([this](EventTimeline timeline) {
      if (stopped_) return;
      // A new leader only remembers the incidents that had ended: the one
      // before it counted those (or saw them happen, not this process).
      const auto incidents = events::summarize_incidents(timeline.events);
      for (const auto* incident :
           events::newly_over(incidents, events::utc_now_ms(), counted_incidents_, !counting_since_leading_))
        metrics_.incident_over(*incident);
      counting_since_leading_ = true;
      count_incidents_later();
    });
  });
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
  s.durability = config_.cluster.durability;
  if (config_.files.enabled) {
    auto gate = read_gate_durability(config_.cluster.gate_durability_file);
    s.gate_durability = std::move(gate.rule);
    s.gate_durability_error = std::move(gate.error);
  }
  s.versions = versions_;
  s.wall_time = cluster::utc_now_iso8601();
  s.wall_ms = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  s.consul = link_;
  gossip_.observe(s.consul);
  catalog_drift_.observe(s.consul);
  if (link_.ever_reached_quorum) {
    auto age = std::chrono::duration_cast<milliseconds>(Clock::now() - last_quorum_contact_);
    s.consul.since_quorum_contact = age;
    s.consul.quorum_reachable = age < link_.quorum_loss_timeout && !view_stale_;
  }
  s.service_registered = service_registered_;
  s.session = session_;
  auto refused_ago = [this](const std::optional<Refusal>& r) -> std::optional<milliseconds> {
    if (!r || r->session != session_.id) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(Clock::now() - r->at);
  };
  s.refused.member_ago = refused_ago(member_refused_);
  s.refused.leader_ago = refused_ago(leader_refused_);
  s.kv = kv_;
  s.settings = settings_.view(config_);
  s.known = known_;
  s.busy = busy_;
  s.shutting_down = shutting_down_;
  s.units_connected = units_.connected();
  s.units = units_.views();
  for (const auto& driver : drivers_) driver->observe(s);
  return s;
}

void Engine::cycle() {
  cycle_posted_ = false;
  if (stopped_) return;
  const auto cycle_started = Clock::now();
  Snapshot snapshot = observe();
  for (const auto& driver : drivers_) driver->observed(snapshot);
  const Plan plan = decide(snapshot);
  log_decision(snapshot, plan);
  events_.cycle(snapshot, plan);
  last_snapshot_ = snapshot;
  last_plan_ = plan;
  act(plan);
  heartbeat(plan);
  metrics_.cycle_done(last_snapshot_, last_plan_, Clock::now() - cycle_started);
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
    bool taken = std::visit(
        [this](const auto& a) {
          if constexpr (requires { run(a); }) {
            run(a);
            return true;
          } else {
            return false;
          }
        },
        action);
    for (const auto& driver : drivers_)
      if (!taken) taken = driver->act(action);
    if (!taken) {
      // decide() asked for a component this node does not run: a bug, said loudly, never a hang.
      spdlog::error("no driver takes the action {}", to_string(job_of(action)));
      busy_.erase(job_of(action));
    }
  }
}

// Also the end of a failure's streak: its warning may be said again.
void Engine::finish_job(Job job) {
  busy_.erase(job);
  failed_job_warned_.erase(job);
  wake();
}

// A call Consul failed (an ACL's 403, no cluster leader yet): the job stays
// busy for kLockRetry, so the loop asks again four times a second instead of
// at once (a 403 answers in ~3 ms: the same refused call 300 times a second).
// `warning`, when given, is logged once while it stays the same.
void Engine::finish_failed_job(Job job, const std::string& warning) {
  if (!warning.empty() && failed_job_warned_[job] != warning) {
    spdlog::warn("{}", warning);
    failed_job_warned_[job] = warning;
  }
  auto [entry, fresh] = failed_job_timers_.try_emplace(job, nullptr);
  if (fresh) entry->second = &timers_.make();
  entry->second->expires_after(kLockRetry);
  entry->second->async_wait([this, job](boost::system::error_code ec) {
    if (ec) return;
    busy_.erase(job);  // not finish_job: the streak goes on until a success
    wake();
  });
}

// The liveness check shows in Consul that the loop turns: it is passed from the
// cycle, so a wedged loop lets it expire. It is for the operator's eyes (and
// monitoring) only: the session does not carry it (see create_session).
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
  const auto sent = Clock::now();
  consul_.kv_get(keys_.leader(), options, [this, sent](consul::Result<consul::KvRead> r) {
    on_probe(sent, r.ok(), r ? "" : r.error().to_string(), r ? r.value().entry : std::nullopt);
    probe_timer_.expires_after(ms(config_.consul.probe_interval_ms));
    probe_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) probe_quorum();
    });
  });
}

// A consistent read proves the quorum as of when it was sent, not when its
// answer arrived (up to consul.request_timeout_ms later): the contact counts
// from the send, so a slow answer never stretches the time a node that may
// be cut off goes on believing it is not.
void Engine::on_probe(Clock::time_point sent, bool ok, const std::string& error,
                      const std::optional<consul::KvEntry>& leader_key) {
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
  last_quorum_contact_ = std::max(last_quorum_contact_, sent);
  const bool first_contact = !link_.ever_reached_quorum;
  link_.ever_reached_quorum = true;
  link_.quorum_error.clear();
  link_.last_error.clear();
  if (!was_reachable) {
    spdlog::info("Consul quorum reachable");
    // Every watcher, the drivers' too, may still be backing off or waiting on
    // a dead connection (a crashed Raft leader's: ~30 s): read the keys now and
    // watch them afresh, so the first decisions after a cut-off are on fresh
    // data (seen: the database's view stale for a minute after such a crash).
    // Until that read answers, the view of the lock is the one from before the
    // cut-off: the snapshot keeps the node cut off meanwhile (view_stale_), or
    // a node whose lock was taken over would act as leader for a moment (seen:
    // "role cut-off -> leader", then "leader -> follower" 6 ms later).
    if (first_contact) {
      refresh_kv([] {});
    } else {
      view_stale_ = true;
      restart_watch("the quorum is back");
      rejoin_gossip();
    }
    wake();
  } else if (view_stale_) {
    refresh_kv([] {});  // the re-read after the cut-off failed: again, at each probe
  }
  // Wake exactly when the bound would pass without another success.
  quorum_deadline_.expires_at(last_quorum_contact_ + link_.quorum_loss_timeout + 1ms);
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
  for (const auto& driver : drivers_) driver->restart_watches();
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
    if (!known) spdlog::warn("ignoring unreadable record {}: {}", quoted_printable(bad.key, 200), bad.error);
  }
  kv_ = std::move(view);
  consider_settings();
  update_known_nodes();
  // Our record vanished although we published it: Consul deleted it, which it
  // does when it invalidates our session. Check the session now, not at the next renew.
  if (had_member && !kv_.members.count(config_.node.name) && session_.valid) check_session_now();
  wake();
}

// After a cut-off (a partition that healed), the peers' gossip may still
// call this node failed while it sees them alive: neither side probes a node
// it holds dead, so serf noticed only at its 30 s reconnect, and until then
// Consul refused this node a session ("Check 'serfHealth' is in critical
// state"). A join through each peer is a push/pull of member state both
// ways: this node learns it was called dead and refutes it at once.
void Engine::rejoin_gossip() {
  for (const auto& [name, node] : known_.nodes) {
    if (name == config_.node.name || node.address.empty()) continue;
    consul_.agent_join(node.address, [name = name](consul::Result<bool> r) {
      if (r) spdlog::info("gossip: rejoined through {} after the cut-off", name);
      else spdlog::warn("gossip: rejoining through {} failed: {}", name, r.error().to_string());
    });
  }
}

// After a write, read back at once so the next cycle decides on what Consul
// now holds instead of repeating the write before the watcher catches up.
void Engine::refresh_kv(std::function<void()> then) {
  consul::ReadOptions options;
  options.consistency = consul::Consistency::consistent;
  consul_.kv_list(keys_.prefix + "/", options, [this, then = std::move(then)](consul::Result<consul::KvTree> r) {
    if (r) {
      // A consistent read: the view is current now, changed or not.
      bool was_stale = std::exchange(view_stale_, false);
      apply_kv(r.value().entries, r.value().index);
      if (was_stale) wake();
    }
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

void Engine::run(const IdentifyAgent&) {
  consul_.agent_self([this](consul::Result<consul::AgentSelf> r) {
    if (r) {
      link_.agent_known = true;
      link_.agent_node = r.value().node_name;
      link_.agent_version = r.value().version;
      link_.agent_protections = r.value().protections;
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

void Engine::run(const RegisterService&) {
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
      return finish_job(Job::register_service);
    }
    note_consul_error("registering the service", r.error());
    finish_failed_job(Job::register_service, link_.last_error);
  });
}

// A restarted supervisor (systemd's watchdog, a crash, an upgrade) finds its
// previous session still alive within the session TTL (and maybe still holding
// the leader lock): adopting it keeps the cluster's state instead of forcing a
// needless handover.
void Engine::run(const OpenSession&) {
  if (session_lookup_done_) return create_session();
  consul_.sessions_on_node(link_.agent_node, [this](consul::Result<std::vector<consul::SessionInfo>> r) {
    if (!r) {
      note_consul_error("listing this node's sessions", r.error());
      return finish_failed_job(Job::open_session);
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
  // serfHealth only: the node is gone or cut off. Not our liveness check: when
  // Consul's Raft leader crashes, a 1.8 agent holds back local check updates
  // while an RPC hangs on the dead leader's connection (10-30 s), so every
  // survivor's TTL check expired and every survivor lost its session, its
  // member record and the floating IP at once. A wedged loop is restarted by
  // systemd's watchdog (WatchdogSec, fed from the cycle) and adopts the session;
  // a supervisor dead for good loses it at the session TTL.
  spec.checks = {"serfHealth"};
  spec.ttl = std::chrono::seconds(config_.consul.session_ttl_s);
  spec.lock_delay = ms(config_.consul.lock_delay_ms);
  // Delete, not release: a dead node's member record disappears with it.
  spec.behavior = consul::SessionSpec::Behavior::remove;
  consul_.session_create(spec, [this](consul::Result<std::string> r) {
    if (!r) {
      note_consul_error("opening a session", r.error());
      return finish_failed_job(Job::open_session, link_.last_error);
    }
    session_ = {r.value(), true};
    spdlog::info("opened session {} (check serfHealth, ttl {} s, lock-delay {} ms)", short_id(r.value()),
                 config_.consul.session_ttl_s, config_.consul.lock_delay_ms);
    refresh_kv([this] { finish_job(Job::open_session); });
  });
}

void Engine::run(const PublishMember& a) {
  const cluster::MemberRecord& record = a.record;
  consul::PutOptions options;
  options.acquire = session_.id;
  consul_.kv_put(keys_.member(record.name), cluster::encode(record), options, [this, session = session_.id](
                                                                                 consul::Result<bool> r) {
    if (!r) {
      note_consul_error("publishing the member record", r.error());
    } else if (!r.value()) {
      // Once per streak: decide() retries every kLockRetry meanwhile.
      if (!member_refused_ || member_refused_->session != session)
        spdlog::warn("member key {} refused by Consul: held by another session, or within the lock-delay "
                     "({} ms) after this node's previous session ended; retrying",
                     keys_.member(config_.node.name), config_.consul.lock_delay_ms);
      member_refused_ = Refusal{session, Clock::now()};
    } else {
      if (member_refused_ && member_refused_->session == session) spdlog::info("member record published");
      member_refused_.reset();
    }
    refresh_kv([this, failed = !r] { failed ? finish_failed_job(Job::publish_member) : finish_job(Job::publish_member); });
  });
}

void Engine::run(const AcquireLeadership&) {
  cluster::LeaderValue value{config_.node.name, config_.node.address};
  consul_.lock_acquire(keys_.leader(), session_.id, cluster::encode(value), [this, session = session_.id](
                                                                               consul::Result<bool> r) {
    if (!r) {
      note_consul_error("acquiring the leader lock", r.error());
    } else if (!r.value()) {
      // Lost the race, or Consul's lock-delay still protects the previous
      // holder: decide() tries again after kLockRetry.
      spdlog::debug("leader lock not acquired (taken, or within lock-delay)");
      leader_refused_ = Refusal{session, Clock::now()};
    } else {
      spdlog::info("acquired the leader lock");
      leader_refused_.reset();
    }
    refresh_kv([this, failed = !r] {
      failed ? finish_failed_job(Job::acquire_leadership) : finish_job(Job::acquire_leadership);
    });
  });
}

void Engine::run(const ReleaseLeadership& a) {
  const std::string& session = a.session;
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
void Engine::run(const PublishClusterState& a) {
  const auto& [state, epoch, session] = a;
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
      spdlog::warn("fenced write at epoch {} refused (leadership lost?): {}", epoch, refusal_text(r.value()));
    }
    refresh_kv([this] { finish_job(Job::publish_cluster_state); });
  });
}

void Engine::run(const CloseSession& a) {
  const std::string session = a.session;
  consul_.session_destroy(session, [this, session](consul::Result<bool> r) {
    if (!r)
      note_consul_error("closing the session", r.error());
    else
      spdlog::info("closed session {}", short_id(session));
    if (session_.id == session) session_ = {};
    finish_job(Job::close_session);
  });
}

// With a tombstone's removal: a node provisioned again after an operator
// forgot it is a member again.
void Engine::run(const RegisterNode& a) {
  const std::string& syncthing_device_id = a.syncthing_device_id;
  cluster::NodeRegistration node{config_.node.name, config_.node.address, syncthing_device_id,
                                 cluster::newest_member_schema()};
  auto ops = set_and_remove(keys_.node(node.name), cluster::encode(node), keys_.forgotten(node.name));
  consul_.txn(ops, [this](consul::Result<consul::TxnResult> r) {
    if (!r)
      note_consul_error("registering this node", r.error());
    else if (!r.value().committed)
      spdlog::warn("registering this node: Consul refused the transaction: {}", refusal_text(r.value()));
    else
      spdlog::info("registered node {} ({}) in the cluster", config_.node.name, config_.node.address);
    refresh_kv([this, failed = !r || !r.value().committed] {
      failed ? finish_failed_job(Job::register_node) : finish_job(Job::register_node);
    });
  });
}

void Engine::forget_node(const std::string& node, std::function<void(int, std::string)> done) {
  if (kv_.members.count(node)) return done(409, node + " is alive (it has a member record): stop it first");
  if (!kv_.registered.count(node) && !known_.nodes.count(node)) return done(404, node + " is not a node of the cluster");
  // One transaction: the tombstone tells every node that remembers it to let
  // it go too (cluster/known_nodes.hpp), and the registration goes with it.
  auto ops = set_and_remove(keys_.forgotten(node), cluster::encode(cluster::ForgottenNode{node, cluster::utc_now_iso8601()}),
                            keys_.node(node));
  consul_.txn(ops, [this, node, done](consul::Result<consul::TxnResult> r) {
    if (!r) return done(503, "not forgotten: " + r.error().to_string());
    if (!r.value().committed) return done(503, "not forgotten: Consul refused the transaction: " + refusal_text(r.value()));
    spdlog::info("forgot node {} (operator request): its registration removed, a tombstone left", node);
    refresh_kv([this] { wake(); });
    done(200, node + " forgotten");
  });
}

// ---- this node's memory of the cluster's nodes -------------------------------

void Engine::load_known_nodes() {
  const auto& path = config_.node.known_nodes_file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    spdlog::info("no memory of the cluster's nodes yet ({}): learning them from Consul", path);
    update_known_nodes();
    return;
  }
  auto read = read_small_file(path, kSmallFileLimit);
  auto decoded = read.ok() ? cluster::decode_remembered(read.content) : cluster::RememberedDecode{{}, read.problem};
  if (!decoded.nodes) {
    memory_error_ = path + " is unreadable (" + decoded.error + "): starting without a memory of the cluster's nodes";
    spdlog::error("{}", memory_error_);
  } else {
    remembered_ = std::move(*decoded.nodes);
    std::string names;
    for (const auto& [name, node] : remembered_) names += (names.empty() ? "" : ", ") + name;
    spdlog::info("remembered nodes from {}: {}", path, names.empty() ? "none" : names);
  }
  update_known_nodes();
}

void Engine::update_known_nodes() {
  auto previous = std::move(known_.kept);
  known_ = cluster::known_nodes(kv_, remembered_, config_.node.name);
  known_.memory_error = memory_error_;
  for (const auto& name : known_.kept)
    if (!previous.count(name))
      spdlog::warn("node {} is missing from Consul's registrations but was never forgotten: kept as a peer "
                   "(hactl forget {} if it left for good)", name, name);
}

// Written on the loop's thread: a small file, and the loop must not decide
// again on a memory the disk does not hold yet.
void Engine::run(const RememberNodes& a) {
  const auto& path = config_.node.known_nodes_file;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string error = write_file_atomically(path, cluster::encode_remembered(a.nodes), 0600);
  if (!error.empty()) {
    std::string said = "cannot write " + path + ": " + error;
    if (said != memory_error_) spdlog::error("{} (the cluster's nodes are not remembered across a restart)", said);
    memory_error_ = said;
  } else {
    for (const auto& [name, node] : remembered_)
      if (!a.nodes.count(name)) spdlog::info("node {} no longer remembered (forgotten by an operator)", name);
    memory_error_.clear();
  }
  remembered_ = a.nodes;  // also on failure: the loop must not write again every cycle
  update_known_nodes();
  finish_job(Job::remember_nodes);
}

void Engine::run(const ResyncConsulAgent& a) {
  spdlog::warn("Consul's catalog disagrees with the local agent on {} (a status change anti-entropy lost): asking "
               "the agent to reload, which syncs all of its state to the catalog",
               a.disagreements);
  catalog_drift_.resynced();
  consul_.agent_reload([this](consul::Result<bool> r) {
    if (r) {
      spdlog::info("the local Consul agent reloaded and synced its checks to the catalog");
    } else {
      note_consul_error("asking the local agent to reload", r.error());
      spdlog::warn("asking the local Consul agent to reload failed: {}", r.error().to_string());
    }
    finish_job(Job::resync_consul_agent);
  });
}

// ---- shutdown and reload ---------------------------------------------------

void Engine::request_shutdown(const std::string& why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  notifier_.stopping();
  spdlog::info("shutdown requested ({}): handing over roles", why);
  events_.note("supervisor", "stop", "stopping (" + why + "): handing over its roles");
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
  gossip_.stop();
  catalog_drift_.stop();
  timers_.cancel_all();
  for (const auto& driver : drivers_) driver->stop();
  events_.flush([this] {
    consul_.service_deregister(service_id(), [this](consul::Result<bool> r) {
      if (!r) spdlog::warn("shutdown: could not deregister {}: {}", service_id(), r.error().to_string());
      shutdown_deadline_.cancel();
      spdlog::info("stopped");
      io_.stop();
    });
  });
}

void Engine::reload() {
  auto loaded = config::load_file(config_path_);
  std::optional<config::Config> desired;
  if (loaded.config) desired = settings_.with_file(*loaded.config);
  if (!desired) {
    for (const auto& e : loaded.errors) spdlog::error("{}", e.to_string());
    const std::string why = loaded.config ? "it breaks a rule with the cluster's settings (logged)"
                                          : std::to_string(loaded.errors.size()) + " error(s) in " + config_path_;
    spdlog::error("reload refused: {}; still running with the previous configuration", why);
    events_.note("supervisor", "refusal", "configuration reload refused: " + why + "; the previous one stays");
    return;
  }
  for (const auto& n : loaded.notices) spdlog::warn("{}", n.to_string());
  adopt(*desired, config_path_);
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
