// The floating IP as it is, not as it was told: keepalived's state changes
// from its notify FIFO, and whether the address is on this node's interface.
#include "components/keepalived/driver.hpp"

#include "components/keepalived/tcp_connections.hpp"
#include "components/switchover/decide.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>

#include "components/keepalived/notify.hpp"
#include "components/keepalived/render.hpp"
#include "supervisor/loop/decide.hpp"
#include "supervisor/util/command.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/nft.hpp"

namespace hasup::keepalived {

namespace asio = boost::asio;
using std::chrono::milliseconds;

VipDriver::VipDriver(loop::DriverContext& ctx)
    : ctx_(ctx),
      timers_(ctx.io),
      heartbeat_(timers_.make()),
      // Its content is the supervisor's alone: whether it is there is enough.
      filter_watch_(ctx.io, timers_.make(), ctx.config.vip.nft, kVrrpFilterTable,
                    [this] { return !filter_applied_.empty(); },
                    [this] {
                      spdlog::warn("floating IP: the VRRP filter (table ip {}) is gone from the kernel (a firewall "
                                   "reload?): loading it again",
                                   kVrrpFilterTable);
                      filter_applied_.clear();
                      drain_loaded_at_.reset();
                      ctx_.wake();
                    }) {
  read_template();
}

std::vector<std::string> VipDriver::units() const { return {ctx_.config.vip.keepalived_unit}; }

void VipDriver::read_template() {
  const auto& path = ctx_.config.vip.template_path;
  auto text = read_small_file(path);
  template_text_ = text.value_or("");
  template_error_ = text ? "" : "cannot read the template " + path;
  if (!text) spdlog::error("{}", template_error_);
}

void VipDriver::reload() {
  read_template();
  filter_refused_.clear();  // the operator may have fixed what nft refused
}

void VipDriver::start() {
  workers_ = std::make_unique<asio::thread_pool>(1);
  start_notify();
  if (ctx_.config.vip.vrrp_filter) filter_watch_.start(*workers_);
  if (!ctx_.config.vip.heartbeat_file.empty()) beat();
}

// On the loop's own io_context: a wedged loop stops beating too, and
// keepalived gives the IP up (vip.heartbeat_max_age_s) even before systemd's
// watchdog restarts it.
void VipDriver::beat() {
  const std::string error = touch_file(ctx_.config.vip.heartbeat_file);
  if (error != heartbeat_error_) {
    if (!error.empty())
      spdlog::error("floating IP: cannot touch the heartbeat file (keepalived will give the IP up): {}", error);
    else if (!heartbeat_error_.empty())
      spdlog::info("floating IP: heartbeat file touched again");
    heartbeat_error_ = error;
  }
  heartbeat_.expires_after(std::chrono::seconds(1));
  heartbeat_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopped_) beat();
  });
}

void VipDriver::stop() {
  stopped_ = true;
  filter_watch_.stop();
  if (fifo_) fifo_->cancel();
  timers_.cancel_all();
  if (workers_) workers_->join();
}

// The supervisor makes the FIFO (keepalived only opens it) and holds it open
// for reading and writing: the read end never sees EOF when keepalived
// restarts, and keepalived's writes never fail for want of a reader.
void VipDriver::start_notify() {
  const std::string& path = ctx_.config.vip.notify_fifo;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
    spdlog::error("floating IP: {} exists and is not a FIFO: keepalived's state will not be reported", path);
    return;
  }
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) {
    spdlog::error("floating IP: cannot create {}: {}", path, std::strerror(errno));
    return;
  }
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    spdlog::error("floating IP: cannot open {}: {}", path, std::strerror(errno));
    return;
  }
  fifo_ = std::make_unique<asio::posix::stream_descriptor>(ctx_.io, fd);
  read_notify();
}

void VipDriver::read_notify() {
  asio::async_read_until(*fifo_, fifo_buffer_, '\n', [this](boost::system::error_code ec, std::size_t) {
    if (ec || stopped_) {
      if (ec != asio::error::operation_aborted)
        spdlog::error("floating IP: reading {} failed: {}", ctx_.config.vip.notify_fifo, ec.message());
      return;
    }
    std::istream in(&fifo_buffer_);
    std::string line;
    std::getline(in, line);
    auto event = parse_notify_line(line);
    if (!event) {
      spdlog::warn("floating IP: unexpected line from keepalived's notify FIFO ignored: {:.120}", line);
    } else if (event->kind == "INSTANCE" && event->name == VrrpModel{}.instance) {
      if (event->state != vrrp_state_)
        spdlog::info("floating IP: keepalived {} -> {} (priority {})", vrrp_state_.empty() ? "?" : vrrp_state_,
                     event->state, event->priority);
      vrrp_state_ = event->state;
      ctx_.wake();
    }
    read_notify();
  });
}

bool VipDriver::address_on_interface() const {
  const auto& c = ctx_.config.vip;
  std::string vip = c.address.substr(0, c.address.find('/'));
  in_addr wanted{};
  if (::inet_pton(AF_INET, vip.c_str(), &wanted) != 1) return false;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || c.interface != a->ifa_name) continue;
    found = reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr == wanted.s_addr;
  }
  ::freeifaddrs(list);
  return found;
}

void VipDriver::observe(loop::Snapshot& s) const {
  loop::VipView& v = s.vip;
  const auto& c = ctx_.config.vip;
  v.enabled = true;
  v.template_text = template_text_;
  v.template_error = template_error_;
  v.current_conf = read_small_file(c.keepalived_conf);
  v.conf_file = catch_up_.observe(c.keepalived_conf);
  if (auto track = read_small_file(c.track_file)) v.fault_now = track->empty() || (*track)[0] != '0';
  v.unit = c.keepalived_unit;
  v.unfit_grace = milliseconds(c.unfit_grace_ms);
  v.election_grace = milliseconds(c.election_grace_ms);
  v.up_for = std::chrono::duration_cast<milliseconds>(Clock::now() - made_at_);
  if (c.db_primary_weight > 0) {
    v.base.preference_file = c.preference_file;
    v.base.preference_weight = c.db_primary_weight;
    if (auto file = read_small_file(c.preference_file)) v.preferred_now = !file->empty() && (*file)[0] == '1';
  }
  v.base.node_name = ctx_.config.node.name;
  v.base.interface = c.interface;
  v.base.virtual_router_id = c.virtual_router_id;
  v.base.priority = c.priority;
  v.base.advert_interval_ms = c.advert_interval_ms;
  v.base.self_address = ctx_.config.node.address;
  v.base.vip = c.address;
  v.base.track_file = c.track_file;
  v.base.notify_fifo = c.notify_fifo;
  if (!c.heartbeat_file.empty()) {
    v.base.heartbeat_file = c.heartbeat_file;
    v.base.heartbeat_check = c.heartbeat_check;
    v.base.heartbeat_max_age_s = c.heartbeat_max_age_s;
  }
  v.vrrp_state = vrrp_state_;
  v.holds_address = address_on_interface();
  v.filter_enabled = c.vrrp_filter;
  v.filter_applied = filter_applied_;
  v.filter_refused = filter_refused_;
  v.filter_error = filter_error_;
  v.drain_loaded = drain_loaded_at_.has_value();
  if (drain_loaded_at_) {
    v.drain_for = std::chrono::duration_cast<milliseconds>(Clock::now() - *drain_loaded_at_);
    // Read only while draining: a few KB, each cycle of a switchover's drain.
    if (v.holds_address)
      if (auto table = read_small_file("/proc/net/tcp"))
        v.address_connections = keepalived::established_to(*table, c.address.substr(0, c.address.find('/')));
  }
}

// The age of this node's local problem, from the whole snapshot: decide()
// holds the floating IP through a short one.
void VipDriver::observed(loop::Snapshot& s) {
  const auto now = Clock::now();
  // While a switchover keeps the address here (the database changing primary
  // makes every node unfit for a moment), the grace does not run: counted
  // through it, the grace ended with the switchover, and the address left at
  // once with the writes the hold had just released on it (lab_switchover:
  // 48 of 600 uploads stranded until their client's timeout).
  if (loop::local_problem(s).empty() || loop::switchover_keeps_vip_here(s))
    problem_since_.reset();
  else if (!problem_since_)
    problem_since_ = now;
  if (problem_since_) s.vip.problem_for = std::chrono::duration_cast<milliseconds>(now - *problem_since_);
}

bool VipDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::SetVipFault>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::SetVipPreference>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::ApplyKeepalivedConf>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::StartKeepalived>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::ApplyVrrpFilter>(&action)) return run(*a), true;
  return false;
}

// A local file write, done at once: it must work when Consul is gone, which is
// exactly when the floating IP has to leave this node.
void VipDriver::run(const loop::SetVipFault& a) {
  auto error = write_file_atomically(ctx_.config.vip.track_file, a.fault ? "1\n" : "0\n", 0644);
  if (!error.empty())
    spdlog::error("floating IP: {}", error);
  else
    spdlog::log(a.fault ? spdlog::level::warn : spdlog::level::info, "floating IP: track file set to {} ({})",
                a.fault ? 1 : 0, a.fault ? "FAULT: the IP leaves this node" : "this node may hold the IP");
  asio::post(ctx_.io, [this] { ctx_.finish_job(loop::Job::set_vip_fault); });
}

void VipDriver::run(const loop::SetVipPreference& a) {
  auto error = write_file_atomically(ctx_.config.vip.preference_file, a.preferred ? "1\n" : "0\n", 0644);
  if (!error.empty())
    spdlog::error("floating IP: {}", error);
  else
    spdlog::info("floating IP: preference track file set to {} ({})", a.preferred ? 1 : 0,
                 a.preferred ? "the database primary is here: next holder among healthy nodes" : "no preference");
  asio::post(ctx_.io, [this] { ctx_.finish_job(loop::Job::set_vip_preference); });
}

// New peers reach keepalived by a reload (SIGHUP), not a restart: the
// instance keeps its state and the IP does not flap.
void VipDriver::run(const loop::ApplyKeepalivedConf& a) {
  const auto& c = ctx_.config.vip;
  // Every end of the job: a catch-up's outcome is kept for its spacing and status.
  auto finish = [this, catch_up = a.catch_up](const std::string& error) {
    if (catch_up) catch_up_.ended(error);
    ctx_.finish_job(loop::Job::apply_keepalived_conf);
  };
  auto error = write_file_atomically(c.keepalived_conf, a.text, 0644);
  if (!error.empty()) {
    spdlog::error("floating IP: {}", error);
    asio::post(ctx_.io, [finish, error] { finish(error); });
    return;
  }
  spdlog::info("floating IP: wrote {}", c.keepalived_conf);
  if (a.after != loop::AfterWrite::reload) {
    asio::post(ctx_.io, [finish] { finish(""); });
    return;
  }
  ctx_.units.reload_unit(c.keepalived_unit, [finish, catch_up = a.catch_up](systemd::JobOutcome outcome) {
    if (outcome.ok())
      spdlog::info("floating IP: keepalived reloaded{}", catch_up ? ": it had been running an older keepalived.conf" : "");
    else
      spdlog::error("floating IP: {}", outcome.to_string());
    finish(outcome.ok() ? "" : outcome.to_string());
  });
}

void VipDriver::run(const loop::StartKeepalived&) {
  ctx_.units.start_unit(ctx_.config.vip.keepalived_unit, [this](systemd::JobOutcome outcome) {
    if (outcome.ok())
      spdlog::info("floating IP: keepalived started");
    else
      spdlog::error("floating IP: {}", outcome.to_string());
    ctx_.finish_job(loop::Job::start_keepalived);
  });
}

// The script goes to a file beside the track file (util/nft.hpp).
void VipDriver::run(const loop::ApplyVrrpFilter& a) {
  const auto& c = ctx_.config.vip;
  const std::string path = (std::filesystem::path(c.track_file).parent_path() / "vrrp-filter.nft").string();
  auto finish = [this](const std::string& ruleset, const std::string& error) {
    if (error.empty()) {
      filter_applied_ = ruleset;
      const bool drains = ruleset.find(kVipDrainComment) != std::string::npos;
      if (!drains) drain_loaded_at_.reset();
      else if (!drain_loaded_at_) drain_loaded_at_ = Clock::now();
      filter_refused_.clear();
      filter_error_.clear();
      spdlog::info("floating IP: VRRP filter loaded (table ip {}): adverts from members only", kVrrpFilterTable);
    } else {
      filter_refused_ = ruleset;
      filter_error_ = error;
      spdlog::error("floating IP: VRRP filter not loaded: {}", error);
    }
    ctx_.finish_job(loop::Job::apply_vrrp_filter);
  };
  asio::post(*workers_, [this, nft = c.nft, path, finish, ruleset = a.ruleset] {
    std::string error = load_nft_script(nft, path, ruleset);
    asio::post(ctx_.io, [finish, ruleset, error] { finish(ruleset, error); });
  });
}

}  // namespace hasup::keepalived
