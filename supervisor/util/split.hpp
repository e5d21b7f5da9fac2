#pragma once
#include <sstream>
#include <string>
#include <vector>

namespace hasup {

// "a,b,,c" -> {"a", "b", "c"}: the comma-separated lists of the config.
inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// {"a", "b"} -> "a, b": a list in a sentence (logs, status); "" when empty.
inline std::string sentence_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace hasup
