#pragma once
// Matches systemd jobs to the requests that created them. StartUnit & co.
// answer with the job's object path; the job's end comes later as a JobRemoved
// signal carrying that path. Both arrive on one connection, but systemd may
// send JobRemoved BEFORE the method reply (a job with nothing to do ends in the
// same turn of its event loop that queued it), so a JobRemoved that nobody
// waits for yet is remembered for a while, and a reply looks there first.
//
// Two requests can get the same path: systemd merges a job into an equal one
// already queued for the unit. Both are answered.
//
// Pure and header-only: no bus, no clock of its own (callers pass `now`).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hasup::systemd {

class JobMatcher {
 public:
  using Clock = std::chrono::steady_clock;

  explicit JobMatcher(std::size_t capacity = 256, std::chrono::milliseconds keep = std::chrono::seconds(60))
      : capacity_(capacity), keep_(keep) {}

  // Request `id` got job `path`. Returns the job's result if it already ended;
  // otherwise the request now waits for it.
  std::optional<std::string> queued(std::uint64_t id, const std::string& path, Clock::time_point now) {
    expire(now);
    for (const auto& r : removed_)
      if (r.path == path) return r.result;
    waiting_.emplace(path, id);
    return std::nullopt;
  }

  // JobRemoved(path, result): the requests that waited for it (they stop
  // waiting). When none did, the result is remembered for a late reply.
  std::vector<std::uint64_t> removed(const std::string& path, const std::string& result, Clock::time_point now) {
    expire(now);
    std::vector<std::uint64_t> ids;
    auto range = waiting_.equal_range(path);
    for (auto it = range.first; it != range.second; ++it) ids.push_back(it->second);
    waiting_.erase(range.first, range.second);
    if (ids.empty()) {
      removed_.push_back({path, result, now});
      while (removed_.size() > capacity_) removed_.pop_front();
    }
    return ids;
  }

  // The request ended some other way (its timeout, an error): stop waiting.
  void forget(std::uint64_t id) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->second == id)
        it = waiting_.erase(it);
      else
        ++it;
    }
  }

  // A new connection, or a new systemd: job paths from before mean nothing now.
  void clear() {
    waiting_.clear();
    removed_.clear();
  }

  std::size_t waiting() const { return waiting_.size(); }
  std::size_t remembered() const { return removed_.size(); }

 private:
  struct Removed {
    std::string path;
    std::string result;
    Clock::time_point at;
  };

  void expire(Clock::time_point now) {
    while (!removed_.empty() && now - removed_.front().at > keep_) removed_.pop_front();
  }

  std::size_t capacity_;
  std::chrono::milliseconds keep_;
  std::multimap<std::string, std::uint64_t> waiting_;
  std::deque<Removed> removed_;
};

}  // namespace hasup::systemd
