#include "supervisor/loop/event_log.hpp"

#include <spdlog/spdlog.h>

#include "supervisor/events/timeline.hpp"

namespace hasup::loop {

using events::Event;
using namespace std::chrono_literals;

namespace {

// Consul refuses values over 512 KB; the ring stays well below (a text is
// capped, and 256 events of ~600 bytes are ~150 KB).
constexpr std::size_t kMaxValue = 400 * 1024;
constexpr std::size_t kMaxText = 600;

std::string capped(std::string text) {
  if (text.size() > kMaxText) text = text.substr(0, kMaxText) + "...";
  return text;
}

}  // namespace

EventLog::EventLog(consul::Client& consul, boost::asio::steady_timer& push_timer, std::string events_dir,
                   std::string node)
    : consul_(consul),
      push_timer_(push_timer),
      events_dir_(std::move(events_dir)),
      node_(std::move(node)),
      key_(events_dir_ + node_) {}

void EventLog::cycle(const Snapshot& s, const Plan& plan) {
  auto facts = events::facts_of(s, plan, last_facts_ ? &*last_facts_ : nullptr, Clock::now());
  if (last_facts_)
    for (auto& d : events::detect(*last_facts_, facts)) {
      Event e;
      e.component = std::move(d.component);
      e.kind = std::move(d.kind);
      e.text = std::move(d.text);
      e.requested_by = std::move(d.requested_by);
      e.opens_incident = d.opens_incident;
      e.reason = plan.reason;
      record(std::move(e));
    }
  last_facts_ = std::move(facts);
  const bool could = may_write_;
  may_write_ = s.kv.known && s.consul.quorum_reachable;
  if (may_write_ && !could && !unpushed_.empty()) push_soon();
}

void EventLog::note(std::string component, std::string kind, std::string text, std::string reason) {
  Event e;
  e.component = std::move(component);
  e.kind = std::move(kind);
  e.text = std::move(text);
  e.reason = std::move(reason);
  record(std::move(e));
}

void EventLog::record(Event e) {
  e.at = events::utc_now_ms();
  e.node = node_;
  // Unique without reading the stored ring: the time and a counter.
  e.id = node_ + "-" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count()) +
         "-" + std::to_string(sequence_++);
  e.text = capped(std::move(e.text));
  e.reason = capped(std::move(e.reason));
  e.requested_by = capped(std::move(e.requested_by));
  spdlog::info("event: {} {}: {}", e.component, e.kind, e.text);
  unpushed_[e.id] = Clock::now();
  ring_.push_back(std::move(e));
  while (ring_.size() > kEventsPerNode) {
    unpushed_.erase(ring_.front().id);
    ring_.pop_front();
  }
  push_soon();
}

void EventLog::push_soon() {
  if (!may_write_) return;  // kept; cycle() asks again once the view is whole
  if (pushing_) {
    push_pending_ = true;
    return;
  }
  auto since = Clock::now() - last_push_;
  auto delay = since >= 1s ? Clock::duration(0) : Clock::duration(1s) - since;
  push_timer_.expires_after(delay);
  push_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) load_then_push();
  });
}

// Before the first write, the ring stored by this node's previous run is
// read back and put before this run's events.
void EventLog::load_then_push() {
  if (!may_write_) return;
  if (loaded_) return push();
  pushing_ = true;
  consul_.kv_get(key_, {}, [this](consul::Result<consul::KvRead> r) {
    pushing_ = false;
    if (!r) {
      spdlog::debug("events: cannot read back {} yet: {}", key_, r.error().to_string());
      last_push_ = Clock::now();
      push_timer_.expires_after(2s);
      push_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) load_then_push();
      });
      return;
    }
    loaded_ = true;
    if (r.value().entry) {
      auto decoded = events::decode_ring(node_, r.value().entry->value);
      if (!decoded.error.empty()) {
        spdlog::warn("events: the stored ring {} is unreadable ({}); it is replaced", key_, decoded.error);
      } else {
        std::set<std::string> have;
        for (const auto& e : ring_) have.insert(e.id);
        std::deque<Event> merged;
        for (auto& e : decoded.events)
          if (!have.count(e.id)) merged.push_back(std::move(e));
        for (auto& e : ring_) merged.push_back(std::move(e));
        while (merged.size() > kEventsPerNode) merged.pop_front();
        ring_ = std::move(merged);
      }
    }
    push();
  });
}

void EventLog::push() {
  const auto now = Clock::now();
  for (auto& e : ring_) {
    auto it = unpushed_.find(e.id);
    if (it != unpushed_.end() && now - it->second > kLateAfter) e.late = true;
  }
  std::vector<Event> events(ring_.begin(), ring_.end());
  std::string value = events::encode_ring(node_, events);
  while (value.size() > kMaxValue && !events.empty()) {
    events.erase(events.begin(), events.begin() + std::min<std::size_t>(16, events.size()));
    value = events::encode_ring(node_, events);
  }
  std::set<std::string> sent;
  for (const auto& e : events) sent.insert(e.id);
  pushing_ = true;
  push_pending_ = false;
  last_push_ = now;
  consul_.kv_put(key_, std::move(value), {}, [this, sent = std::move(sent)](consul::Result<bool> r) {
    pushing_ = false;
    if (r && r.value()) {
      for (const auto& id : sent) unpushed_.erase(id);
      if (!write_error_.empty()) spdlog::info("events: written to {} again", key_);
      write_error_.clear();
    } else {
      std::string error = r ? "refused" : r.error().to_string();
      // Said once: cut off, every try fails the same way (a 403 is an ACL
      // policy without this key: components/consul/acl-setup grants it).
      if (write_error_.empty()) spdlog::warn("events: not written to {}: {} (kept here, tried again)", key_, error);
      write_error_ = std::move(error);
      push_pending_ = true;  // again, while it fails every 2 s at most
      last_push_ = Clock::now() + 1s;
    }
    if (push_pending_ || !unpushed_.empty()) push_soon();
  });
}

void EventLog::flush(std::function<void()> then) {
  if (!loaded_ || !may_write_ || unpushed_.empty()) return then();
  std::vector<Event> events(ring_.begin(), ring_.end());
  consul_.kv_put(key_, events::encode_ring(node_, events), {}, [then = std::move(then)](consul::Result<bool> r) {
    if (!r) spdlog::warn("events: the last ones were not written: {}", r.error().to_string());
    then();
  });
}

void EventLog::read_timeline(std::function<void(EventTimeline)> done) {
  consul_.kv_list(events_dir_, {}, [this, done = std::move(done)](consul::Result<consul::KvTree> r) {
    EventTimeline out;
    if (r) {
      others_.clear();
      for (const auto& entry : r.value().entries) {
        std::string name = entry.key.substr(events_dir_.size());
        if (name == node_) continue;
        auto decoded = events::decode_ring(name, entry.value);
        if (!decoded.error.empty()) {
          out.problems.push_back(entry.key.substr(0, 200) + ": unreadable: " + decoded.error);
          continue;
        }
        others_[name] = std::move(decoded.events);
      }
      others_read_at_ = events::utc_now_ms();
    } else {
      out.partial = "Consul did not answer (" + r.error().to_string() + "): other nodes' events as last read" +
                    (others_read_at_.empty() ? std::string(": never") : " at " + others_read_at_);
    }
    if (!write_error_.empty() || !unpushed_.empty())
      out.write_error = std::to_string(unpushed_.size()) + " of this node's events not in Consul yet" +
                        (write_error_.empty() ? "" : ": " + write_error_);
    auto rings = others_;
    rings[node_] = std::vector<Event>(ring_.begin(), ring_.end());
    out.events = events::merge_rings(rings);
    events::assign_incidents(out.events);
    done(std::move(out));
  });
}

}  // namespace hasup::loop
