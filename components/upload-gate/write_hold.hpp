#pragma once
// The write hold of a planned switchover (`hactl switchover`): while the
// database changes primary, new writes wait at the gate instead of failing at
// the REST service, and the supervisor learns when no write is still being
// processed upstream, so it can switch the database.
//
// The supervisor writes the hold file, {"id": "...", "until_unix_ms": N}. A
// hold is active while the file exists, parses, and now is before both
// until_unix_ms and (the time the gate first saw this id + hold.max_ms). A file
// that does not parse is no hold: holding is for availability, never for
// safety, so bad input can only let writes through.
//
// WriteHold is the state every proxy loop shares (a mutex): the hold in force,
// the writes waiting on it in arrival order, and how many writes are "at the
// upstream" (forwarded, the upstream's answer not received yet; a write whose
// 2xx answer waits for replication is committed and does not count). It does
// no I/O: HoldWatch (hold_watch.hpp) reads the file and writes the
// acknowledgement.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/upload-gate/config.hpp"

namespace hasup::upload_gate {

class GateMetrics;

// Larger than any hold file the supervisor writes (~100 bytes): beyond it the
// file is refused unread.
constexpr std::size_t kMaxHoldFileBytes = 4096;
constexpr std::size_t kMaxHoldIdChars = 64;

struct HoldFile {
  std::string id;                   // 1..64 printable ASCII characters
  std::int64_t until_unix_ms = 0;
};

struct HoldParse {
  std::optional<HoldFile> hold;
  std::string error;  // why not, when !hold
};

// The hold file's text. Keys other than id and until_unix_ms are ignored (a
// newer supervisor may add some; refusing them would drop its hold).
HoldParse parse_hold_file(std::string_view text);

// The active rule: before until_unix_ms and less than `max` since the gate
// first saw the id.
bool hold_active(std::int64_t until_unix_ms, std::chrono::milliseconds seen_for, std::chrono::milliseconds max,
                 std::int64_t now_unix_ms);

// The acknowledgement's text: {"id":"...","since_unix_ms":N}.
std::string hold_ack_text(const std::string& id, std::int64_t since_unix_ms);

// One moment on both clocks: until_unix_ms is wall-clock time, the max_ms cap
// is measured on the steady clock (a wall-clock step must not stretch it).
struct HoldInstant {
  std::int64_t unix_ms = 0;
  std::chrono::steady_clock::time_point steady;
  static HoldInstant now();
};

// What HoldWatch found in the hold file.
struct HoldRead {
  enum class State { absent, invalid, valid } state = State::absent;
  HoldFile file;      // when valid
  std::string error;  // when invalid
};

struct HoldAck {
  std::string id;
  std::int64_t since_unix_ms = 0;  // when no write was at the upstream any more
};

class WriteHold {
 public:
  // `metrics` may be null.
  WriteHold(const HoldConfig& config, GateMetrics* metrics);
  WriteHold(const WriteHold&) = delete;
  WriteHold& operator=(const WriteHold&) = delete;

  // --- the proxy loops (any thread) ---------------------------------------------

  // A new gated write is ready to go upstream. No hold: true, and it counts as
  // at the upstream from now on. Under a hold: false; `released` runs once the
  // hold ends (on the thread that ends it; post to your own loop), and the
  // write counts as at the upstream from then on.
  bool admit(std::function<void()> released);
  // A write counted by admit() (or released) got the upstream's answer, or its
  // upstream connection is gone. Once per such write.
  void answered();

  // --- HoldWatch (one thread) ---------------------------------------------------

  // The hold file as read now. Starts and ends holds (one log line each). The
  // writes released by an ending hold are returned, to run once the
  // acknowledgement is gone: the supervisor must never see "held" while they
  // are on their way upstream.
  std::vector<std::function<void()>> update(const HoldRead& read, HoldInstant now);
  // The acknowledgement due now: a hold is active and no write is at the upstream.
  std::optional<HoldAck> ack() const;
  // When the hold in force ends by itself (until_unix_ms or the max_ms cap), to
  // wake up then.
  std::optional<std::chrono::steady_clock::time_point> ends_at() const;
  // Called (outside the lock) when the last write at the upstream got its
  // answer while a hold is in force: the acknowledgement is due.
  void on_drained(std::function<void()> callback);
  // At shutdown, once no loop runs: drops the waiting writes unreleased.
  void drop_waiting();

  std::size_t waiting() const;
  std::size_t at_upstream() const;
  std::optional<std::string> active_id() const;

 private:
  struct Waiting {
    std::function<void()> released;
    std::chrono::steady_clock::time_point since;
  };
  struct Hold {
    HoldFile file;
    std::int64_t started_unix_ms = 0;
    std::chrono::steady_clock::time_point ends;  // min(until, first seen + max) on the steady clock
  };

  std::vector<std::function<void()>> end_locked(const std::string& why, std::chrono::steady_clock::time_point now);

  const HoldConfig& config_;
  GateMetrics* metrics_;
  mutable std::mutex mutex_;
  std::optional<Hold> hold_;
  std::deque<Waiting> waiting_;
  std::size_t at_upstream_ = 0;
  std::int64_t drained_since_unix_ms_ = 0;  // when at_upstream_ last became 0
  // The cap counts from the first sighting of an id, however often the file is
  // rewritten or removed and written again with it.
  std::string seen_id_;
  std::chrono::steady_clock::time_point seen_at_;
  std::string ended_id_;  // an id whose hold ended or never started: said once
  std::function<void()> on_drained_;
};

}  // namespace hasup::upload_gate
