#pragma once
// Text that comes from outside (Consul's data, another program's output), made
// safe to show: in a log line, an error message, the status API's JSON.
// Header-only: the components' parsers and validators share it.
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

namespace hasup {

// For quoted_printable: show the whole value (the operator's own config, whose
// size the loader bounds), not a cut one.
inline constexpr std::size_t kWholeValue = std::string_view::npos;

// The one log-safe quoting: value between double quotes, control and non-ASCII
// bytes as \xNN (a terminal or log viewer shows the bytes, never acts on
// them), '"' and '\' escaped, cut after `max` bytes ("..." marks the cut).
inline std::string quoted_printable(std::string_view value, std::size_t max = 80) {
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > max) out += "...";
  return out + "\"";
}

// Words kept in the cluster's records and shown in logs, events and hactl's
// terminal: printable ASCII only, at most `limit` bytes (empty passes: the
// caller says whether it may be).
inline bool printable_ascii(std::string_view text, std::size_t limit) {
  return text.size() <= limit && std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Text for a terminal (hactl's tables): every control character becomes '?',
// the C0 ones and DEL, and the C1 ones in their UTF-8 form (U+0080-U+009F,
// bytes C2 80-9F: U+009B starts an escape sequence in some terminals), so a
// name from outside cannot move the cursor, retitle the window or hide a line.
// Other UTF-8 passes unchanged.
inline std::string terminal_safe(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == 0xc2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(value[i + 1]) <= 0x9f) {
      out += '?';
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// [A-Za-z0-9._-]{1,max}: a name from outside that becomes a node name, a file
// name or a word in a log line.
inline bool is_plain_name(std::string_view name, std::size_t max = 128) {
  return !name.empty() && name.size() <= max && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
         });
}

}  // namespace hasup
