#include "components/nginx/driver.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "components/nginx/validate.hpp"
#include "components/nginx/decide.hpp"
#include "supervisor/util/command.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/since.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::nginx {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

std::string endpoints(const ServiceSet& set) {
  std::string out;
  for (const auto& s : set.servers) out += (out.empty() ? "" : ", ") + s.address + ":" + std::to_string(s.port);
  return out.empty() ? "none" : out;
}

}  // namespace

NginxDriver::NginxDriver(loop::DriverContext& ctx) : ctx_(ctx), timers_(ctx.io) {
  read_template();
  load_served_file();
}

NginxDriver::~NginxDriver() = default;

std::vector<std::string> NginxDriver::units() const { return {ctx_.config.nginx.unit}; }

void NginxDriver::read_template() {
  const auto& path = ctx_.config.nginx.template_path;
  auto text = read_small_file(path);
  std::string error = text ? "" : "cannot read the template " + path;
  if (!error.empty()) spdlog::error("nginx: {}", error);
  if (text.value_or("") != template_text_ || error != template_error_) note_input_change();
  template_text_ = text.value_or("");
  template_error_ = error;
}

void NginxDriver::reload() { read_template(); }

// What nginx serves after a restart of the supervisor: the file we rendered
// last time. A file without our header is someone else's: replaced at once.
void NginxDriver::load_served_file() {
  const auto& path = ctx_.config.nginx.conf_path;
  auto text = read_small_file(path);
  if (!text) return;
  auto file = loop::parse_nginx_file(*text);
  if (!file) {
    spdlog::warn("nginx: {} was not rendered by ha-supervisor: it will be replaced", path);
    return;
  }
  body_ = file->body;
  generation_ = file->generation;
  fingerprint_ = file->fingerprint;
  spdlog::info("nginx: {} holds generation {} (upstreams {})", path, file->generation, file->fingerprint);
}

void NginxDriver::start() {
  workers_ = std::make_unique<asio::thread_pool>(1);
  for (const auto& name : split_list(ctx_.config.nginx.services)) {
    Watch watch;
    watch.service.name = name;
    watch.service.set.name = name;
    watch.service.set.key = template_key(name);
    watch.backoff = &timers_.make();
    watches_.push_back(std::move(watch));
  }
  for (std::size_t i = 0; i < watches_.size(); ++i) watch_service(i);
}

void NginxDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
}

void NginxDriver::note_input_change() {
  changed_at_ = Clock::now();
  if (!first_unapplied_) first_unapplied_ = changed_at_;
}

// One blocking query per service on its instances. On failure the last
// known set stays in use: nginx keeps routing while Consul is away.
void NginxDriver::watch_service(std::size_t index) {
  if (stopped_) return;
  const std::string name = watches_[index].service.name;
  // Every instance, not only the passing ones: a failing instance on this
  // node is a fact the floating IP's placement needs.
  ctx_.consul.health_service(name, false, ctx_.blocking(watches_[index].service.index),
                             [this, index, name](consul::Result<consul::HealthList> r) {
    if (stopped_) return;
    Watch& watch = watches_[index];
    loop::WatchedService& service = watch.service;
    if (!r) {
      service.error = r.error().to_string();
      ctx_.note_consul_error("watching the health of " + name, r.error());
      watch.backoff->expires_after(watch.backoff_delay);
      watch.backoff_delay = std::min(watch.backoff_delay * 2, milliseconds(5000));
      watch.backoff->async_wait([this, index](boost::system::error_code ec) {
        if (!ec) watch_service(index);
      });
      return ctx_.wake();
    }
    watch.backoff_delay = 250ms;
    service.error.clear();
    const auto& list = r.value();
    // Consul's index went back (its state was reset): the next query starts over.
    service.index = list.index < service.index ? 0 : list.index;
    std::vector<consul::ServiceInstance> passing, failing_alive;
    std::set<std::string> failing;
    for (const auto& instance : list.instances) {
      if (instance.status == "passing") {
        passing.push_back(instance);
      } else {
        failing.insert(instance.node);
        if (instance.node_alive) failing_alive.push_back(instance);
      }
    }
    if (failing != service.failing_nodes) {
      std::string nodes;
      for (const auto& n : failing) nodes += (nodes.empty() ? "" : ", ") + quoted_printable(n);
      spdlog::info("nginx: {} failing its checks on: {}", name, nodes.empty() ? "no node" : nodes);
      service.failing_nodes = failing;
      ctx_.wake();
    }
    auto validated = validate_instances(name, passing);
    std::vector<std::string> reasons;
    for (const auto& bad : validated.rejected) {
      std::string reason = bad.service_id + " on " + bad.node + ": " + bad.reason;
      if (std::find(service.rejected.begin(), service.rejected.end(), reason) == service.rejected.end())
        spdlog::warn("nginx: refused an instance of {} from Consul ({}): it never reaches nginx", name, reason);
      reasons.push_back(reason);
    }
    service.rejected = reasons;
    // Refused ones were logged above when they passed; failing, they never
    // reach nginx either.
    auto fallback = validate_instances(name, failing_alive, Accept::failing_on_live_node).set;
    bool first = !service.known;
    if (first || validated.set.servers != service.set.servers ||
        fallback.servers != service.failing_on_live_nodes.servers) {
      spdlog::info("nginx: {} passing instances: {}; failing on live nodes: {}", name, endpoints(validated.set),
                   endpoints(fallback));
      service.set = validated.set;
      service.failing_on_live_nodes = fallback;
      service.known = true;
      note_input_change();
      ctx_.wake();
    }
    watch_service(index);
  });
}

void NginxDriver::observe(loop::Snapshot& s) const {
  loop::NginxView& v = s.nginx;
  const auto& c = ctx_.config.nginx;
  v.enabled = true;
  v.template_text = template_text_;
  v.template_error = template_error_;
  v.base.node_name = ctx_.config.node.name;
  v.base.listen_address = c.listen_address;
  v.base.listen_port = c.listen_port;
  v.base.user = c.user;
  v.base.runtime_dir = c.runtime_dir;
  v.base.log_dir = c.log_dir;
  v.base.resources_dir = c.resources_dir;
  v.base.status_page_users_file = c.status_page_users_file;
  v.base.status_page_api_host = ctx_.config.api.listen;
  v.base.status_page_api_port = ctx_.config.api.port;
  v.base.limits = {c.max_requests_per_client, c.max_requests, c.upstream_read_timeout_s};
  for (const auto& watch : watches_) v.services.push_back(watch.service);
  v.current_body = body_;
  v.generation = generation_;
  v.fingerprint = fingerprint_;
  v.rejected_body = rejected_body_;
  v.rejected_error = rejected_error_;
  v.last_error = last_error_;
  v.reloads = reloads_;
  v.since_change = since(changed_at_);
  v.since_first_unapplied = first_unapplied_ ? since(*first_unapplied_) : milliseconds(0);
  if (last_apply_) v.since_last_apply = since(*last_apply_);
  v.wait_min = milliseconds(c.wait_min_ms);
  v.wait_max = milliseconds(c.wait_max_ms);
  v.reload_interval = milliseconds(c.reload_interval_ms);
  v.unit = c.unit;
  v.conf_file = catch_up_.observe(c.conf_path);
}

bool NginxDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::ApplyNginxConf>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::StartNginx>(&action)) return run(*a), true;
  return false;
}

// The candidate is validated by nginx itself before it replaces the served
// file: a template or value nginx refuses never reaches the running nginx.
void NginxDriver::run(const loop::ApplyNginxConf& a) {
  first_unapplied_.reset();  // changes from now on wait for the next apply
  const auto& c = ctx_.config.nginx;
  std::error_code ec;
  // nginx -t opens the logs and creates its temp paths: they must exist.
  for (const auto& dir : {c.runtime_dir, c.log_dir, std::filesystem::path(c.conf_path).parent_path().string()})
    std::filesystem::create_directories(dir, ec);
  std::string candidate = c.conf_path + ".candidate";
  auto error = write_file_atomically(candidate, a.text, 0644);
  if (!error.empty()) {
    last_error_ = error;
    spdlog::error("nginx: {}", error);
    asio::post(ctx_.io, [this, a, error] { finish_apply(a, error); });
    return;
  }
  std::vector<std::string> argv{c.binary, "-t", "-q", "-e", "stderr", "-c", candidate};
  milliseconds timeout(c.check_timeout_ms);
  asio::post(*workers_, [this, argv, timeout, a, candidate] {
    CommandResult result = run_command(argv, timeout);
    asio::post(ctx_.io, [this, result, a, candidate] { on_checked(a, candidate, result.ok(), result.summary()); });
  });
}

// Every end of an apply job: a catch-up's outcome is kept for its spacing and status.
void NginxDriver::finish_apply(const loop::ApplyNginxConf& a, const std::string& error) {
  if (a.catch_up) catch_up_.ended(error);
  ctx_.finish_job(loop::Job::apply_nginx_conf);
}

void NginxDriver::on_checked(const loop::ApplyNginxConf& a, const std::string& candidate, bool ok,
                             const std::string& why) {
  const auto& c = ctx_.config.nginx;
  const std::string& text = a.text;
  const std::uint64_t generation = a.generation;
  auto file = loop::parse_nginx_file(text);
  if (!ok) {
    std::remove(candidate.c_str());
    rejected_body_ = file ? file->body : text;
    rejected_error_ = "nginx -t: " + why;
    last_error_ = "generation " + std::to_string(generation) + " refused by " + rejected_error_;
    spdlog::error("nginx: {}; generation {} keeps serving", last_error_, generation_);
    return finish_apply(a, last_error_);
  }
  if (std::rename(candidate.c_str(), c.conf_path.c_str()) != 0) {
    last_error_ = "cannot replace " + c.conf_path + ": " + std::strerror(errno);
    spdlog::error("nginx: {}", last_error_);
    std::remove(candidate.c_str());
    return finish_apply(a, last_error_);
  }
  // What nginx served before: if the reload fails, that is what it still
  // serves, and the next cycle tries again (the file already holds the new one).
  auto served_before = std::make_tuple(body_, generation_, fingerprint_);
  body_ = file ? file->body : text;
  generation_ = generation;
  fingerprint_ = file ? file->fingerprint : "";
  rejected_body_.clear();
  rejected_error_.clear();
  last_apply_ = Clock::now();
  const bool running = a.after == loop::AfterWrite::reload;
  auto done = [this, a, generation, running, served_before](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      if (running) ++reloads_;
      last_error_.clear();
      spdlog::info("nginx: generation {} {} ({}){}", generation, running ? "reloaded" : "started", fingerprint_,
                   a.catch_up ? ": nginx had been running an older file" : "");
    } else {
      last_error_ = std::string(running ? "reload" : "start") + " of generation " + std::to_string(generation) +
                    " failed: " + outcome.to_string();
      spdlog::error("nginx: {}", last_error_);
      std::tie(body_, generation_, fingerprint_) = served_before;
    }
    finish_apply(a, outcome.ok() ? "" : last_error_);
  };
  // A reload (SIGHUP): nginx starts workers on the new config and lets the
  // old ones finish their requests, so no request fails across it.
  if (running)
    ctx_.units.reload_unit(c.unit, done);
  else
    ctx_.units.start_unit(c.unit, done);
}

void NginxDriver::run(const loop::StartNginx&) {
  ctx_.units.start_unit(ctx_.config.nginx.unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      spdlog::info("nginx: {} started", ctx_.config.nginx.unit);
    } else {
      last_error_ = "start failed: " + outcome.to_string();
      spdlog::error("nginx: {}", last_error_);
    }
    ctx_.finish_job(loop::Job::start_nginx);
  });
}

}  // namespace hasup::nginx
