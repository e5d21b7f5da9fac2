#include "components/keepalived/tcp_connections.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <sstream>

namespace hasup::keepalived {

// Each line: "  sl  local_address rem_address   st ...", the local address
// as the in-memory 32-bit value in hex and the port ("6400A8C0:0050"), the
// state in hex (01: ESTABLISHED). The value is compared as it sits in
// memory, as inet_pton leaves it: the same on any byte order.
int established_to(const std::string& proc_net_tcp, const std::string& ipv4) {
  in_addr wanted{};
  if (inet_pton(AF_INET, ipv4.c_str(), &wanted) != 1) return -1;
  std::istringstream lines(proc_net_tcp);
  std::string line;
  if (!std::getline(lines, line) || line.find("local_address") == std::string::npos) return -1;
  int count = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state) || state != "01") continue;
    const auto colon = local.find(':');
    if (colon != 8) continue;
    std::uint32_t value = 0;
    try {
      value = static_cast<std::uint32_t>(std::stoul(local.substr(0, 8), nullptr, 16));
    } catch (...) {
      continue;
    }
    if (value == wanted.s_addr) ++count;
  }
  return count;
}

}  // namespace hasup::keepalived
