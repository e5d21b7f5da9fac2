// libpq host lists: split into one attempt per host, and the order they are
// tried in (components/postgres/host_list.hpp).
#include <gtest/gtest.h>

#include "components/postgres/host_list.hpp"

namespace hasup::db {
namespace {

using Order = std::vector<std::size_t>;

TEST(ConnectOrder, StartsWithTheHostThatAnsweredLastAndWraps) {
  EXPECT_EQ(connect_order(3, 0, {}), (Order{0, 1, 2}));
  EXPECT_EQ(connect_order(3, 2, {}), (Order{2, 0, 1}));
  EXPECT_EQ(connect_order(1, 0, {}), (Order{0}));
  EXPECT_EQ(connect_order(0, 0, {}), (Order{}));
}

TEST(ConnectOrder, ASilentHostIsTriedLastEvenWhenItAnsweredLast) {
  // The primary crashed: it was the host that answered, now it is silent.
  EXPECT_EQ(connect_order(3, 0, {true, false, false}), (Order{1, 2, 0}));
  EXPECT_EQ(connect_order(3, 1, {false, true, false}), (Order{2, 0, 1}));
  // Two silent: both after the one left, in the rotation's order.
  EXPECT_EQ(connect_order(3, 1, {true, true, false}), (Order{2, 1, 0}));
  // Every host silent: all are still tried.
  EXPECT_EQ(connect_order(3, 2, {true, true, true}), (Order{2, 0, 1}));
  // A shorter mark list leaves the hosts beyond it unmarked.
  EXPECT_EQ(connect_order(4, 0, {true}), (Order{1, 2, 3, 0}));
}

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
