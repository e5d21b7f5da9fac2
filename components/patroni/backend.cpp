#include "components/patroni/backend.hpp"

#include <grp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "components/patroni/dcs_state.hpp"
#include "components/patroni/render.hpp"
#include "components/patroni/rest_call.hpp"
#include "components/postgres/driver.hpp"
#include "components/postgres/decide.hpp"
#include "supervisor/util/files.hpp"

namespace hasup::patroni {

void set_replication(PatroniModel& model, const config::Config& config) {
  const auto& sync = config.db.synchronous;
  model.synchronous_mode = sync != "off";
  model.synchronous_quorum = sync == "quorum" || sync == "quorum-strict";
  // The appliance's one rule; schema.cpp keeps db.synchronous's spelling in
  // line with it.
  model.synchronous_mode_strict = model.synchronous_mode && config.cluster.strict();
}

std::string PatroniBackend::keys_prefix() const {
  const auto& c = ctx_.config.db;
  return c.patroni_namespace + "/" + c.scope + "/";
}

void PatroniBackend::read_inputs(loop::DbView& view) {
  const auto& c = ctx_.config.db;
  std::string error;
  auto yml = read_small_file(c.patroni_template);
  auto sql = read_small_file(c.bootstrap_template);
  auto secrets_text = read_small_file(c.secrets_file);
  if (!yml) error = "cannot read the template " + c.patroni_template;
  else if (!sql) error = "cannot read the template " + c.bootstrap_template;
  else if (!secrets_text) error = "cannot read the secrets file " + c.secrets_file;
  SecretsParse secrets;
  if (error.empty()) {
    secrets = parse_secrets(*secrets_text);
    if (!secrets.error.empty()) error = c.secrets_file + ": " + secrets.error;
  }
  if (!error.empty() && error != view.template_error) spdlog::error("patroni: {}", error);
  view.template_error = error;
  view.patroni.conf_template = yml.value_or("");
  view.patroni.sql_template = sql.value_or("");
  auto& m = view.patroni.model;
  m.node_name = ctx_.config.node.name;
  m.scope = c.scope;
  m.namespace_ = c.patroni_namespace;
  m.address = ctx_.config.node.address;
  m.port = c.port;
  m.api_port = c.api_port;
  m.consul_host = ctx_.config.consul.host;
  m.consul_port = ctx_.config.consul.port;
  m.consul_ca_file = ctx_.config.consul.ca_file;
  m.data_dir = c.data_dir;
  m.bin_dir = c.bin_dir;
  m.runtime_dir = c.runtime_dir;
  m.log_dir = c.log_dir;
  m.peer_network = c.peer_network;
  m.post_bootstrap = loop::post_bootstrap_command(c.post_bootstrap, c.bootstrap_sql);
  m.ttl_s = c.ttl_s;
  m.loop_wait_s = c.loop_wait_s;
  m.retry_timeout_s = c.retry_timeout_s;
  set_replication(m, ctx_.config);
  m.manager_user = c.manager_user;
  m.manager_database = c.manager_database;
  m.secrets = secrets.secrets;
  view.patroni.current_conf = read_small_file(c.patroni_conf);
  view.patroni.current_sql = read_small_file(c.bootstrap_sql);
  if (error.empty()) {
    const std::string pgpass = db::supervisor_pgpass();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(pgpass).parent_path(), ec);
    auto e = write_file_atomically(pgpass, "*:*:*:postgres:" + m.secrets.superuser + "\n", 0600);
    if (!e.empty()) spdlog::error("patroni: {}", e);
  }
}

void PatroniBackend::read_state(std::uint64_t index, std::function<void(consul::Result<db::StateRead>)> done) {
  const std::string prefix = keys_prefix();
  ctx_.consul.kv_list(prefix, ctx_.blocking(index), [this, prefix, done = std::move(done)](consul::Result<consul::KvTree> r) {
    if (!r) return done(r.error());
    keep_keys_copy(r.value().entries);
    std::vector<PatroniKey> keys;
    for (const auto& e : r.value().entries) keys.push_back({e.key, e.value, e.session});
    auto parsed = parse_patroni_state(prefix, keys);
    if (parsed.view && !leader_woken_for_) leader_woken_for_ = parsed.view->leader;
    done(db::StateRead{std::move(parsed), r.value().index});
  });
}

// Every node of the cluster: libpq finds the one that takes writes.
std::string PatroniBackend::default_endpoint_conninfo() const {
  const auto& self = ctx_.config.node.address;
  std::vector<std::string> addresses;
  for (const auto& [name, node] : ctx_.known.nodes) addresses.push_back(node.address);
  if (std::find(addresses.begin(), addresses.end(), self) == addresses.end()) addresses.push_back(self);
  std::string hosts, ports;
  for (const auto& a : addresses) {
    hosts += (hosts.empty() ? "" : ",") + a;
    ports += (ports.empty() ? "" : ",") + std::to_string(ctx_.config.db.port);
  }
  return "host=" + hosts + " port=" + ports +
         " dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=1";
}

void PatroniBackend::observe(loop::DbView& view) const {
  view.patroni.conf_file = catch_up_.observe(ctx_.config.db.patroni_conf);
  view.patroni.keys_copy = keys_copy_;
  view.patroni.keys_copy_error = keys_copy_error_;
  view.patroni.leader_woken_for = leader_woken_for_;
  if (strict_refused_)
    view.patroni.strict_refused = loop::PatroniFiles::StrictRefusal{
        strict_refused_->words,
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - strict_refused_->at)};
}

// Beside the node's memory of the cluster's nodes: the supervisor's own state.
std::string PatroniBackend::keys_copy_path() const {
  return path_beside(ctx_.config.node.known_nodes_file, "patroni-keys.json");
}

void PatroniBackend::read_keys_copy() {
  const std::string path = keys_copy_path();
  auto text = read_small_file(path);
  if (!text) return;  // none yet: this node never saw the cluster initialised
  auto decoded = decode_keys_copy(*text);
  if (!decoded.copy) {
    // Not used, and not overwritten until Consul has the records again.
    keys_copy_error_ = "the copy of Patroni's records " + path + " is unreadable: " + decoded.error;
    spdlog::error("patroni: {}", keys_copy_error_);
    return;
  }
  keys_copy_ = decoded.copy;
}

void PatroniBackend::keep_keys_copy(const std::vector<consul::KvEntry>& entries) {
  auto taken = keys_copy_of(keys_prefix(), entries);
  if (!taken.error.empty()) {
    if (taken.error != keys_copy_error_) spdlog::error("patroni: no copy of Patroni's records taken: {}", taken.error);
    keys_copy_error_ = taken.error;
    return;
  }
  const auto& copy = taken.copy;
  if (!copy || copy == keys_copy_) return;
  const std::string path = keys_copy_path();
  auto error = write_file_atomically(path, encode(*copy), 0600);
  if (!error.empty()) {
    if (error != keys_copy_error_) spdlog::error("patroni: cannot keep the copy of Patroni's records: {}", error);
    keys_copy_error_ = error;
    return;
  }
  keys_copy_error_.clear();
  keys_copy_ = copy;
}

bool PatroniBackend::act(const loop::Action& action, loop::DbView& view) {
  if (auto a = std::get_if<loop::ApplyPatroniConf>(&action)) return run(*a, view), true;
  if (auto a = std::get_if<loop::StartPatroni>(&action)) return run(*a, view), true;
  if (auto a = std::get_if<loop::RestorePatroniKeys>(&action)) return run(*a, view), true;
  if (auto a = std::get_if<loop::WakePatroniForLeader>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::SetPatroniStrict>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::WakePatroniForSyncKey>(&action)) return run(*a), true;
  return false;
}

// Both files whole (a reader never sees half), readable by Patroni (group
// postgres) and nobody else: they hold the cluster's passwords.
void PatroniBackend::run(const loop::ApplyPatroniConf& a, loop::DbView& view) {
  const auto& c = ctx_.config.db;
  std::string error;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(c.patroni_conf).parent_path(), ec);
  struct group* postgres = getgrnam("postgres");
  for (const auto& [path, text] : {std::pair{c.bootstrap_sql, a.sql}, {c.patroni_conf, a.yml}}) {
    if (!error.empty()) break;
    // The group is set before the rename: Patroni never meets the file unreadable.
    error = write_file_atomically(path, text, 0640,
                                  postgres ? std::optional<gid_t>(postgres->gr_gid) : std::nullopt);
  }
  // Every end of the job: a catch-up's outcome is kept for its spacing and status.
  auto finish = [this, catch_up = a.catch_up](const std::string& error) {
    if (catch_up) catch_up_.ended(error);
    ctx_.finish_job(loop::Job::apply_patroni_conf);
  };
  if (!error.empty()) {
    view.last_error = error;
    spdlog::error("patroni: {}", error);
    return finish(error);
  }
  view.patroni.current_conf = a.yml;
  view.patroni.current_sql = a.sql;
  spdlog::info("patroni: wrote {}", c.patroni_conf);
  const bool running = a.after == loop::AfterWrite::reload;
  if (a.after == loop::AfterWrite::nothing) return finish("");
  auto done = [this, running, catch_up = a.catch_up, finish, &view](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      view.last_error.clear();
      spdlog::info("patroni: {} {}{}", ctx_.config.db.unit, running ? "reloaded" : "started",
                   catch_up ? ": Patroni had been running an older patroni.yml" : "");
    } else {
      view.last_error = std::string(running ? "reload" : "start") + " failed: " + outcome.to_string();
      spdlog::error("patroni: {}", view.last_error);
    }
    finish(outcome.ok() ? "" : view.last_error);
  };
  // bootstrap.* only counts once: a reload changes the rest.
  if (running)
    ctx_.units.reload_unit(c.unit, done);
  else
    ctx_.units.start_unit(c.unit, done);
}

// With Patroni's token (the supervisor's may only read Patroni's keys).
void PatroniBackend::run(const loop::RestorePatroniKeys& a, loop::DbView& view) {
  auto finish = [this] { ctx_.finish_job(loop::Job::restore_patroni_keys); };
  if (!keys_copy_) return finish();
  consul::Client* consul = &ctx_.consul;
  if (const auto& token = view.patroni.model.secrets.consul_token; !token.empty()) {
    auto settings = ctx_.consul.settings();
    settings.token = token;
    patroni_consul_ = std::make_unique<consul::Client>(ctx_.io, settings);
    consul = patroni_consul_.get();
  }
  spdlog::warn("patroni: Consul holds none of Patroni's records; writing back this node's copy (index {}, after {} "
               "write-back(s)), the newest of a majority of the nodes': write-back {}",
               a.index, keys_copy_->write_backs, keys_copy_->write_backs + 1);
  consul->txn(restore_ops(keys_prefix(), *keys_copy_), [this, finish, &view](consul::Result<consul::TxnResult> r) {
    if (!r) {
      view.last_error = "cannot write Patroni's records back: " + r.error().to_string();
      spdlog::error("patroni: {}", view.last_error);
    } else if (!r.value().committed) {
      spdlog::warn("patroni: Patroni's records were not written back: a key is there already ({})",
                   r.value().errors.empty() ? std::string("no reason given") : r.value().errors.front());
    } else {
      view.last_error.clear();
      spdlog::warn("patroni: wrote Patroni's records back (initialize, config, sync, and the count of write-backs): "
                   "Patroni's own rules decide again");
    }
    finish();
  });
}

void PatroniBackend::run(const loop::StartPatroni&, loop::DbView& view) {
  ctx_.units.start_unit(ctx_.config.db.unit, [this, &view](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      view.last_error.clear();
      spdlog::info("patroni: {} started", ctx_.config.db.unit);
    } else {
      view.last_error = "start failed: " + outcome.to_string();
      spdlog::error("patroni: {}", view.last_error);
    }
    ctx_.finish_job(loop::Job::start_patroni);
  });
}

// Once per change of the leader key's member (rest_call.hpp: wake_patroni).
void PatroniBackend::run(const loop::WakePatroniForLeader& a) {
  const auto& c = ctx_.config.db;
  leader_woken_for_ = a.leader;
  const std::string why = a.leader.empty() ? "the leader key is gone" : "the leader key names " + a.leader;
  wake_patroni(ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port, [this, why](RestCallOutcome o) {
    if (o.ok)
      spdlog::info("patroni: {}: woke this node's Patroni", why);
    else
      spdlog::warn("patroni: {}: could not wake this node's Patroni (it acts at its next loop): {}", why, o.words);
    ctx_.finish_job(loop::Job::wake_patroni_for_leader);
  });
}

// Patroni's dynamic configuration, through this node's API (Patroni writes
// the config key; every member reads it at its next loop).
void PatroniBackend::run(const loop::SetPatroniStrict& a) {
  const auto& c = ctx_.config.db;
  const std::string body = a.strict ? R"({"synchronous_mode_strict":true})" : R"({"synchronous_mode_strict":false})";
  call_patroni(ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port, http::Method::patch, "/config", body,
               std::chrono::seconds(5), [this, strict = a.strict](RestCallOutcome o) {
                 if (o.ok) {
                   strict_refused_.reset();
                   spdlog::warn("patroni: synchronous_mode_strict set to {} (cluster.durability {})", strict,
                                strict ? "strict" : "available");
                 } else {
                   strict_refused_ = StrictRefusal{o.words, std::chrono::steady_clock::now()};
                   spdlog::error("patroni: could not set synchronous_mode_strict to {}: {}", strict, o.words);
                 }
                 ctx_.finish_job(loop::Job::set_patroni_strict);
               });
}

// Again every cycle while the sync key names a member that is gone
// (decide.cpp: wake_patroni_for_sync_key): quiet unless it fails.
void PatroniBackend::run(const loop::WakePatroniForSyncKey& a) {
  const auto& c = ctx_.config.db;
  std::string gone;
  for (const auto& name : a.gone) gone += (gone.empty() ? "" : ", ") + name;
  wake_patroni(ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port, [this, gone](RestCallOutcome o) {
    if (o.ok)
      spdlog::debug("patroni: woke this node's Patroni to drop {} from its sync key", gone);
    else
      spdlog::warn("patroni: could not wake this node's Patroni to drop {} from its sync key: {}", gone, o.words);
    ctx_.finish_job(loop::Job::wake_patroni_for_sync);
  });
}

}  // namespace hasup::patroni
