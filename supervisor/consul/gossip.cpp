#include "supervisor/consul/gossip.hpp"

namespace hasup::consul {

namespace {

struct Counts {
  int alive = 0;
  int failed = 0;
};

Counts count(const std::map<std::string, std::string>& gossip) {
  Counts c;
  for (const auto& [address, status] : gossip) {
    if (status == "alive") ++c.alive;
    if (status == "failed") ++c.failed;
  }
  return c;
}

}  // namespace

bool in_gossip_majority(const std::map<std::string, std::string>& gossip) {
  const Counts c = count(gossip);
  return 2 * c.alive > c.alive + c.failed;
}

std::string gossip_summary(const std::map<std::string, std::string>& gossip) {
  const Counts c = count(gossip);
  return std::to_string(c.alive) + " of " + std::to_string(c.alive + c.failed) + " alive";
}

}  // namespace hasup::consul
