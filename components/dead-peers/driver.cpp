#include "components/dead-peers/driver.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "components/dead-peers/rule.hpp"
#include "supervisor/util/nft.hpp"

namespace hasup::dead_peers {

namespace asio = boost::asio;

DeadPeersDriver::DeadPeersDriver(loop::DriverContext& ctx)
    : ctx_(ctx),
      timers_(ctx.io),
      table_watch_(ctx.io, timers_.make(), ctx.config.dead_peers.nft, kDeadPeersTable,
                   [this] { return !applied_.empty(); },
                   [this] {
                     spdlog::warn("dead peers: the table ip {} is gone from the kernel (a firewall reload?): "
                                  "loading it again",
                                  kDeadPeersTable);
                     applied_.clear();
                     ctx_.wake();
                   }) {}

void DeadPeersDriver::start() {
  workers_ = std::make_unique<asio::thread_pool>(1);
  table_watch_.start(*workers_);
}

void DeadPeersDriver::stop() {
  stopped_ = true;
  table_watch_.stop();
  timers_.cancel_all();
  if (workers_) workers_->join();
}

void DeadPeersDriver::reload() { refused_.clear(); }  // the operator may have fixed what nft refused

void DeadPeersDriver::observe(loop::Snapshot& s) const {
  auto& v = s.dead_peers;
  v.enabled = true;
  v.consul_ports = {ctx_.config.dead_peers.consul_serf_port, ctx_.config.dead_peers.consul_server_port};
  v.applied = applied_;
  v.refused = refused_;
  v.error = error_;
}

bool DeadPeersDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::ApplyDeadPeers>(&action)) return run(*a), true;
  return false;
}

void DeadPeersDriver::run(const loop::ApplyDeadPeers& a) {
  const auto& c = ctx_.config.dead_peers;
  asio::post(*workers_, [this, nft = c.nft, path = c.script_file, a] {
    std::string error = load_nft_script(nft, path, a.script);
    asio::post(ctx_.io, [this, a, error] {
      if (error.empty()) {
        applied_ = a.script;
        refused_.clear();
        error_.clear();
        if (a.peers.empty())
          spdlog::info("dead peers: table ip {} loaded, empty", kDeadPeersTable);
        else
          spdlog::warn("dead peers: table ip {} loaded: TCP to {} is refused at once (gossip: failed)",
                       kDeadPeersTable, listed(a.peers));
      } else {
        refused_ = a.script;
        error_ = error;
        spdlog::error("dead peers: table not loaded: {}", error);
      }
      ctx_.finish_job(loop::Job::apply_dead_peers);
    });
  });
}

}  // namespace hasup::dead_peers
