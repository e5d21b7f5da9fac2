// libpq host lists split into one attempt per host
// (components/postgres/host_list.hpp; the race between them is tested against a
// real server in tests/integration/rest_service_test.cpp).
#include <gtest/gtest.h>

#include "components/postgres/host_list.hpp"

namespace hasup::db {
namespace {

TEST(SplitHosts, OneAttemptPerHostWithTheOtherKeywordsAndNoSecretInErrors) {
  std::string error;
  auto attempts = split_hosts("host=a,b port=5432,5433 dbname=m password=secret target_session_attrs=read-write", error);
  ASSERT_EQ(attempts.size(), 2u) << error;
  EXPECT_EQ(attempts[0].label, "a:5432");
  EXPECT_EQ(attempts[1].label, "b:5433");
  auto refused = split_hosts("host=a,b port=1,2,3 password=secret", error);
  EXPECT_TRUE(refused.empty());
  EXPECT_EQ(error.find("secret"), std::string::npos) << error;
}

}  // namespace
}  // namespace hasup::db
