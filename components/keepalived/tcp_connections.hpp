#pragma once
// How many TCP connections to an address are established, from the kernel's
// table of this network namespace (/proc/net/tcp): a switchover's drain waits
// until those to the floating IP have ended before the address leaves.
#include <string>

namespace hasup::keepalived {

// Established connections whose local address is `ipv4` in /proc/net/tcp's
// text; -1 when `ipv4` is no IPv4 address or the text has no header line.
int established_to(const std::string& proc_net_tcp, const std::string& ipv4);

}  // namespace hasup::keepalived
