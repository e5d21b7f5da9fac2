// The floating IP's settings against a machine: its interface exists and the
// floating IP is a free address of that interface's subnet. The machine is
// given as lists; one test reads the real one (its loopback).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "supervisor/config/config.hpp"
#include "supervisor/config/environment.hpp"

namespace hasup::config {
namespace {

const std::vector<std::string> kInterfaces = {"lo", "eth0"};

// A config as the loader gives it, with `vip: { body };`. The loader itself
// accepts interfaces this machine does not have: the machine is checked later.
Config load_vip(const std::string& body) {
  auto result = load_string("node: { name = \"n1\"; address = \"198.18.0.11\"; };\nvip: { " + body + " };\n",
                            "test.conf");
  std::string errors;
  for (const auto& error : result.errors) errors += error.to_string() + "\n";
  EXPECT_TRUE(result.errors.empty()) << errors;
  return result.config.value_or(Config{});
}

Config vip(const std::string& address, const std::string& interface = "eth0") {
  return load_vip("address = \"" + address + "\"; interface = \"" + interface + "\";");
}

std::vector<std::string> check(const Config& config, const std::vector<InterfaceAddress>& addresses,
                               const std::vector<std::string>& interfaces = kInterfaces) {
  return check_vip_environment(config, interfaces, addresses);
}

const InterfaceAddress kLo{"lo", "127.0.0.1", 8};
const InterfaceAddress kEth0{"eth0", "198.18.0.11", 24};

using Errors = std::vector<std::string>;

TEST(Environment, NoFloatingIpNoChecks) {
  const auto config = load_vip("interface = \"eth9\";");  // named, but no address: unused
  EXPECT_EQ(check(config, {}, {}), Errors{});
  EXPECT_EQ(check_environment(config), Errors{});
}

TEST(Environment, LoaderAcceptsAnInterfaceThisMachineLacks) {
  const auto config = vip("198.18.0.100/24", "eth9");
  EXPECT_EQ(config.vip.interface, "eth9");
}

TEST(Environment, FreeAddressOfTheSubnetPasses) {
  EXPECT_EQ(check(vip("198.18.0.100/24"), {kLo, kEth0}), Errors{});
}

TEST(Environment, InterfaceMissing) {
  EXPECT_EQ(check(vip("198.18.0.100/24", "eth9"), {kLo, kEth0}),
            Errors{"vip.interface: no interface \"eth9\" on this machine (it has: lo, eth0)"});
  EXPECT_EQ(check(vip("198.18.0.100/24", "eth9"), {}, {}),
            Errors{"vip.interface: no interface \"eth9\" on this machine (it has: none)"});
}

TEST(Environment, OutsideTheSubnet) {
  EXPECT_EQ(check(vip("198.51.100.5/24"), {kLo, kEth0}),
            Errors{"vip.address: 198.51.100.5 is outside eth0's subnet(s) 198.18.0.0/24: peers and clients on that "
                   "link could not reach it"});
}

TEST(Environment, EverySubnetOfTheInterfaceIsListedOnce) {
  const std::vector<InterfaceAddress> addresses = {
      kEth0, {"eth0", "198.18.0.12", 24}, {"eth0", "203.0.113.7", 28}, {"eth0", "203.0.113.200", 32}};
  EXPECT_EQ(check(vip("198.51.100.5/8"), addresses),
            Errors{"vip.address: 198.51.100.5 is outside eth0's subnet(s) 198.18.0.0/24, 203.0.113.0/28, 203.0.113.200/32: "
                   "peers and clients on that link could not reach it"});
  // A second address of another subnet on the same interface makes it reachable.
  EXPECT_EQ(check(vip("203.0.113.9/28"), addresses), Errors{});
}

TEST(Environment, AnotherInterfacesSubnetDoesNotCount) {
  const std::vector<InterfaceAddress> addresses = {{"eth0", "198.51.100.1", 24}, {"eth1", "198.18.0.11", 24}};
  EXPECT_EQ(check(vip("198.18.0.100/24"), addresses, {"lo", "eth0", "eth1"}),
            Errors{"vip.address: 198.18.0.100 is outside eth0's subnet(s) 198.51.100.0/24: peers and clients on that "
                   "link could not reach it"});
}

TEST(Environment, OwnAddressOfTheInterface) {
  EXPECT_EQ(check(vip("198.18.0.11/24"), {kLo, kEth0}),
            Errors{"vip.address: 198.18.0.11 is eth0's own address; the floating IP must be a free address of that "
                   "subnet"});
}

TEST(Environment, HeldAsASecondaryAddressPasses) {
  // This node holds the floating IP (e.g. a restart after a crash): keepalived
  // added it beside eth0's primary address, with vip.address's prefix.
  EXPECT_EQ(check(vip("198.18.0.100/24"), {kLo, kEth0, {"eth0", "198.18.0.100", 24}}), Errors{});
  EXPECT_EQ(check(vip("198.18.0.100/32"), {kLo, {"eth0", "198.18.0.100", 32}, kEth0}), Errors{});
}

TEST(Environment, HeldWithoutAnotherAddressOfItsSubnetIsTheOwnAddress) {
  const Errors own{"vip.address: 198.18.0.100 is eth0's own address; the floating IP must be a free address of "
                   "that subnet"};
  EXPECT_EQ(check(vip("198.18.0.100/24"), {kLo, {"eth0", "198.18.0.100", 24}}), own);
  EXPECT_EQ(check(vip("198.18.0.100/24"), {kLo, {"eth0", "198.18.0.100", 24}, {"eth0", "198.51.100.1", 24}}), own);
}

TEST(Environment, Slash32InterfaceAddressHasNoRoomForTheFloatingIp) {
  EXPECT_EQ(check(vip("198.18.0.100/24"), {kLo, {"eth0", "198.18.0.11", 32}}),
            Errors{"vip.address: 198.18.0.100 is outside eth0's subnet(s) 198.18.0.11/32: peers and clients on "
                   "that link could not reach it"});
}

TEST(Environment, PrefixOfTheFloatingIpNeedNotMatchTheInterfaces) {
  EXPECT_EQ(check(vip("198.18.0.100/32"), {kEth0}), Errors{});
  EXPECT_EQ(check(vip("198.18.0.100/16"), {kEth0}), Errors{});
  // Only the interface's own prefix says what is on the link.
  EXPECT_EQ(check(vip("198.18.1.100/16"), {kEth0}),
            Errors{"vip.address: 198.18.1.100 is outside eth0's subnet(s) 198.18.0.0/24: peers and clients on "
                   "that link could not reach it"});
}

TEST(Environment, InterfaceWithoutIpv4Address) {
  EXPECT_EQ(check(vip("198.18.0.100/24"), {kLo}),
            Errors{"vip.address: eth0 has no IPv4 address, so 198.18.0.100 lies in no subnet of it: peers and "
                   "clients on that link could not reach it"});
}

TEST(Environment, NetworkAndBroadcastAddressesAreNotFree) {
  EXPECT_EQ(check(vip("198.18.0.0/24"), {kEth0}),
            Errors{"vip.address: 198.18.0.0 is the network address of eth0's subnet 198.18.0.0/24; the floating IP "
                   "must be a free address of that subnet"});
  EXPECT_EQ(check(vip("198.18.0.255/24"), {kEth0}),
            Errors{"vip.address: 198.18.0.255 is the broadcast address of eth0's subnet 198.18.0.0/24; the "
                   "floating IP must be a free address of that subnet"});
  // A /31 point-to-point link has neither (RFC 3021).
  EXPECT_EQ(check(vip("198.18.0.11/31"), {{"eth0", "198.18.0.10", 31}}), Errors{});
}

// ---- the real machine: its loopback ------------------------------------------

TEST(EnvironmentMachine, ReadsTheLoopback) {
  const auto names = interface_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "lo"), names.end());
  const auto addresses = machine_ipv4_addresses();
  const bool has_lo = std::any_of(addresses.begin(), addresses.end(), [](const InterfaceAddress& a) {
    return a.interface == "lo" && a.address == "127.0.0.1" && a.prefix == 8;
  });
  EXPECT_TRUE(has_lo);
}

TEST(EnvironmentMachine, LoopbackSubnetPassesAndAnotherFails) {
  EXPECT_EQ(check_environment(vip("127.0.0.77/8", "lo")), Errors{});
  const auto errors = check_environment(vip("198.18.0.100/24", "lo"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("vip.address: 198.18.0.100 is outside lo's subnet(s) 127.0.0.0/8", 0), 0u) << errors[0];
}

}  // namespace
}  // namespace hasup::config
