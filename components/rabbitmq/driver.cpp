#include "components/rabbitmq/driver.hpp"

#include <boost/asio/post.hpp>
#include <grp.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "components/rabbitmq/observe_parse.hpp"
#include "supervisor/consul/parse.hpp"
#include "supervisor/util/base64.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/since.hpp"

namespace hasup::rabbitmq {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

std::string first_line(const std::optional<std::string>& text) {
  if (!text) return {};
  return text->substr(0, text->find('\n'));
}

}  // namespace

BrokerDriver::BrokerDriver(loop::DriverContext& ctx) : ctx_(ctx), timers_(ctx.io) {
  read_files();
  heard_at_ = Clock::now();
}

// The template (live on SIGHUP), rabbitmq.conf as it is, and what
// install.sh left for the supervisor: its password and the cookie's fingerprint.
void BrokerDriver::read_files() {
  const auto& c = ctx_.config.broker;
  auto text = read_small_file(c.template_path);
  template_error_ = text ? "" : "cannot read the template " + c.template_path;
  if (!text) spdlog::error("broker: {}", template_error_);
  template_text_ = text.value_or("");
  conf_file_ = read_small_file(c.conf_path);
  password_error_.clear();
  auto password = first_line(read_small_file(c.password_file));
  if (password.empty()) {
    password_error_ = "cannot read the management API password from " + c.password_file;
    authorization_.clear();
    spdlog::error("broker: {}", password_error_);
  } else {
    authorization_ = "Basic " + base64_encode("ha-supervisor:" + password);
  }
  read_cookie_fingerprint();
}

// Read at every poll: install.sh run again with another secrets file changes
// the cookie under a running supervisor, and the cluster must hear of it.
bool BrokerDriver::read_cookie_fingerprint() {
  const auto& path = ctx_.config.broker.cookie_fingerprint_file;
  auto fingerprint = first_line(read_small_file(path));
  auto error = fingerprint.empty() ? "cannot read " + path : std::string{};
  if (fingerprint == cookie_fingerprint_ && error == cookie_file_error_) return false;
  if (!error.empty())
    spdlog::error("broker: {}", error);
  else if (!cookie_fingerprint_.empty())
    spdlog::warn("broker: the Erlang cookie's fingerprint changed ({} -> {}); the broker takes the cookie at its next start",
                 cookie_fingerprint_, fingerprint);
  cookie_fingerprint_ = fingerprint;
  cookie_file_error_ = error;
  return true;
}

void BrokerDriver::reload() { read_files(); }

void BrokerDriver::start() {
  poll_timer_ = &timers_.make();
  seed_backoff_ = &timers_.make();
  poll();
  watch_seed();
}

void BrokerDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
}

void BrokerDriver::restart_watches() {
  ++seed_generation_;
  seed_index_ = 0;
  watch_seed();
}

// Polled: the management API has no event stream a client can hold open.
// A poll is the local check (this node only: whether it answers, and its
// alarms), then, while it answers, the cluster view (two more GETs).
void BrokerDriver::poll() {
  if (stopped_) return;
  if (read_cookie_fingerprint()) ctx_.wake();
  if (authorization_.empty()) return checked(http::Outcome{false, password_error_, false, {}});
  get(kLocalCheckTarget, [this](http::Outcome outcome) { checked(std::move(outcome)); });
}

void BrokerDriver::get(const char* target, std::function<void(http::Outcome)> done) {
  const auto& c = ctx_.config.broker;
  http::Request request;
  request.target = target;
  request.headers.emplace_back("Authorization", authorization_);
  http::Policy policy;
  policy.timeout = milliseconds(c.request_timeout_ms);
  policy.body_limit = 4 * 1024 * 1024;
  http::async_request(ctx_.io, http::Endpoint{"127.0.0.1", static_cast<unsigned short>(c.management_port)},
                      std::move(request), policy, [this, done = std::move(done)](http::Outcome outcome) {
                        if (!stopped_) done(std::move(outcome));
                      });
}

void BrokerDriver::checked(http::Outcome outcome) {
  std::string error;
  std::string alarm;
  bool refused = false;
  if (!outcome.ok) {
    error = authorization_.empty() ? outcome.error : "management API: " + outcome.error;
    refused = outcome.error.find("refused") != std::string::npos;
  } else if (outcome.response.status == 401) {
    error = "the management API refused the supervisor's password (401)";
  } else if (outcome.response.status == 503) {
    // The check's own words name the alarm (memory, disk).
    alarm = outcome.response.body.find("disk") != std::string::npos     ? "disk"
            : outcome.response.body.find("memory") != std::string::npos ? "memory"
                                                                         : "in effect";
  } else if (outcome.response.status != 200) {
    error = "management API: HTTP " + std::to_string(outcome.response.status);
  }
  if (error.empty())
    heard_at_ = Clock::now();
  else
    views_.broker_interrupted();  // what it said before may not hold when it answers again
  if (error != read_error_ || alarm != local_alarm_) {
    if (!error.empty())
      spdlog::warn("broker: {}", error);
    else if (!alarm.empty())
      spdlog::warn("broker: an alarm is in effect here ({}): publishers are blocked", alarm);
    else
      spdlog::info("broker: it answers");
    read_error_ = error;
    local_alarm_ = alarm;
    ctx_.wake();
  }
  refused_ = refused;
  if (!error.empty()) return poll_later();
  read_nodes();
}

namespace {

std::string answer_error(const char* what, const http::Outcome& outcome) {
  if (!outcome.ok) return std::string(what) + ": " + outcome.error;
  if (outcome.response.status != 200) return std::string(what) + ": HTTP " + std::to_string(outcome.response.status);
  return {};
}

}  // namespace

// The cluster view: the nodes (membership), then the quorum queues, read
// apart: a failed queues read leaves the membership fresh and the queues of
// the last good read (queues_error says so). A failed nodes read leaves the
// last view whole (stale, facts_error says so).
void BrokerDriver::read_nodes() {
  const auto began = views_.read_begun();
  get(kNodesTarget, [this, began](http::Outcome outcome) {
    if (auto error = answer_error("the cluster view", outcome); !error.empty()) return read_ended(began, error, "", {});
    auto parsed = parse_nodes_only(broker_name_of(ctx_.config.node.address), outcome.response.body);
    if (!parsed.error.empty())
      return read_ended(began, "unusable answer from the management API: " + parsed.error, "", {});
    read_queues(began, std::move(parsed.facts));
  });
}

void BrokerDriver::read_queues(std::uint64_t began, BrokerFacts nodes) {
  get(kQueuesTarget, [this, began, facts = std::move(nodes)](http::Outcome outcome) mutable {
    auto error = answer_error("the quorum queues", outcome);
    if (error.empty())
      if (auto parse_error = parse_queues_into(outcome.response.body, facts); !parse_error.empty())
        error = "unusable answer from the management API: " + parse_error;
    // The last good queues stay until a read replaces them.
    if (!error.empty() && facts_) {
      facts.queues = facts_->queues;
      facts.messages = facts_->messages;
    }
    read_ended(began, "", error, std::move(facts));
  });
}

void BrokerDriver::read_ended(std::uint64_t began, const std::string& error, const std::string& queues_error,
                              std::optional<BrokerFacts> facts) {
  // Begun before the broker's restart or silence: it speaks of a run that is gone.
  if (!views_.current(began)) return poll_later();
  if (error != facts_error_) {
    if (!error.empty()) spdlog::warn("broker: {}", error);
    facts_error_ = error;
    ctx_.wake();
  }
  // A failed nodes read says nothing of the queues: their last word stays.
  if (facts && queues_error != queues_error_) {
    if (!queues_error.empty()) spdlog::warn("broker: {}", queues_error);
    queues_error_ = queues_error;
    ctx_.wake();
  }
  if (facts) {
    const auto* self = facts->self();
    views_.viewed(self && !self->partitions.empty(), Clock::now());
  }
  if (facts && facts != facts_) {
    if (!facts_ || facts->running() != facts_->running() || facts->nodes.size() != facts_->nodes.size()) {
      std::string names;
      for (const auto& n : facts->running()) names += (names.empty() ? "" : ", ") + n;
      spdlog::info("broker: {} runs in a cluster of {} node(s); running: {}", facts->node, facts->nodes.size(), names);
    }
    facts_ = std::move(facts);
    ctx_.wake();
  }
  poll_later();
}

void BrokerDriver::poll_later() {
  poll_timer_->expires_after(milliseconds(ctx_.config.broker.poll_interval_ms));
  poll_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) poll();
  });
}

// A blocking read of the founder key. A value that is not a seed is
// reported and never acted on; an absent key is "no founder yet".
void BrokerDriver::watch_seed() {
  if (stopped_) return;
  const auto generation = seed_generation_;
  ctx_.consul.kv_get(ctx_.keys.broker_seed(), ctx_.blocking(seed_index_),
                     [this, generation](consul::Result<consul::KvRead> r) {
    if (stopped_ || generation != seed_generation_) return;
    if (!r) {
      ctx_.note_consul_error("reading the broker's founder", r.error());
      seed_backoff_->expires_after(1s);
      seed_backoff_->async_wait([this, generation](boost::system::error_code ec) {
        if (!ec && generation == seed_generation_) watch_seed();
      });
      return;
    }
    const auto& read = r.value();
    seed_index_ = read.index < seed_index_ ? 0 : read.index;
    std::optional<BrokerSeed> seed;
    std::string error;
    if (read.entry) {
      auto decoded = decode_seed(read.entry->value);
      seed = decoded.seed;
      error = decoded.error;
    }
    if (!seed_known_ || seed != seed_ || error != seed_error_) {
      if (!error.empty())
        spdlog::error("broker: {} holds no founder ({}): not acted on", ctx_.keys.broker_seed(), error);
      else if (seed)
        spdlog::info("broker: the cluster's founder is {} ({})", seed->node, seed->broker);
      seed_known_ = true;
      seed_ = seed;
      seed_error_ = error;
      ctx_.wake();
    }
    watch_seed();
  });
}

void BrokerDriver::observe(loop::Snapshot& s) const {
  loop::BrokerView& v = s.broker;
  const auto& c = ctx_.config.broker;
  v.enabled = true;
  v.unit = c.unit;
  v.template_text = template_text_;
  v.template_error = template_error_;
  v.conf_model = {c.amqp_address, c.amqp_port, c.management_port, c.partition_handling, c.definitions_file,
                  c.memory_high_watermark};
  v.conf_file = conf_file_;
  v.facts = facts_;
  v.facts_error = facts_error_;
  // Kept from the broker's last run until read again: never acted on.
  if (facts_ && facts_error_.empty() && views_.stale())
    v.facts_error = "not read again since the broker was restarted or silent";
  v.queues_error = queues_error_;
  v.read_error = read_error_;
  v.refused = refused_;
  v.local_alarm = local_alarm_;
  v.silent_for = since(heard_at_);
  v.seed_known = seed_known_;
  v.seed = seed_;
  v.seed_error = seed_error_;
  v.cookie_fingerprint = cookie_fingerprint_;
  v.files_error = password_error_ + (password_error_.empty() || cookie_file_error_.empty() ? "" : "; ") +
                  cookie_file_error_;
  v.join_error = join_error_;
  if (join_failed_at_) v.since_join_failed = since(*join_failed_at_);
  v.forget_error = forget_error_;
  if (forget_failed_at_) v.since_forget_failed = since(*forget_failed_at_);
  v.unfit_after = milliseconds(c.unfit_after_ms);
  if (auto p = views_.partitioned_for(Clock::now())) v.partitioned_for = std::chrono::duration_cast<milliseconds>(*p);
  v.start_grace = milliseconds(c.start_grace_ms);
  v.stuck_after = milliseconds(c.stuck_after_ms);
  v.retry_after = milliseconds(c.retry_after_ms);
  v.last_error = last_error_;
}

bool BrokerDriver::act(const loop::Action& action) {
  const auto& c = ctx_.config.broker;
  if (auto a = std::get_if<loop::ApplyBrokerConf>(&action)) return run(*a), true;
  if (std::get_if<loop::StartBroker>(&action))
    return unit_job(loop::Job::start_broker, c.unit, false, "start"), true;
  if (auto a = std::get_if<loop::RestartBroker>(&action)) {
    spdlog::warn("broker: restarting {}: {}", c.unit, a->why);
    return unit_job(loop::Job::restart_broker, c.unit, true, "restart"), true;
  }
  if (auto a = std::get_if<loop::ClaimBrokerSeed>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::JoinBrokerCluster>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::ForgetBrokerNode>(&action)) return run(*a), true;
  return false;
}

// The silence clock starts over with each start of the unit: a broker takes
// seconds before its API answers.
void BrokerDriver::unit_job(loop::Job job, const std::string& unit, bool restart, const std::string& what) {
  heard_at_ = Clock::now();
  views_.broker_interrupted();  // a restarted broker's partition is a new one
  auto done = [this, job, unit, what](systemd::JobOutcome outcome) {
    views_.broker_interrupted();
    if (outcome.ok()) {
      spdlog::info("broker: {} {}ed", unit, what);
    } else {
      last_error_ = what + " of " + unit + " failed: " + outcome.to_string();
      spdlog::error("broker: {}", last_error_);
    }
    heard_at_ = Clock::now();
    ctx_.finish_job(job);
  };
  if (restart)
    ctx_.units.restart_unit(unit, done);
  else
    ctx_.units.start_unit(unit, done);
}

// Whole, and readable by the broker's group only.
void BrokerDriver::run(const loop::ApplyBrokerConf& a) {
  const auto& c = ctx_.config.broker;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(c.conf_path).parent_path(), ec);
  struct group* broker_group = getgrnam(c.conf_group.c_str());
  auto error = write_file_atomically(c.conf_path, a.text, 0640,
                                     broker_group ? std::optional<gid_t>(broker_group->gr_gid) : std::nullopt);
  if (!error.empty()) {
    last_error_ = error;
    spdlog::error("broker: {}", error);
    asio::post(ctx_.io, [this] { ctx_.finish_job(loop::Job::apply_broker_conf); });
    return;
  }
  conf_file_ = a.text;
  spdlog::info("broker: wrote {}", c.conf_path);
  if (!a.start) {
    asio::post(ctx_.io, [this] { ctx_.finish_job(loop::Job::apply_broker_conf); });
    return;
  }
  unit_job(loop::Job::apply_broker_conf, c.unit, false, "start");
}

// Create-only (cas=0): Consul lets exactly one claim through.
void BrokerDriver::run(const loop::ClaimBrokerSeed& a) {
  consul::PutOptions options;
  options.cas = 0;
  ctx_.consul.kv_put(ctx_.keys.broker_seed(), encode(a.seed), options, [this, a](consul::Result<bool> r) {
    if (!r) {
      ctx_.note_consul_error("claiming the broker's founder", r.error());
    } else if (r.value()) {
      spdlog::info("broker: {} founds the broker cluster ({})", a.seed.node, a.seed.broker);
    } else {
      spdlog::info("broker: another node founded the broker cluster first");
    }
    seed_known_ = false;  // read it again before anything rests on it
    ++seed_generation_;
    seed_index_ = 0;
    watch_seed();
    ctx_.finish_job(loop::Job::claim_broker_seed);
  });
}

void BrokerDriver::run(const loop::JoinBrokerCluster& a) {
  spdlog::info("broker: joining the cluster through {} (rabbit@{})", a.node, a.address);
  const std::string unit = "ha-rabbitmq-join@" + a.address + ".service";
  heard_at_ = Clock::now();
  views_.broker_interrupted();  // a join resets the broker and restarts its app
  ctx_.units.start_unit(unit, [this, a, unit](systemd::JobOutcome outcome) {
    views_.broker_interrupted();
    if (outcome.ok()) {
      join_error_.clear();
      join_failed_at_.reset();
      spdlog::info("broker: joined the cluster through {}", a.node);
    } else {
      join_error_ = unit + ": " + outcome.to_string() + " (its journal says why)";
      join_failed_at_ = Clock::now();
      spdlog::error("broker: join through {} failed: {}", a.node, join_error_);
    }
    heard_at_ = Clock::now();
    ctx_.finish_job(loop::Job::join_broker_cluster);
  });
}

void BrokerDriver::run(const loop::ForgetBrokerNode& a) {
  spdlog::info("broker: forgetting rabbit@{}, which left the cluster for good", a.address);
  const std::string unit = "ha-rabbitmq-forget@" + a.address + ".service";
  ctx_.units.start_unit(unit, [this, a, unit](systemd::JobOutcome outcome) {
    if (outcome.ok()) {
      forget_error_.clear();
      forget_failed_at_.reset();
      spdlog::info("broker: rabbit@{} forgotten", a.address);
    } else {
      forget_error_ = unit + ": " + outcome.to_string() + " (its journal says why)";
      forget_failed_at_ = Clock::now();
      spdlog::error("broker: forgetting rabbit@{} failed: {}", a.address, forget_error_);
    }
    ctx_.finish_job(loop::Job::forget_broker_node);
  });
}

}  // namespace hasup::rabbitmq
