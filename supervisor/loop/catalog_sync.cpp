#include "supervisor/loop/catalog_sync.hpp"

#include <algorithm>

#include "supervisor/util/printable.hpp"

namespace hasup::loop {

std::string decide_catalog_sync(Plan& plan, const Snapshot& s) {
  const auto& drift = s.consul.catalog_drift;
  // The full sync needs a Raft leader; cut off, the plan's reason says so already.
  if (drift.empty() || !s.consul.quorum_reachable || s.shutting_down) return {};
  std::chrono::milliseconds longest{0};
  std::string listed;
  for (const auto& d : drift) {
    longest = std::max(longest, d.lasted);
    listed += (listed.empty() ? "" : ", ") + quoted_printable(d.check) + " (agent " + d.agent + ", catalog " +
              quoted_printable(d.catalog) + ")";
  }
  // The usual lag of a push: nothing to say, look again when it would count.
  if (longest < kDriftBeforeResync) {
    plan.wake_within(kDriftBeforeResync - longest);
    return {};
  }
  const std::string what = "Consul's catalog disagrees with the local agent for more than " +
                           std::to_string(kDriftBeforeResync.count() / 1000) + " s on " + listed;
  if (s.consul.agent_resync_ago && *s.consul.agent_resync_ago < kResyncEvery) {
    plan.wake_within(kResyncEvery - *s.consul.agent_resync_ago);
    // The sync just asked for is under way: the next polls tell.
    if (*s.consul.agent_resync_ago < kDriftBeforeResync) return {};
    return what + ": the agent was asked for a full sync less than " + std::to_string(kResyncEvery.count() / 1000) +
           " s ago; asking again then";
  }
  want(plan, s, ResyncConsulAgent{listed});
  return what + ": asking the agent for a full sync (reload)";
}

}  // namespace hasup::loop
