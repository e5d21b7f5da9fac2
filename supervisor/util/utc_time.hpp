#pragma once
// The one UTC time format the supervisor writes (records' stamps, events,
// hactl's --since): ISO 8601 with a Z, optionally with milliseconds.
// Header-only: the fuzzed parsers use it without a library.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace hasup {

inline std::string utc_iso8601(std::chrono::system_clock::time_point at, bool milliseconds) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (milliseconds) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms < 0 ? ms + 1000 : ms));
  } else {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  }
  return buf;
}

}  // namespace hasup
