#include "supervisor/util/ip_network.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace hasup {

bool address_in_network(const std::string& address, const std::string& cidr) {
  namespace ip = boost::asio::ip;
  boost::system::error_code ec;
  const ip::address a = ip::make_address(address, ec);
  if (ec) return false;
  if (a.is_v4()) {
    const ip::network_v4 given = ip::make_network_v4(cidr, ec);
    if (ec) return false;
    const ip::network_v4 net = given.canonical(), host(a.to_v4(), 32);
    return host == net || host.is_subnet_of(net);
  }
  const ip::network_v6 given = ip::make_network_v6(cidr, ec);
  if (ec) return false;
  const ip::network_v6 net = given.canonical(), host(a.to_v6(), 128);
  return host == net || host.is_subnet_of(net);
}

}  // namespace hasup
