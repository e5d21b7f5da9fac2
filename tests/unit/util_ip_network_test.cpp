// address_in_network (supervisor/util/ip_network.hpp): which node addresses
// pg_hba may admit under db.peer_network.
#include <gtest/gtest.h>

#include "supervisor/util/ip_network.hpp"

namespace hasup {
namespace {

TEST(AddressInNetwork, InsideOutsideAndWhatDoesNotParse) {
  EXPECT_TRUE(address_in_network("198.18.0.11", "198.18.0.0/24"));
  EXPECT_TRUE(address_in_network("198.18.0.11", "198.18.0.11/32"));
  EXPECT_TRUE(address_in_network("198.18.0.11", "198.18.0.99/24")) << "host bits in the network are ignored";
  EXPECT_TRUE(address_in_network("198.18.0.11", "0.0.0.0/0"));
  EXPECT_FALSE(address_in_network("198.18.1.11", "198.18.0.0/24"));
  EXPECT_FALSE(address_in_network("198.18.0.12", "198.18.0.11/32"));
  EXPECT_TRUE(address_in_network("2001:db8::5", "2001:db8::/64"));
  EXPECT_FALSE(address_in_network("2001:db9::5", "2001:db8::/64"));
  EXPECT_FALSE(address_in_network("198.18.0.11", "2001:db8::/64")) << "families never mix";
  for (const char* bad : {"", "n1", "198.18.0.300", "198.18.0.11/32", "198.18.0.11\n"})
    EXPECT_FALSE(address_in_network(bad, "198.18.0.0/24")) << bad;
  for (const char* bad : {"", "198.18.0.0", "198.18.0.0/33", "anywhere"})
    EXPECT_FALSE(address_in_network("198.18.0.11", bad)) << bad;
}

}  // namespace
}  // namespace hasup
