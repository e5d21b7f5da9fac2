#include "supervisor/config/environment.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <iterator>
#include <optional>
#include <system_error>

#include "supervisor/config/schema.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::config {

namespace {

// An IPv4 address in host byte order.
std::optional<std::uint32_t> parse_ipv4(const std::string& text) {
  in_addr parsed{};
  if (inet_pton(AF_INET, text.c_str(), &parsed) != 1) return std::nullopt;
  return ntohl(parsed.s_addr);
}

std::string ipv4_text(std::uint32_t address) {
  in_addr raw{};
  raw.s_addr = htonl(address);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &raw, text, sizeof text);
  return text;
}

std::uint32_t netmask(int prefix) {
  prefix = std::clamp(prefix, 0, 32);
  return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}

struct Subnet {
  std::uint32_t address = 0;  // the interface's address, not the network
  int prefix = 32;

  std::uint32_t network() const { return address & netmask(prefix); }
  std::uint32_t broadcast() const { return network() | ~netmask(prefix); }
  bool contains(std::uint32_t ip) const { return (ip & netmask(prefix)) == network(); }
  // /31 (RFC 3021) and /32 have no network or broadcast address to avoid.
  bool is_reserved(std::uint32_t ip) const { return prefix <= 30 && (ip == network() || ip == broadcast()); }
  std::string text() const { return ipv4_text(network()) + "/" + std::to_string(prefix); }
};

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

std::vector<InterfaceAddress> machine_ipv4_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw std::system_error(errno, std::generic_category(), "getifaddrs");
  std::vector<InterfaceAddress> addresses;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET || entry->ifa_name == nullptr) continue;
    InterfaceAddress address;
    // An address with a label ("eth0:1") belongs to eth0; names cannot hold ':'.
    address.interface = entry->ifa_name;
    address.interface = address.interface.substr(0, address.interface.find(':'));
    const auto& ip = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr;
    address.address = ipv4_text(ntohl(ip.s_addr));
    if (entry->ifa_netmask != nullptr && entry->ifa_netmask->sa_family == AF_INET) {
      const auto mask = ntohl(reinterpret_cast<const sockaddr_in*>(entry->ifa_netmask)->sin_addr.s_addr);
      address.prefix = std::popcount(mask);
    }
    addresses.push_back(std::move(address));
  }
  freeifaddrs(list);
  return addresses;
}

std::vector<std::string> interface_names() {
  struct if_nameindex* list = if_nameindex();
  if (list == nullptr) throw std::system_error(errno, std::generic_category(), "if_nameindex");
  std::vector<std::string> names;
  for (const struct if_nameindex* entry = list; entry->if_index != 0 && entry->if_name != nullptr; ++entry)
    names.emplace_back(entry->if_name);
  if_freenameindex(list);
  return names;
}

std::vector<std::string> check_vip_environment(const Config& config, const std::vector<std::string>& interfaces,
                                               const std::vector<InterfaceAddress>& addresses) {
  const auto& vip = config.vip;
  if (!vip.enabled()) return {};
  const std::string vip_text = vip.address.substr(0, vip.address.find('/'));
  const auto vip_ip = parse_ipv4(vip_text);
  if (!vip_ip) return {"vip.address: " + quoted_printable(vip.address, kWholeValue) + " is not an IPv4 address with a prefix length"};

  const std::string& name = vip.interface;
  if (std::find(interfaces.begin(), interfaces.end(), name) == interfaces.end()) {
    return {"vip.interface: no interface " + quoted_printable(name, kWholeValue) + " on this machine (it has: " +
            (interfaces.empty() ? std::string("none") : join(interfaces)) + ")"};
  }

  // The interface's addresses other than the floating IP itself: that one is
  // there when this node holds it, and says nothing about the subnet.
  bool held = false;
  std::vector<Subnet> others;
  for (const auto& entry : addresses) {
    if (entry.interface != name) continue;
    const auto ip = parse_ipv4(entry.address);
    if (!ip) continue;
    if (*ip == *vip_ip) {
      held = true;
    } else {
      others.push_back({*ip, std::clamp(entry.prefix, 0, 32)});
    }
  }

  std::vector<Subnet> containing;
  std::copy_if(others.begin(), others.end(), std::back_inserter(containing),
               [&](const Subnet& s) { return s.contains(*vip_ip); });
  if (!containing.empty()) {
    const bool usable = std::any_of(containing.begin(), containing.end(),
                                    [&](const Subnet& s) { return !s.is_reserved(*vip_ip); });
    if (usable) return {};
    const auto& subnet = containing.front();
    return {"vip.address: " + vip_text + " is the " + (*vip_ip == subnet.network() ? "network" : "broadcast") +
            " address of " + name + "'s subnet " + subnet.text() +
            "; the floating IP must be a free address of that subnet"};
  }
  if (held) {
    // On the interface with no other address of its subnet beside it: this is
    // the address the machine itself is reached at, not a free one.
    return {"vip.address: " + vip_text + " is " + name + "'s own address; the floating IP must be a free address of "
            "that subnet"};
  }
  if (others.empty()) {
    return {"vip.address: " + name + " has no IPv4 address, so " + vip_text +
            " lies in no subnet of it: peers and clients on that link could not reach it"};
  }
  std::vector<std::string> subnets;
  for (const auto& subnet : others)
    if (std::find(subnets.begin(), subnets.end(), subnet.text()) == subnets.end()) subnets.push_back(subnet.text());
  return {"vip.address: " + vip_text + " is outside " + name + "'s subnet(s) " + join(subnets) +
          ": peers and clients on that link could not reach it"};
}

std::vector<std::string> check_environment(const Config& config) {
  if (!config.vip.enabled()) return {};
  try {
    return check_vip_environment(config, interface_names(), machine_ipv4_addresses());
  } catch (const std::system_error& e) {
    return {"vip.interface: cannot read this machine's interfaces: " + std::string(e.what())};
  }
}

}  // namespace hasup::config
