#include "supervisor/loop/catalog_drift_poll.hpp"

#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

CatalogDriftPoll::CatalogDriftPoll(consul::Client& consul, boost::asio::steady_timer& timer,
                                   std::function<std::string()> agent_node, std::function<void()> changed)
    : consul_(consul), timer_(timer), agent_node_(std::move(agent_node)), changed_(std::move(changed)) {}

void CatalogDriftPoll::poll_later() {
  timer_.expires_after(kPollInterval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopped_) poll();
  });
}

void CatalogDriftPoll::poll() {
  const std::string node = agent_node_();
  if (node.empty()) return poll_later();
  consul_.agent_checks([this, node](consul::Result<consul::CheckStatuses> agent) {
    if (stopped_) return;
    if (!agent) return forget(), poll_later();
    consul_.node_checks(node, [this, agent = agent.value()](consul::Result<consul::CheckStatuses> catalog) {
      if (stopped_) return;
      if (!catalog) return forget(), poll_later();
      compare(agent, catalog.value());
      poll_later();
    });
  });
}

void CatalogDriftPoll::compare(const consul::CheckStatuses& agent, const consul::CheckStatuses& catalog) {
  std::map<std::string, Disagreement> now;
  // Only the agent's own checks: the catalog also holds serfHealth, which
  // the servers keep, not the agent.
  for (const auto& [id, status] : agent) {
    auto c = catalog.find(id);
    const std::string in_catalog = c == catalog.end() ? "missing" : c->second;
    if (in_catalog == status) continue;
    auto before = disagreements_.find(id);
    now[id] = Disagreement{status, in_catalog, before == disagreements_.end() ? Clock::now() : before->second.since};
  }
  const bool changed = now.size() != disagreements_.size() ||
                       !std::equal(now.begin(), now.end(), disagreements_.begin(), [](const auto& a, const auto& b) {
                         return a.first == b.first && a.second.agent == b.second.agent &&
                                a.second.catalog == b.second.catalog;
                       });
  disagreements_ = std::move(now);
  if (changed) changed_();
}

void CatalogDriftPoll::forget() {
  if (disagreements_.empty()) return;
  disagreements_.clear();
  changed_();
}

void CatalogDriftPoll::observe(ConsulLink& link) const {
  const auto now = Clock::now();
  link.catalog_drift.clear();
  for (const auto& [id, d] : disagreements_)
    link.catalog_drift.push_back(
        {id, d.agent, d.catalog, std::chrono::duration_cast<std::chrono::milliseconds>(now - d.since)});
  link.agent_resync_ago.reset();
  if (resynced_at_) link.agent_resync_ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - *resynced_at_);
}

}  // namespace hasup::loop
