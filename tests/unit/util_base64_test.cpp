// Base64 (supervisor/util/base64.hpp): Consul's KV values and the key bytes of
// the secrets file. Strict: a text that is not exactly base64 is an error,
// never a partly decoded value.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "supervisor/util/base64.hpp"

namespace hasup {
namespace {

// RFC 4648's test vectors, both ways.
TEST(Base64, KnownVectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(base64_encode(bytes), text);
    auto decoded = base64_decode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.error().message;
    EXPECT_EQ(decoded.value(), bytes);
  }
}

TEST(Base64, RoundTripOfEmptyAndBinaryBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (const std::string& bytes : {std::string{}, std::string("\0", 1), std::string("\0\xff\x80\x01", 4), all,
                                   std::string("{\"name\":\"n1\"}")}) {
    auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded.value(), bytes);
  }
}

TEST(Base64, RejectsInvalidTextAndSaysWhyWithoutQuotingIt) {
  for (const char* text : {"Zm9v\n", "Zm9-" /* URL-safe alphabet is not the standard one */, "Zm9"}) {
    auto r = base64_decode(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find("not base64"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("Zm9"), std::string::npos) << r.error().message;
  }
}

// Regression (was a bug): base64_decode only checked the alphabet and the
// length, then let Beast's decoder stop at the first '='. A padding character
// in the middle ("YQ==YWJj") is not base64, yet it decoded to "a" and the rest
// ("abc") was silently dropped.
TEST(Base64, PaddingInTheMiddleIsRejectedNotTruncated) {
  auto r = base64_decode("YQ==YWJj");
  EXPECT_FALSE(r.ok()) << "decoded to \"" << (r.ok() ? r.value() : "") << "\"";
  EXPECT_FALSE(base64_decode("YQ=a").ok());
  EXPECT_FALSE(base64_decode("Y===").ok());
}

}  // namespace
}  // namespace hasup
