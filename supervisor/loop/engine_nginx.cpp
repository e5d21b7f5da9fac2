// nginx's side of the engine: blocking watches on Consul's healthy instances
// of each configured service (validated on arrival: Consul data never reaches
// nginx unchecked), and the apply job: candidate file -> `nginx -t` on a
// worker thread -> atomic rename -> reload (or start) through systemd.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <tuple>

#include "components/nginx/validate.hpp"
#include "supervisor/loop/decide_nginx.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/command.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::loop {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {


std::string endpoints(const nginx::ServiceSet& set) {
  std::string out;
  for (const auto& s : set.servers) out += (out.empty() ? "" : ", ") + s.address + ":" + std::to_string(s.port);
  return out.empty() ? "none" : out;
}

milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t);
}

}  // namespace

void Engine::read_nginx_template() {
  auto text = read_small_file(config_.nginx.template_path);
  std::string error = text ? "" : "cannot read the template " + config_.nginx.template_path;
  if (!error.empty()) spdlog::error("nginx: {}", error);
  if (text.value_or("") != nginx_template_text_ || error != nginx_template_error_) note_nginx_input_change();
  nginx_template_text_ = text.value_or("");
  nginx_template_error_ = error;
}

// What nginx serves after a restart of the supervisor: the file we rendered
// last time. A file without our header is someone else's: replaced at once.
void Engine::load_nginx_file() {
  auto text = read_small_file(config_.nginx.conf_path);
  if (!text) return;
  auto file = parse_nginx_file(*text);
  if (!file) {
    spdlog::warn("nginx: {} was not rendered by ha-supervisor: it will be replaced", config_.nginx.conf_path);
    return;
  }
  nginx_body_ = file->body;
  nginx_generation_ = file->generation;
  nginx_fingerprint_ = file->fingerprint;
  spdlog::info("nginx: {} holds generation {} (upstreams {})", config_.nginx.conf_path, file->generation,
               file->fingerprint);
}

void Engine::start_nginx_watches() {
  if (!config_.nginx.enabled) return;
  workers_ = std::make_unique<asio::thread_pool>(1);
  for (const auto& name : split_list(config_.nginx.services)) {
    WatchedService service;
    service.name = name;
    service.set.name = name;
    service.set.key = nginx::template_key(name);
    nginx_services_.push_back(service);
    nginx_backoff_.push_back(std::make_unique<asio::steady_timer>(io_));
    nginx_backoff_delay_.push_back(250ms);
  }
  for (std::size_t i = 0; i < nginx_services_.size(); ++i) watch_service_health(i);
}

void Engine::note_nginx_input_change() {
  nginx_changed_at_ = Clock::now();
  if (!nginx_first_unapplied_) nginx_first_unapplied_ = nginx_changed_at_;
}

// One blocking query per service on its passing instances. On failure the
// last known set stays in use: nginx keeps routing while Consul is away.
void Engine::watch_service_health(std::size_t index) {
  if (stopped_) return;
  const std::string name = nginx_services_[index].name;
  // Every instance, not only the passing ones: a failing instance on this
  // node is a fact the floating IP's placement needs.
  consul_.health_service(name, false, blocking(nginx_services_[index].index), [this, index, name](
                                                                                 consul::Result<consul::HealthList> r) {
    if (stopped_) return;
    WatchedService& service = nginx_services_[index];
    if (!r) {
      service.error = r.error().to_string();
      note_consul_error("watching the health of " + name, r.error());
      auto& delay = nginx_backoff_delay_[index];
      nginx_backoff_[index]->expires_after(delay);
      delay = std::min(delay * 2, milliseconds(5000));
      nginx_backoff_[index]->async_wait([this, index](boost::system::error_code ec) {
        if (!ec) watch_service_health(index);
      });
      return wake();
    }
    nginx_backoff_delay_[index] = 250ms;
    service.error.clear();
    const auto& list = r.value();
    // Consul's index went back (its state was reset): the next query starts over.
    service.index = list.index < service.index ? 0 : list.index;
    std::vector<consul::ServiceInstance> passing;
    std::set<std::string> failing;
    for (const auto& instance : list.instances) {
      if (instance.status == "passing")
        passing.push_back(instance);
      else
        failing.insert(instance.node);
    }
    if (failing != service.failing_nodes) {
      std::string nodes;
      for (const auto& n : failing) nodes += (nodes.empty() ? "" : ", ") + nginx::quoted(n);
      spdlog::info("nginx: {} failing its checks on: {}", name, nodes.empty() ? "no node" : nodes);
      service.failing_nodes = failing;
      wake();
    }
    auto validated = nginx::validate_instances(name, passing);
    std::vector<std::string> reasons;
    for (const auto& bad : validated.rejected) {
      std::string reason = bad.service_id + " on " + bad.node + ": " + bad.reason;
      if (std::find(service.rejected.begin(), service.rejected.end(), reason) == service.rejected.end())
        spdlog::warn("nginx: refused an instance of {} from Consul ({}): it never reaches nginx", name, reason);
      reasons.push_back(reason);
    }
    service.rejected = reasons;
    bool first = !service.known;
    if (first || validated.set.servers != service.set.servers) {
      spdlog::info("nginx: {} passing instances: {}", name, endpoints(validated.set));
      service.set = validated.set;
      service.known = true;
      note_nginx_input_change();
      wake();
    }
    watch_service_health(index);
  });
}

NginxView Engine::observe_nginx() const {
  NginxView v;
  const auto& c = config_.nginx;
  v.enabled = c.enabled;
  if (!v.enabled) return v;
  v.template_text = nginx_template_text_;
  v.template_error = nginx_template_error_;
  v.base.node_name = config_.node.name;
  v.base.listen_address = c.listen_address;
  v.base.listen_port = c.listen_port;
  v.base.user = c.user;
  v.base.runtime_dir = c.runtime_dir;
  v.base.log_dir = c.log_dir;
  v.base.resources_dir = c.resources_dir;
  v.services = nginx_services_;
  v.current_body = nginx_body_;
  v.generation = nginx_generation_;
  v.fingerprint = nginx_fingerprint_;
  v.rejected_body = nginx_rejected_body_;
  v.rejected_error = nginx_rejected_error_;
  v.last_error = nginx_last_error_;
  v.reloads = nginx_reloads_;
  v.since_change = since(nginx_changed_at_);
  v.since_first_unapplied = nginx_first_unapplied_ ? since(*nginx_first_unapplied_) : milliseconds(0);
  if (nginx_last_apply_) v.since_last_apply = since(*nginx_last_apply_);
  v.wait_min = milliseconds(c.wait_min_ms);
  v.wait_max = milliseconds(c.wait_max_ms);
  v.reload_interval = milliseconds(c.reload_interval_ms);
  v.unit = c.unit;
  return v;
}

// The candidate is validated by nginx itself before it replaces the served
// file: a template or value nginx refuses never reaches the running nginx.
void Engine::job_apply_nginx_conf(const std::string& text, std::uint64_t generation) {
  const auto& c = config_.nginx;
  std::error_code ec;
  // nginx -t opens the logs and creates its temp paths: they must exist.
  for (const auto& dir : {c.runtime_dir, c.log_dir, std::filesystem::path(c.conf_path).parent_path().string()})
    std::filesystem::create_directories(dir, ec);
  std::string candidate = c.conf_path + ".candidate";
  auto error = write_file_atomically(candidate, text, 0644);
  if (!error.empty()) {
    nginx_last_error_ = error;
    spdlog::error("nginx: {}", error);
    asio::post(io_, [this] { finish_job(Job::apply_nginx_conf); });
    return;
  }
  std::vector<std::string> argv{c.binary, "-t", "-q", "-e", "stderr", "-c", candidate};
  milliseconds timeout(c.check_timeout_ms);
  asio::post(*workers_, [this, argv, timeout, text, generation, candidate] {
    CommandResult result = run_command(argv, timeout);
    asio::post(io_, [this, result, text, generation, candidate] {
      on_nginx_checked(text, generation, candidate, result.ok(), result.summary());
    });
  });
}

void Engine::on_nginx_checked(const std::string& text, std::uint64_t generation, const std::string& candidate,
                              bool ok, const std::string& why) {
  const auto& c = config_.nginx;
  auto file = parse_nginx_file(text);
  if (!ok) {
    std::remove(candidate.c_str());
    nginx_rejected_body_ = file ? file->body : text;
    nginx_rejected_error_ = "nginx -t: " + why;
    nginx_last_error_ = "generation " + std::to_string(generation) + " refused by " + nginx_rejected_error_;
    spdlog::error("nginx: {}; generation {} keeps serving", nginx_last_error_, nginx_generation_);
    return finish_job(Job::apply_nginx_conf);
  }
  if (std::rename(candidate.c_str(), c.conf_path.c_str()) != 0) {
    nginx_last_error_ = "cannot replace " + c.conf_path + ": " + std::strerror(errno);
    spdlog::error("nginx: {}", nginx_last_error_);
    std::remove(candidate.c_str());
    return finish_job(Job::apply_nginx_conf);
  }
  // What nginx served before: if the reload fails, that is what it still
  // serves, and the next cycle tries again (the file already holds the new one).
  auto served_before = std::make_tuple(nginx_body_, nginx_generation_, nginx_fingerprint_);
  nginx_body_ = file ? file->body : text;
  nginx_generation_ = generation;
  nginx_fingerprint_ = file ? file->fingerprint : "";
  nginx_rejected_body_.clear();
  nginx_rejected_error_.clear();
  nginx_last_apply_ = Clock::now();
  auto unit = unit_views_.find(c.unit);
  bool running = unit != unit_views_.end() && unit->second.reloadable();
  if (!units_) {
    nginx_last_error_ = "no systemd connection to reload " + c.unit;
    return finish_job(Job::apply_nginx_conf);
  }
  auto done = [this, generation, running, served_before](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      if (running) ++nginx_reloads_;
      nginx_last_error_.clear();
      spdlog::info("nginx: generation {} {} ({})", generation, running ? "reloaded" : "started", nginx_fingerprint_);
    } else {
      nginx_last_error_ = std::string(running ? "reload" : "start") + " of generation " + std::to_string(generation) +
                          " failed: " + outcome.to_string();
      spdlog::error("nginx: {}", nginx_last_error_);
      std::tie(nginx_body_, nginx_generation_, nginx_fingerprint_) = served_before;
    }
    finish_job(Job::apply_nginx_conf);
  };
  // A reload (SIGHUP): nginx starts workers on the new config and lets the
  // old ones finish their requests, so no request fails across it.
  if (running)
    units_->reload(c.unit, done);
  else
    units_->start(c.unit, done);
}

void Engine::job_start_nginx() {
  units_->start(config_.nginx.unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      spdlog::info("nginx: {} started", config_.nginx.unit);
    } else {
      nginx_last_error_ = "start failed: " + outcome.to_string();
      spdlog::error("nginx: {}", nginx_last_error_);
    }
    finish_job(Job::start_nginx);
  });
}

}  // namespace hasup::loop
