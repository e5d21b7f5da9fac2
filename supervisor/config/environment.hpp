#pragma once
// Checks of a loaded Config against the machine it runs on. The loader
// (config.hpp) is pure: it cannot know this machine's interfaces, and unit
// tests load configs naming interfaces that do not exist here. This step runs
// after it, in `ha-supervisor --check-config` and at daemon start-up.
//
// The checks themselves take the machine as plain lists, so they are tested
// without it; machine_ipv4_addresses() and interface_names() read the real one.
#include <string>
#include <vector>

#include "supervisor/config/config.hpp"

namespace hasup::config {

// One IPv4 address configured on an interface, as getifaddrs reports it.
struct InterfaceAddress {
  std::string interface;  // "eth0" (an address label "eth0:1" is reported as "eth0")
  std::string address;    // "198.18.0.11"
  int prefix = 32;        // netmask as a prefix length, 0..32
};

// Every IPv4 address of every interface of this machine, in getifaddrs order.
std::vector<InterfaceAddress> machine_ipv4_addresses();
// Every interface of this machine, with or without an address, in index order.
std::vector<std::string> interface_names();

// The floating IP's settings against a machine with these interfaces and
// addresses. Only when vip.address is set:
//   - vip.interface must exist;
//   - vip.address must lie inside the subnet of an IPv4 address of that
//     interface other than itself (the prefix written in vip.address does not
//     matter), and be neither that subnet's network nor broadcast address.
// The floating IP itself may be on the interface (this node holds it, e.g.
// after a crash: keepalived adds it as a secondary address), but only beside
// another address of its subnet; alone there it is the interface's own address.
// Each error reads "KEY: MESSAGE", like a loader error without file and line.
std::vector<std::string> check_vip_environment(const Config& config, const std::vector<std::string>& interfaces,
                                               const std::vector<InterfaceAddress>& addresses);

// check_vip_environment with this machine's interfaces and addresses.
std::vector<std::string> check_environment(const Config& config);

}  // namespace hasup::config
