#pragma once
// Consul's ports on the peers that the dead peers' table never refuses: serf
// reconnects to a failed node over TCP (its gossip port), and Raft's leader
// must reach a healed node at once (its server port). With the server port
// refused, a healed node heard no leader, kept calling elections with ever
// higher terms and unseated the leader each time until gossip called it
// alive again: a healed partition took 10-30 s in the lab.
namespace hasup::dead_peers {

struct ConsulPorts {
  int serf = 8301;
  int server = 8300;
};

}  // namespace hasup::dead_peers
