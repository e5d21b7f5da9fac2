#include "components/dead-peers/driver.hpp"

#include <spdlog/spdlog.h>

#include "components/dead-peers/rule.hpp"

namespace hasup::dead_peers {

DeadPeersDriver::DeadPeersDriver(loop::DriverContext& ctx)
    : ctx_(ctx), table_(ctx, ctx.config.dead_peers.nft, kDeadPeersTable, "dead peers") {}

void DeadPeersDriver::observe(loop::Snapshot& s) const {
  auto& v = s.dead_peers;
  v.enabled = true;
  v.consul_ports = {ctx_.config.dead_peers.consul_serf_port, ctx_.config.dead_peers.consul_server_port};
  v.applied = table_.applied();
  v.refused = table_.refused();
  v.error = table_.error();
}

bool DeadPeersDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::ApplyDeadPeers>(&action)) return run(*a), true;
  return false;
}

void DeadPeersDriver::run(const loop::ApplyDeadPeers& a) {
  table_.load(ctx_.config.dead_peers.script_file, a.script, loop::Job::apply_dead_peers,
              [peers = a.peers](const std::string& error) {
                if (!error.empty())
                  spdlog::error("dead peers: table not loaded: {}", error);
                else if (peers.empty())
                  spdlog::info("dead peers: table ip {} loaded, empty", kDeadPeersTable);
                else
                  spdlog::warn("dead peers: table ip {} loaded: TCP to {} is refused at once (gossip: failed)",
                               kDeadPeersTable, listed(peers));
              });
}

}  // namespace hasup::dead_peers
