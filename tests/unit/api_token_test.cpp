// The status API's write token (supervisor/util/api_token.hpp): what an
// Authorization header proves, and the root-only file hactl reads.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "supervisor/util/api_token.hpp"

namespace hasup {
namespace {

TEST(ApiToken, IsSixtyFourHexDigitsAndNewEveryTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    std::string t = new_write_token();
    ASSERT_EQ(t.size(), 64u);
    EXPECT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(ApiToken, OnlyTheExactBearerTokenProvesAnything) {
  const std::string token = new_write_token();
  EXPECT_EQ(check_authorization("Bearer " + token, token), Proof::ok);
  EXPECT_EQ(check_authorization("", token), Proof::missing);
  EXPECT_EQ(check_authorization(token, token), Proof::wrong) << "no scheme";
  EXPECT_EQ(check_authorization("Basic " + token, token), Proof::wrong);
  EXPECT_EQ(check_authorization("Bearer " + token + "0", token), Proof::wrong) << "longer";
  EXPECT_EQ(check_authorization("Bearer " + token.substr(1), token), Proof::wrong) << "shorter";
  std::string last = token;
  last.back() = last.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(check_authorization("Bearer " + last, token), Proof::wrong) << "the last digit differs";
  EXPECT_EQ(check_authorization("Bearer ", ""), Proof::wrong) << "no token made: nothing is accepted";
}

TEST(ApiToken, TheFileIsRootOnlyAndReadsBackWithoutItsNewline) {
  char dir_template[] = "/tmp/api-token-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/sub/api-token";
  const std::string token = new_write_token();
  ASSERT_EQ(install_write_token(path, token), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string error;
  EXPECT_EQ(read_write_token(path, error), token);
  EXPECT_EQ(error, "");
  EXPECT_EQ(read_write_token(dir + "/absent", error), "");
  EXPECT_NE(error.find("cannot read " + dir + "/absent"), std::string::npos) << error;
  EXPECT_NE(install_write_token(path, ""), "") << "no token, no file";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hasup
