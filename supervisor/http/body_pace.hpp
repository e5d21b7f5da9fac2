#pragma once
// How slowly a request body may arrive: a minimum average rate after a grace
// period, and a total deadline (the rule of Apache's mod_reqtimeout, which
// grants time per byte received). A per-read idle timeout alone lets a client
// that sends a byte every few seconds hold a connection for ever: 512 such
// uploads filled the gate, and the REST service's Consul check through it
// went critical. Shared by the upload gate and the REST stand-in
// (header-only: the stand-in links no supervisor library).
//
// Only the time spent waiting for the client counts against its rate: while a
// server writes what it got (to the REST service, to disk), the client is not
// the slow one.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace hasup::http {

struct BodyPace {
  std::chrono::milliseconds grace{10000};           // the start of a body may be slow (slow start, a client's disk)
  std::uint64_t min_rate_bytes_s = 1024;            // after it, at least this on average; 0: no rate rule
  std::chrono::milliseconds max_duration{3600000};  // the whole body, however fast
};

// How long the next read may wait for the client: what the rate allows for
// `received` bytes (grace + received / rate) less the time already spent
// waiting (`waited`), and never past max_duration since the body began
// (`elapsed`). Zero or less: the body is too slow now.
inline std::chrono::milliseconds body_read_allowance(const BodyPace& pace, std::uint64_t received,
                                                     std::chrono::milliseconds waited,
                                                     std::chrono::milliseconds elapsed) {
  using std::chrono::milliseconds;
  auto total_left = pace.max_duration - elapsed;
  if (pace.min_rate_bytes_s == 0) return total_left;
  // received * 1000 / rate, saturated: a 2 GiB body at 1 byte/s is 68 years, not an overflow.
  constexpr std::uint64_t kCapMs = std::uint64_t{1} << 40;
  std::uint64_t earned = received / pace.min_rate_bytes_s >= kCapMs / 1000
                             ? kCapMs
                             : received * 1000 / pace.min_rate_bytes_s;
  auto rate_left = pace.grace + milliseconds(static_cast<std::int64_t>(earned)) - waited;
  return std::min(rate_left, total_left);
}

// What the client is told when its allowance ran out.
inline std::string body_too_slow_reason(const BodyPace& pace, std::uint64_t received,
                                        std::chrono::milliseconds elapsed) {
  if (elapsed >= pace.max_duration)
    return "request body not complete within " + std::to_string(pace.max_duration.count() / 1000) + " s (" +
           std::to_string(received) + " bytes received)";
  return "request body slower than " + std::to_string(pace.min_rate_bytes_s) + " bytes/s after the first " +
         std::to_string(pace.grace.count() / 1000) + " s (" + std::to_string(received) + " bytes in " +
         std::to_string(elapsed.count() / 1000) + " s)";
}

}  // namespace hasup::http
