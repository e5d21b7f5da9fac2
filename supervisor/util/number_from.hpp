#pragma once
// The one reading of a number written as text: the whole of it (no sign where
// the type has none, no space, nothing after it), in range for the type.
// Consul's index headers, settings, options, journals, PostgreSQL's WAL names.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace hasup {

// `text` as a Number (an integer in `base`, or a floating-point number), or
// nullopt: empty, another character, out of range.
template <typename Number>
std::optional<Number> number_from(std::string_view text, int base = 10) {
  Number value{};
  const char* end = text.data() + text.size();
  std::from_chars_result read;
  if constexpr (std::is_floating_point_v<Number>)
    read = std::from_chars(text.data(), end, value);
  else
    read = std::from_chars(text.data(), end, value, base);
  if (text.empty() || read.ec != std::errc{} || read.ptr != end) return std::nullopt;
  return value;
}

// "5432" -> 5432; anything but a plain decimal 1..65535 -> nullopt.
inline std::optional<std::uint16_t> port_number(std::string_view text) {
  auto number = number_from<unsigned>(text);
  if (!number || *number < 1 || *number > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*number);
}

}  // namespace hasup
