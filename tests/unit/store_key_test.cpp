// The cluster's store key (supervisor/util/store_key.hpp): read from the
// secrets file whole or refused by name, never quoted in an error; the secret
// derived from it is the same for the same key and context, and another for any
// other.
#include <gtest/gtest.h>

#include <string>

#include "supervisor/util/base64.hpp"
#include "supervisor/util/store_key.hpp"
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

TEST(StoreKeyDerive, TheSameKeyAndContextGiveTheSameSecretAndNothingElseDoes) {
  auto key = key_from(kKeyText);
  const std::string secret = derive_secret(key, "db-login/3/abc");
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_EQ(secret, derive_secret(key_from(kKeyText), "db-login/3/abc"));  // another node, the same file
  EXPECT_NE(secret, derive_secret(key, "db-login/4/abc"));
  EXPECT_NE(secret, derive_secret(key, "db-login/3/abd"));
  EXPECT_NE(secret, derive_secret(key_from(kOtherKeyText), "db-login/3/abc"));
  // HMAC-SHA256 itself: the answer Python's hmac module gives for this key and context.
  EXPECT_EQ(base64_encode(secret), "+w8VP6w4MifKr4Pm73BVGwln+ic74XHivAESEQouvak=");
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
  EXPECT_EQ(derive_secret(key.value(), "db-login/3"), derive_secret(key_from(kKeyText), "db-login/3"));
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
