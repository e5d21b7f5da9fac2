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

}  // namespace hasup
