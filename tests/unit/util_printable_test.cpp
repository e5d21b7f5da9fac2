// The one log-safe quoting (quoted_printable) and the one rule for a bare word
// in a rendered config file (is_config_token).
#include <gtest/gtest.h>

#include <string>

#include "supervisor/util/config_template.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup {
namespace {

TEST(QuotedPrintable, QuotesEscapesAndCuts) {
  EXPECT_EQ(quoted_printable("n1"), "\"n1\"");
  EXPECT_EQ(quoted_printable("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted_printable("a\nb\x1b[31m\x7f"), "\"a\\x0ab\\x1b[31m\\x7f\"");
  EXPECT_EQ(quoted_printable(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
  EXPECT_EQ(quoted_printable("abcdef", 3), "\"abc...\"");
}

// The config loader's former copy let bytes >= 0x80 through and never cut.
// Kept: non-ASCII is escaped (a right-to-left override or a lone C1 byte
// cannot change how an error reads), and the config shows whole values.
TEST(QuotedPrintable, NonAsciiIsEscapedAndTheWholeValueCanBeShown) {
  EXPECT_EQ(quoted_printable("caf\xc3\xa9"), "\"caf\\xc3\\xa9\"");
  EXPECT_EQ(quoted_printable("x\xe2\x80\xaey"), "\"x\\xe2\\x80\\xaey\"");
  const std::string long_path = "/" + std::string(200, 'p');
  EXPECT_EQ(quoted_printable(long_path, kWholeValue), "\"" + long_path + "\"");
}

// keepalived's and nginx's renderers each had this rule; one now.
TEST(ConfigToken, OneBareWordOfAConfigFile) {
  for (const char* ok : {"n1", "198.18.0.11", "fe80::1", "/run/ha/track", "eth0.100", "a_b-c@d+e"})
    EXPECT_TRUE(is_config_token(ok)) << ok;
  for (const char* bad : {"", "a b", "a;b", "a{", "a}", "\"a\"", "a#b", "$host", "a\nb", "a\tb", "caf\xc3\xa9"})
    EXPECT_FALSE(is_config_token(bad)) << bad;
}

}  // namespace
}  // namespace hasup

namespace hasup {
namespace {

TEST(TerminalSafe, ControlCharactersBecomeQuestionMarksAndUtf8Stays) {
  EXPECT_EQ(terminal_safe("n1"), "n1");
  EXPECT_EQ(terminal_safe("a\x1b[31mb\x7f\n"), "a?[31mb??");
  EXPECT_EQ(terminal_safe("c\xc2\x9b" "d\xc2\x80"), "c?d?");                // C1 controls, UTF-8 encoded
  EXPECT_EQ(terminal_safe("caf\xc3\xa9 \xc2\xa0x"), "caf\xc3\xa9 \xc2\xa0x");  // é and NBSP are not controls
  EXPECT_EQ(terminal_safe("end\xc2"), "end\xc2");                            // a cut sequence: no read past the end
}

TEST(JsonText, BytesThatAreNotUtf8BecomeTheReplacementCharacter) {
  nlohmann::json doc{{"name", std::string("caf\xe9")}};
  EXPECT_EQ(json_text(doc), "{\"name\":\"caf\xef\xbf\xbd\"}");
  EXPECT_EQ(json_text(nlohmann::json{{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}

}  // namespace
}  // namespace hasup
