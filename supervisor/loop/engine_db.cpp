// PostgreSQL HA's side of the engine: a blocking watch on the backend's keys in
// Consul (Patroni's NAMESPACE/SCOPE/ tree, or stolon's clusterdata), parsed
// into the shared model; the libpq probes on their own worker thread; and,
// with Patroni, the apply job: patroni.yml and the bootstrap SQL written
// whole, then Patroni reloaded (or started) through systemd.
#include <boost/asio/post.hpp>
#include <grp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>

#include "components/patroni/dcs_state.hpp"
#include "components/patroni/render.hpp"
#include "components/stolon/bootstrap_once.hpp"
#include "components/stolon/clusterdata.hpp"
#include "components/stolon/render.hpp"
#include "components/stolon/stolonctl.hpp"
#include "supervisor/loop/decide_db.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::loop {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// The supervisor's own pgpass: libpq reads the superuser's password from it,
// so no conninfo the supervisor builds or logs ever holds a password.
constexpr const char* kPgpass = "/run/ha-supervisor/pgpass";

bool has_keyword(const std::string& conninfo, const std::string& keyword) {
  return conninfo.find(keyword + "=") != std::string::npos || conninfo.find(keyword + " =") != std::string::npos;
}

std::string with_passfile(std::string conninfo) {
  if (!has_keyword(conninfo, "password") && !has_keyword(conninfo, "passfile"))
    conninfo += std::string(" passfile=") + kPgpass;
  return conninfo;
}

}  // namespace

std::string Engine::db_keys_prefix() const {
  const auto& c = config_.db;
  return c.backend == "stolon" ? c.stolon_prefix + "/" + c.scope + "/" : c.patroni_namespace + "/" + c.scope + "/";
}

// Templates, the secrets and the files as they are: read at start and on SIGHUP.
void Engine::read_db_inputs() {
  const auto& c = config_.db;
  db_.enabled = c.enabled();
  db_.backend = c.backend;
  db_.unit = c.unit;
  db_.unfit_after = milliseconds(c.unfit_after_ms);
  if (c.backend == "stolon") return read_stolon_inputs();
  if (c.backend != "patroni") return;
  std::string error;
  auto yml = read_small_file(c.patroni_template);
  auto sql = read_small_file(c.bootstrap_template);
  auto secrets_text = read_small_file(c.secrets_file);
  if (!yml) error = "cannot read the template " + c.patroni_template;
  else if (!sql) error = "cannot read the template " + c.bootstrap_template;
  else if (!secrets_text) error = "cannot read the secrets file " + c.secrets_file;
  patroni::SecretsParse secrets;
  if (error.empty()) {
    secrets = patroni::parse_secrets(*secrets_text);
    if (!secrets.error.empty()) error = c.secrets_file + ": " + secrets.error;
  }
  if (!error.empty() && error != db_.template_error) spdlog::error("patroni: {}", error);
  db_.template_error = error;
  db_.patroni_template = yml.value_or("");
  db_.bootstrap_template = sql.value_or("");
  auto& m = db_.model;
  m.node_name = config_.node.name;
  m.scope = c.scope;
  m.namespace_ = c.patroni_namespace;
  m.address = config_.node.address;
  m.port = c.port;
  m.api_port = c.api_port;
  m.consul_host = config_.consul.host;
  m.consul_port = config_.consul.port;
  m.data_dir = c.data_dir;
  m.bin_dir = c.bin_dir;
  m.runtime_dir = c.runtime_dir;
  m.log_dir = c.log_dir;
  m.peer_network = c.peer_network;
  m.post_bootstrap = post_bootstrap_command(c.post_bootstrap, c.bootstrap_sql);
  m.ttl_s = c.ttl_s;
  m.loop_wait_s = c.loop_wait_s;
  m.retry_timeout_s = c.retry_timeout_s;
  m.synchronous_mode = c.synchronous != "off";
  m.synchronous_mode_strict = c.synchronous == "strict";
  m.manager_user = c.manager_user;
  m.manager_database = c.manager_database;
  m.secrets = secrets.secrets;
  db_.current_conf = read_small_file(c.patroni_conf);
  db_.current_sql = read_small_file(c.bootstrap_sql);
  if (error.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(kPgpass).parent_path(), ec);
    auto e = write_file_atomically(kPgpass, "*:*:*:postgres:" + m.secrets.superuser + "\n", 0600);
    if (!e.empty()) spdlog::error("patroni: {}", e);
  }
}

// stolon's initial cluster spec from the db.* settings: synchronous
// replication as db.synchronous says, client access from db.peer_network
// (the proxies connect from every node). Rendered once per load.
void Engine::read_stolon_inputs() {
  const auto& c = config_.db;
  db_.stolon_units = split_list(c.stolon_units);
  auto text = read_small_file(c.stolon_spec_template);
  std::string error = text ? "" : "cannot read the template " + c.stolon_spec_template;
  if (error.empty()) {
    stolon::StolonSpecSettings spec;
    spec.synchronous_replication = c.synchronous != "off";
    if (!c.peer_network.empty()) spec.pg_hba.push_back("host all all " + c.peer_network + " md5");
    auto rendered = stolon::render_cluster_spec(*text, spec);
    if (rendered.error.empty())
      db_.stolon_spec = rendered.text;
    else
      error = "cluster spec not rendered: " + rendered.error;
  }
  if (!error.empty() && error != db_.template_error) spdlog::error("stolon: {}", error);
  db_.template_error = error;
}

void Engine::start_db() {
  if (!config_.db.enabled()) return;
  db_workers_ = std::make_unique<asio::thread_pool>(1);
  spdlog::info("database: {} backend, state from Consul under {}", config_.db.backend, db_keys_prefix());
  watch_db_state();
  run_db_probe();
}

void Engine::retry_db_watch(const consul::Error& error) {
  db_.cluster_error = error.to_string();
  note_consul_error("watching the database's state", error);
  db_backoff_.expires_after(db_backoff_delay_);
  db_backoff_delay_ = std::min(db_backoff_delay_ * 2, milliseconds(5000));
  const std::uint64_t generation = db_watch_generation_;
  db_backoff_.async_wait([this, generation](boost::system::error_code ec) {
    if (!ec && generation == db_watch_generation_) watch_db_state();
  });
  wake();
}

void Engine::take_db_view(db::DbClusterParse parsed, std::uint64_t index) {
  db_backoff_delay_ = 250ms;
  db_index_ = index < db_index_ ? 0 : index;  // Consul's index went back: start over
  if (!parsed.view) {
    if (parsed.error != db_.cluster_error)
      spdlog::error("database: refused {}'s state in Consul: {} (the last good view stays)", config_.db.backend,
                    parsed.error);
    db_.cluster_error = parsed.error;
    return wake();
  }
  db_.cluster_error.clear();
  for (const auto& problem : parsed.view->problems)
    if (std::find(db_.cluster.problems.begin(), db_.cluster.problems.end(), problem) == db_.cluster.problems.end())
      spdlog::warn("database: refused part of {}'s state: {}", config_.db.backend, problem);
  if (parsed.view->initialized && (!db_.cluster_known || parsed.view->primary != db_.cluster.primary))
    spdlog::info("database: primary {}", parsed.view->primary.empty() ? "none (failover in progress)" : parsed.view->primary);
  if (!db_.cluster_known || *parsed.view != db_.cluster) wake();
  db_.cluster = std::move(*parsed.view);
  db_.cluster_known = true;
}

void Engine::watch_db_state() {
  if (stopped_) return;
  const std::string prefix = db_keys_prefix();
  const std::uint64_t generation = db_watch_generation_;
  if (config_.db.backend == "stolon") {
    consul_.kv_get(prefix + "clusterdata", blocking(db_index_), [this, generation](consul::Result<consul::KvRead> r) {
      if (stopped_ || generation != db_watch_generation_) return;  // a newer watch has taken over
      if (!r) return retry_db_watch(r.error());
      db::DbClusterParse parsed;
      if (r.value().entry) {
        parsed = stolon::parse_stolon_clusterdata(r.value().entry->value);
      } else {
        parsed.view = db::DbClusterView{};
        parsed.view->backend = "stolon";
      }
      take_db_view(std::move(parsed), r.value().index);
      watch_db_state();
    });
    return;
  }
  consul_.kv_list(prefix, blocking(db_index_), [this, prefix, generation](consul::Result<consul::KvTree> r) {
    if (stopped_ || generation != db_watch_generation_) return;  // a newer watch has taken over
    if (!r) return retry_db_watch(r.error());
    std::vector<patroni::PatroniKey> keys;
    for (const auto& e : r.value().entries) keys.push_back({e.key, e.value, e.session});
    take_db_view(patroni::parse_patroni_state(prefix, keys), r.value().index);
    watch_db_state();
  });
}

// What local clients use: the configured conninfo; else with stolon this
// node's proxy (it always leads to the primary), with Patroni every
// registered node (libpq finds the one that takes writes).
std::string Engine::db_endpoint_conninfo() const {
  const auto& c = config_.db;
  if (!c.endpoint.empty()) return with_passfile(c.endpoint);
  if (c.backend == "stolon")
    return with_passfile("host=" + config_.node.address + " port=" + std::to_string(c.port) +
                         " dbname=postgres user=postgres connect_timeout=1");
  std::vector<std::string> addresses;
  for (const auto& [name, address] : kv_.registered) addresses.push_back(address);
  if (std::find(addresses.begin(), addresses.end(), config_.node.address) == addresses.end())
    addresses.push_back(config_.node.address);
  std::string hosts, ports;
  for (const auto& a : addresses) {
    hosts += (hosts.empty() ? "" : ",") + a;
    ports += (ports.empty() ? "" : ",") + std::to_string(c.port);
  }
  return with_passfile("host=" + hosts + " port=" + ports +
                       " dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=1");
}

std::string Engine::db_local_conninfo() const {
  const auto& c = config_.db;
  if (!c.local.empty()) return with_passfile(c.local);
  const int port = c.backend == "stolon" ? c.stolon_keeper_port : c.port;
  return with_passfile("host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=postgres connect_timeout=1");
}

// One probe round at a time on its own thread; the next one starts an
// interval after this one ends, so a hung server never piles probes up.
void Engine::run_db_probe() {
  if (stopped_ || db_probe_running_) return;
  db_probe_running_ = true;
  db::ProbeSettings settings;
  settings.endpoint_conninfo = db_endpoint_conninfo();
  settings.local_conninfo = db_local_conninfo();
  settings.node_name = config_.node.name;
  settings.timeout = milliseconds(config_.db.probe_timeout_ms);
  asio::post(*db_workers_, [this, settings] {
    auto endpoint = db::probe_endpoint(settings);
    auto local = db::probe_local(settings);
    asio::post(io_, [this, endpoint, local] { on_db_probe(endpoint, local); });
  });
}

void Engine::on_db_probe(const db::EndpointProbe& endpoint, const db::LocalProbe& local) {
  db_probe_running_ = false;
  if (stopped_) return;
  const bool was_writable = !db_.endpoint || db_.endpoint->writable;
  if (endpoint.writable) {
    if (db_failing_since_) spdlog::info("database: writable again through the local endpoint ({})", endpoint.server);
    db_failing_since_.reset();
  } else if (!db_failing_since_) {
    db_failing_since_ = Clock::now();
    spdlog::warn("database: the local endpoint does not take writes: {}", endpoint.error);
  }
  if (was_writable != endpoint.writable || !db_.local || db_.local->in_recovery != local.in_recovery) wake();
  db_.endpoint = endpoint;
  db_.local = local;
  db_probe_timer_.expires_after(milliseconds(config_.db.probe_interval_ms));
  db_probe_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) run_db_probe();
  });
}

DbView Engine::observe_db() const {
  DbView v = db_;
  v.endpoint_failing_for =
      db_failing_since_ ? std::chrono::duration_cast<milliseconds>(Clock::now() - *db_failing_since_) : 0ms;
  return v;
}

// Both files whole (a reader never sees half), readable by Patroni (group
// postgres) and nobody else: they hold the cluster's passwords.
void Engine::job_apply_patroni_conf(const std::string& yml, const std::string& sql) {
  const auto& c = config_.db;
  std::string error;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(c.patroni_conf).parent_path(), ec);
  struct group* postgres = getgrnam("postgres");
  for (const auto& [path, text] : {std::pair{c.bootstrap_sql, sql}, {c.patroni_conf, yml}}) {
    if (!error.empty()) break;
    error = write_file_atomically(path, text, 0640);
    if (error.empty() && postgres && chown(path.c_str(), 0, postgres->gr_gid) != 0)
      error = "cannot give " + path + " to group postgres: " + std::strerror(errno);
  }
  if (!error.empty()) {
    db_.last_error = error;
    spdlog::error("patroni: {}", error);
    return finish_job(Job::apply_patroni_conf);
  }
  db_.current_conf = yml;
  db_.current_sql = sql;
  spdlog::info("patroni: wrote {}", c.patroni_conf);
  auto unit = unit_views_.find(c.unit);
  const bool running = unit != unit_views_.end() && unit->second.reloadable();
  // Not connected to systemd yet: the start follows as its own job once it is.
  if (!units_ || !units_connected_) return finish_job(Job::apply_patroni_conf);
  auto done = [this, running](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      db_.last_error.clear();
      spdlog::info("patroni: {} {}", config_.db.unit, running ? "reloaded" : "started");
    } else {
      db_.last_error = std::string(running ? "reload" : "start") + " failed: " + outcome.to_string();
      spdlog::error("patroni: {}", db_.last_error);
    }
    finish_job(Job::apply_patroni_conf);
  };
  // Patroni re-reads patroni.yml on SIGHUP; bootstrap.* only counts once.
  if (running)
    units_->reload(c.unit, done);
  else
    units_->start(c.unit, done);
}

// stolonctl init, exactly once per cluster: bootstrap_once takes a Consul
// lock and runs it only while no clusterdata exists (the others wait).
void Engine::job_bootstrap_stolon(const std::string& spec) {
  const auto& c = config_.db;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(c.stolon_spec_file).parent_path(), ec);
  auto error = write_file_atomically(c.stolon_spec_file, spec, 0644);
  if (!error.empty()) {
    db_.last_error = error;
    spdlog::error("stolon: {}", error);
    return finish_job(Job::bootstrap_stolon);
  }
  stolon::StoreTarget target;
  target.cluster_name = c.scope;
  target.consul_endpoint = "http://" + config_.consul.host + ":" + std::to_string(config_.consul.port);
  target.store_prefix = c.stolon_prefix;
  stolon::BootstrapSettings settings;
  settings.clusterdata_key = stolon::clusterdata_key(target);
  settings.lock_key = keys_.prefix + "/db/stolon-bootstrap";
  settings.node_name = config_.node.name;
  settings.init_argv = stolon::stolonctl_init_argv(c.stolonctl, target, c.stolon_spec_file);
  stolon::bootstrap_once(io_, consul_, settings, [this](stolon::BootstrapOutcome outcome, std::string detail) {
    db_.bootstrap_outcome = stolon::to_string(outcome) + (detail.empty() ? "" : ": " + detail);
    if (outcome == stolon::BootstrapOutcome::failed) {
      db_.last_error = "bootstrap: " + detail;
      spdlog::error("stolon: bootstrap failed: {}", detail);
    } else {
      spdlog::info("stolon: {}", db_.bootstrap_outcome);
    }
    finish_job(Job::bootstrap_stolon);
  });
}

// One after the other: the sentinel, the keeper, the proxy.
void Engine::job_start_stolon_units() {
  auto pending = std::make_shared<std::vector<std::string>>();
  for (const auto& unit : db_.stolon_units) {
    auto view = unit_views_.find(unit);
    if (view != unit_views_.end() && !view->second.running_or_starting())
      pending->push_back(unit);
  }
  auto next = std::make_shared<std::function<void()>>();
  *next = [this, pending, next] {
    if (pending->empty()) return finish_job(Job::start_stolon_units);
    std::string unit = pending->front();
    pending->erase(pending->begin());
    units_->start(unit, [this, unit, next](systemd::JobOutcome outcome) {
      if (outcome.ok()) {
        spdlog::info("stolon: {} started", unit);
      } else {
        db_.last_error = "start of " + unit + " failed: " + outcome.to_string();
        spdlog::error("stolon: {}", db_.last_error);
      }
      (*next)();
    });
  };
  (*next)();
}

void Engine::job_start_patroni() {
  units_->start(config_.db.unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      db_.last_error.clear();
      spdlog::info("patroni: {} started", config_.db.unit);
    } else {
      db_.last_error = "start failed: " + outcome.to_string();
      spdlog::error("patroni: {}", db_.last_error);
    }
    finish_job(Job::start_patroni);
  });
}

}  // namespace hasup::loop
