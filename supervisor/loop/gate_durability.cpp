#include "supervisor/loop/gate_durability.hpp"

#include <filesystem>

#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::loop {

GateDurability parse_gate_durability(const std::string& text) {
  std::string word = text;
  if (!word.empty() && word.back() == '\n') word.pop_back();
  if (word == "strict" || word == "available") return {word, {}};
  return {{}, "it says " + quoted_printable(word, 40) + ", not strict or available"};
}

GateDurability read_gate_durability(const std::string& path) {
  const auto read = read_small_file(std::filesystem::path(path), 256);
  if (!read.ok()) return {{}, path + ": " + read.problem};
  auto parsed = parse_gate_durability(read.content);
  if (!parsed.error.empty()) parsed.error = path + ": " + parsed.error;
  return parsed;
}

}  // namespace hasup::loop
