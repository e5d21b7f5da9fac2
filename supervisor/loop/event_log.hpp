#pragma once
// This node's part of the cluster's event timeline (events/): each cycle's
// changes are recorded in a ring of kEventsPerNode (the oldest dropped) and
// the ring is written whole to the node's own Consul key, at most once a
// second, and only while the node has a whole view of the cluster's keys and
// the quorum (it writes nothing to Consul without one). Cut off from Consul,
// the ring keeps filling; it is written when Consul answers again, the events
// older than kLateAfter marked late. At
// start the node's stored ring is read back first, so a restart loses no
// history. Readers (GET /events) get every node's ring merged.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "supervisor/consul/client.hpp"
#include "supervisor/events/detect.hpp"
#include "supervisor/events/event.hpp"

namespace hasup::loop {

inline constexpr std::size_t kEventsPerNode = 256;
inline constexpr std::chrono::seconds kLateAfter{5};

struct EventTimeline {
  std::vector<events::Event> events;  // merged, incidents assigned
  std::vector<std::string> problems;  // rings that could not be read, one line each
  std::string partial;                // "" complete; else why other nodes' events may be old
  std::string write_error;            // why this node's newest events are not in Consul ("" they are)
};

class EventLog {
 public:
  using Clock = std::chrono::steady_clock;

  EventLog(consul::Client& consul, boost::asio::steady_timer& push_timer, std::string events_dir, std::string node);

  // Each cycle: what changed since the previous one, with the plan's reason.
  void cycle(const Snapshot& s, const Plan& plan);
  // The supervisor's own moments (started, configuration reloaded, stopping).
  void note(std::string component, std::string kind, std::string text, std::string reason = {});
  // Every node's ring from Consul (this node's from memory), merged.
  void read_timeline(std::function<void(EventTimeline)> done);

  // At shutdown: writes what is not in Consul yet, then `then` (also when
  // the write fails: the caller bounds the wait).
  void flush(std::function<void()> then);

  const std::deque<events::Event>& ring() const { return ring_; }

 private:
  void record(events::Event event);
  void push_soon();
  void push();
  void load_then_push();

  consul::Client& consul_;
  boost::asio::steady_timer& push_timer_;
  std::string events_dir_;
  std::string node_;
  std::string key_;
  std::deque<events::Event> ring_;
  std::map<std::string, Clock::time_point> unpushed_;  // id -> when recorded
  std::optional<events::EventFacts> last_facts_;
  std::uint64_t sequence_ = 0;
  bool loaded_ = false;     // the stored ring was read back (or found absent)
  bool may_write_ = false;  // the last cycle had a whole view of the keys and the quorum
  bool pushing_ = false;
  bool push_pending_ = false;
  Clock::time_point last_push_{};
  std::string write_error_;  // the last write's failure, "" after a success
  std::map<std::string, std::vector<events::Event>> others_;  // other nodes' rings, as last read
  std::string others_read_at_;
};

}  // namespace hasup::loop
