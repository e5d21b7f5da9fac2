// The upload gate's word on its durability rule (supervisor/loop/gate_durability):
// one known word is taken, anything else is reported and never taken.
#include <gtest/gtest.h>

#include <fstream>

#include "supervisor/loop/gate_durability.hpp"
#include "tests/unit/temp_dir.hpp"

namespace hasup::loop {
namespace {

TEST(GateDurabilityTest, TakesOneKnownWordWithOrWithoutItsNewline) {
  EXPECT_EQ(parse_gate_durability("strict\n").rule, "strict");
  EXPECT_EQ(parse_gate_durability("available").rule, "available");
  for (const char* text : {"", "\n", "Strict\n", "strict\nstrict\n", " available", "available\n\n"}) {
    const auto parsed = parse_gate_durability(text);
    EXPECT_EQ(parsed.rule, "") << text;
    EXPECT_NE(parsed.error.find("not strict or available"), std::string::npos) << parsed.error;
  }
  EXPECT_EQ(parse_gate_durability("\x1b[2Jstrict").error, "it says \"\\x1b[2Jstrict\", not strict or available")
      << "a terminal never acts on what the file holds";
}

TEST(GateDurabilityTest, ReadsTheFileOrSaysWhyNot) {
  test::TempDir dir;
  const std::string path = dir.path() + "/durability";
  auto absent = read_gate_durability(path);
  EXPECT_EQ(absent.rule, "");
  EXPECT_EQ(absent.error, path + ": No such file or directory");
  std::ofstream(path) << "available\n";
  EXPECT_EQ(read_gate_durability(path).rule, "available");
  std::ofstream(path) << "maybe\n";
  EXPECT_EQ(read_gate_durability(path).error, path + ": it says \"maybe\", not strict or available");
}

}  // namespace
}  // namespace hasup::loop
