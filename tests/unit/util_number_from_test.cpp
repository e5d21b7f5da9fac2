// number_from and port_number (supervisor/util/number_from.hpp): the whole
// text or nothing, in range for the type.
#include <gtest/gtest.h>

#include <cstdint>

#include "supervisor/util/number_from.hpp"

namespace hasup {
namespace {

TEST(NumberFrom, TakesTheWholeTextOrNothing) {
  EXPECT_EQ(number_from<std::uint64_t>("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_EQ(number_from<std::uint64_t>("0"), 0u);
  EXPECT_EQ(number_from<std::uint64_t>(""), std::nullopt);
  EXPECT_EQ(number_from<std::uint64_t>("18446744073709551616"), std::nullopt) << "out of range";
  EXPECT_EQ(number_from<std::uint64_t>("-1"), std::nullopt) << "no sign where the type has none";
  EXPECT_EQ(number_from<std::uint64_t>("+1"), std::nullopt);
  EXPECT_EQ(number_from<std::uint64_t>(" 1"), std::nullopt);
  EXPECT_EQ(number_from<std::uint64_t>("1 "), std::nullopt);
  EXPECT_EQ(number_from<std::uint64_t>("12ab"), std::nullopt);
  EXPECT_EQ(number_from<long>("-5"), -5);
  EXPECT_EQ(number_from<std::uint32_t>("0000000A", 16), 10u);
  EXPECT_EQ(number_from<std::uint32_t>("G", 16), std::nullopt);
  EXPECT_EQ(number_from<double>("2.5"), 2.5);
  EXPECT_EQ(number_from<double>("2.5x"), std::nullopt);
}

TEST(PortNumber, IsAPlainDecimalFromOneTo65535) {
  EXPECT_EQ(port_number("5432"), 5432);
  EXPECT_EQ(port_number("1"), 1);
  EXPECT_EQ(port_number("65535"), 65535);
  EXPECT_EQ(port_number("0"), std::nullopt);
  EXPECT_EQ(port_number("65536"), std::nullopt);
  EXPECT_EQ(port_number("-80"), std::nullopt);
  EXPECT_EQ(port_number(""), std::nullopt);
  EXPECT_EQ(port_number("80a"), std::nullopt);
}

}  // namespace
}  // namespace hasup
