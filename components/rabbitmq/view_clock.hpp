#pragma once
// Which of the broker's cluster views may be acted on, and how long the
// current one has listed a partition. A view belongs to one run of the
// broker: a read begun before the supervisor restarted it, or before it went
// silent, describes a broker that is gone.
//
// Seen in CI: after a partition healed, the supervisor restarted the broker
// (decide_partition), and a read begun before that restart landed after it,
// naming the old partition. The partition clock started there, so when the
// restarted broker answered, its first decision saw the old view 15 s into
// the partition and restarted it again, and again: the broker did not rejoin
// within the test's 90 s.
#include <chrono>
#include <cstdint>
#include <optional>

namespace hasup::rabbitmq {

class ViewClock {
 public:
  using Clock = std::chrono::steady_clock;

  // The broker was (re)started by the supervisor or stopped answering: the
  // views read so far, and reads under way, describe a broker that is gone.
  void broker_interrupted() {
    ++run_;
    current_view_ = false;
    partitioned_since_.reset();
  }

  // A read of the cluster view begins: its answer is current only if the
  // broker was not interrupted meanwhile.
  std::uint64_t read_begun() const { return run_; }
  bool current(std::uint64_t began) const { return began == run_; }

  // A current read's answer, listing a partition or not.
  void viewed(bool partitioned, Clock::time_point now) {
    current_view_ = true;
    if (!partitioned)
      partitioned_since_.reset();
    else if (!partitioned_since_)
      partitioned_since_ = now;
  }

  // No view read since the last interruption: the one kept is stale.
  bool stale() const { return !current_view_; }

  // How long the views of this run have listed a partition without a break.
  std::optional<Clock::duration> partitioned_for(Clock::time_point now) const {
    if (!partitioned_since_) return std::nullopt;
    return now - *partitioned_since_;
  }

 private:
  std::uint64_t run_ = 0;
  bool current_view_ = false;
  std::optional<Clock::time_point> partitioned_since_;
};

}  // namespace hasup::rabbitmq
