// Secrets through the store, sealed (supervisor/util/sealed_secret.hpp): what
// seal() writes opens with the same key and context only, every seal is new,
// and no error holds the key, the plaintext or the text it was given.
#include <gtest/gtest.h>

#include <string>

#include "supervisor/util/base64.hpp"
#include "supervisor/util/sealed_secret.hpp"
#include "tests/unit/temp_dir.hpp"

namespace hasup::secret {
namespace {

const std::string kKeyText = base64_encode(std::string(32, 'k'));
const std::string kOtherKeyText = base64_encode(std::string(32, 'o'));
const std::string kPassword = "New.password-0001_rotated";

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

StoreKey key_from(const std::string& text) {
  auto key = parse_store_key(text);
  if (!key) throw std::runtime_error(key.error().message);
  return key.value();
}

// An error, and one that shows none of the secrets.
template <class T>
::testing::AssertionResult refused(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected an error, got a value";
  const std::string& m = r.error().message;
  if (m.empty()) return ::testing::AssertionFailure() << "an error without a message";
  for (const std::string& secret : {kPassword, kKeyText, kOtherKeyText})
    if (m.find(secret) != std::string::npos) return ::testing::AssertionFailure() << "the error shows a secret: " << m;
  return ::testing::AssertionSuccess();
}

TEST(SealedSecret, RoundTripWithTheSameKeyAndContext) {
  auto key = key_from(kKeyText);
  std::string sealed = seal(key, kPassword, "db-login/3");
  ASSERT_EQ(sealed.rfind("v1:", 0), 0u) << sealed;
  EXPECT_FALSE(contains(sealed, kPassword));
  auto opened = open_sealed(key, sealed, "db-login/3");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened.value(), kPassword);
  // A copy of the key (each wipes its own bytes) opens it too; empty and binary texts survive.
  StoreKey copy = key;
  for (const std::string& text : {std::string{}, std::string("\0\xff\n", 3), std::string(5000, 'x')}) {
    auto again = open_sealed(copy, seal(key, text, ""), "");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again.value(), text);
  }
}

TEST(SealedSecret, TheSameTextSealsDifferentlyEachTime) {
  auto key = key_from(kKeyText);
  std::string first = seal(key, kPassword, "db-login/3");
  std::string second = seal(key, kPassword, "db-login/3");
  EXPECT_NE(first, second) << "the nonce is not new at every seal";
  // nonce (12) + text + tag (16), in base64 after "v1:"
  EXPECT_EQ(first.size(), 3 + base64_encode(std::string(12 + kPassword.size() + 16, ' ')).size());
}

TEST(SealedSecret, AnyChangedByteIsRefused) {
  auto key = key_from(kKeyText);
  std::string sealed = seal(key, kPassword, "db-login/3");
  auto raw = base64_decode(sealed.substr(3));
  ASSERT_TRUE(raw.ok());
  for (std::size_t i = 0; i < raw.value().size(); ++i) {  // nonce, ciphertext and tag alike
    std::string changed = raw.value();
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    auto opened = open_sealed(key, "v1:" + base64_encode(changed), "db-login/3");
    ASSERT_TRUE(refused(opened)) << "byte " << i;
    EXPECT_TRUE(contains(opened.error().message, "altered"));
  }
  // Cut short: not even a nonce and a tag.
  EXPECT_TRUE(refused(open_sealed(key, "v1:" + base64_encode(raw.value().substr(0, 27)), "db-login/3")));
}

TEST(SealedSecret, AnotherKeyIsRefused) {
  std::string sealed = seal(key_from(kKeyText), kPassword, "db-login/3");
  auto opened = open_sealed(key_from(kOtherKeyText), sealed, "db-login/3");
  ASSERT_TRUE(refused(opened));
  EXPECT_TRUE(contains(opened.error().message, "another key"));
}

TEST(SealedSecret, AnotherContextIsRefused) {
  auto key = key_from(kKeyText);
  std::string sealed = seal(key, kPassword, "db-login/3");
  for (const char* other : {"db-login/4", "broker-login/3", ""}) {
    auto opened = open_sealed(key, sealed, other);
    ASSERT_TRUE(refused(opened)) << other;
    EXPECT_TRUE(contains(opened.error().message, "another purpose"));
  }
}

TEST(SealedSecret, TextThatIsNotASealedValueIsRefused) {
  auto key = key_from(kKeyText);
  for (const std::string& text : {std::string{}, kPassword, "v2:" + base64_encode(std::string(40, 'x')),
                                  std::string("v1:not base64!"), std::string("v1:")}) {
    auto opened = open_sealed(key, text, "db-login/3");
    ASSERT_TRUE(refused(opened)) << text;
    EXPECT_TRUE(contains(opened.error().message, "not a sealed value"));
  }
}

TEST(StoreKeyText, ExactlyThirtyTwoBytesOfBase64) {
  EXPECT_TRUE(parse_store_key(kKeyText).ok());
  auto short_key = parse_store_key(base64_encode(std::string(16, 'k')));
  ASSERT_TRUE(refused(short_key));
  EXPECT_TRUE(contains(short_key.error().message, "16 bytes, not 32"));
  EXPECT_TRUE(refused(parse_store_key(base64_encode(std::string(33, 'k')))));
  EXPECT_TRUE(refused(parse_store_key("")));
  const std::string not_base64 = "this-is-not_base64-at-all-but-44-characters!";
  auto bad = parse_store_key(not_base64);
  ASSERT_TRUE(refused(bad));
  EXPECT_TRUE(contains(bad.error().message, "not base64"));
  EXPECT_FALSE(contains(bad.error().message, not_base64)) << "the error quotes the key's text";
  EXPECT_TRUE(refused(parse_store_key(kKeyText + "\n")));
}

TEST(StoreKeyFile, ReadFromTheSecretsFile) {
  test::TempDir dir;
  std::string path = dir.write("db-secrets", "# Secrets of one manager cluster\nsuperuser=Su.per-user_secret~0001\n"
                                             "store_key=" + kKeyText + "\r\nconsul_gossip=abc=\n");
  auto key = read_store_key(path);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto opened = open_sealed(key.value(), seal(key_from(kKeyText), kPassword, "db-login/3"), "db-login/3");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened.value(), kPassword);
}

TEST(StoreKeyFile, AMissingKeyNamesTheFileAndHowToAddIt) {
  test::TempDir dir;
  std::string path = dir.write("db-secrets", "superuser=Su.per-user_secret~0001\n#store_key=" + kKeyText + "\n");
  auto key = read_store_key(path);
  ASSERT_TRUE(refused(key));
  EXPECT_TRUE(contains(key.error().message, path));
  EXPECT_TRUE(contains(key.error().message, "components/patroni/generate-secrets --add-missing " + path));
  EXPECT_TRUE(contains(key.error().message, "every node"));
}

TEST(StoreKeyFile, ABadOrTwiceGivenKeyAndAMissingFileAreRefusedByName) {
  test::TempDir dir;
  std::string bad = dir.write("bad", "store_key=" + base64_encode(std::string(31, 'k')) + "\n");
  auto short_key = read_store_key(bad);
  ASSERT_TRUE(refused(short_key));
  EXPECT_TRUE(contains(short_key.error().message, bad + ": line 1"));
  std::string twice = dir.write("twice", "store_key=" + kKeyText + "\nstore_key=" + kOtherKeyText + "\n");
  auto two = read_store_key(twice);
  ASSERT_TRUE(refused(two));
  EXPECT_TRUE(contains(two.error().message, "line 2"));
  auto missing = read_store_key(dir.path() + "/none");
  ASSERT_TRUE(refused(missing));
  EXPECT_TRUE(contains(missing.error().message, dir.path() + "/none"));
}

}  // namespace
}  // namespace hasup::secret
