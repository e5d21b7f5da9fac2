#include "components/syncthing/model.hpp"

namespace hasup::syncthing {

std::string folder_id(const std::string& path) {
  std::string id = "ha";
  for (char c : path) id += c == '/' ? '-' : c;
  while (id.size() > 2 && id.back() == '-') id.pop_back();
  return id;
}

bool dials(const std::string& self_device_id, const std::string& peer_device_id) {
  return self_device_id < peer_device_id;
}

bool is_device_id(const std::string& text) {
  if (text.size() != 8 * 7 + 7) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i % 8 == 7) {
      if (c != '-') return false;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) {
      return false;
    }
  }
  return true;
}

}  // namespace hasup::syncthing
