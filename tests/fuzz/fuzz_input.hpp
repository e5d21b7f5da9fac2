#pragma once
// What every harness here shares: the input's first byte picks which parser
// gets the rest (one binary per kind of outside data keeps the build and the
// CI run short), and a broken invariant stops the run where it broke.
#include <cstddef>
#include <cstdint>
#include <string>

namespace hasup::fuzz {

struct PickedInput {
  std::uint8_t parser = 0;  // the first byte, modulo the harness's parser count
  std::string text;         // the bytes after it
};

inline PickedInput pick(const std::uint8_t* data, std::size_t size, std::uint8_t parsers) {
  if (size == 0) return {0, {}};
  return {static_cast<std::uint8_t>(data[0] % parsers), std::string(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

// A trap, not an exception: nothing may catch it, and libFuzzer (or the
// replay test) reports the input that broke the invariant.
inline void must_hold(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace hasup::fuzz
