#pragma once
// Whether an IP address lies in a network given as ADDRESS/PREFIX (IPv4 or
// IPv6, by Boost.Asio's parser). Anything that does not parse is outside.
#include <string>

namespace hasup {

bool address_in_network(const std::string& address, const std::string& cidr);

}  // namespace hasup
