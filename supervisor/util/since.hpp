#pragma once
// How long ago a steady-clock instant was, in whole milliseconds: the ages the
// drivers put into their views.
#include <chrono>

namespace hasup {

inline std::chrono::milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t);
}

}  // namespace hasup
