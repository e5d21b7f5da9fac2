// The node-name rule, defined once (supervisor/util/node_name.hpp) for the
// config schema, POST /maintenance and the renderers. The schema's function
// and the status API's regex said the same; patroni's renderer let uppercase
// through, which the schema never allowed in node.name: it now uses the rule.
#include <gtest/gtest.h>

#include <string>

#include "supervisor/util/node_name.hpp"

namespace hasup {
namespace {

TEST(NodeName, TheRule) {
  for (const char* ok : {"n1", "1", "a-b", "node-10", "0abc"}) EXPECT_TRUE(is_node_name(ok)) << ok;
  EXPECT_TRUE(is_node_name(std::string(63, 'a')));
  EXPECT_FALSE(is_node_name(std::string(64, 'a')));
  for (const char* bad : {"", "-n1", "N1", "n_1", "n.1", "n 1", "n1\n", "n/1"}) EXPECT_FALSE(is_node_name(bad)) << bad;
  EXPECT_EQ(kNodeNameFormat, "[a-z0-9][a-z0-9-]{0,62}");
}

TEST(NodeName, SaysWhy) {
  EXPECT_EQ(node_name_problem(""), "must not be empty");
  EXPECT_EQ(node_name_problem(std::string(64, 'a')), "must be at most 63 characters");
  EXPECT_EQ(node_name_problem("-a"), "must start with a lowercase letter or digit");
  EXPECT_EQ(node_name_problem("aB"), "may contain only a-z, 0-9 and '-'");
  EXPECT_EQ(node_name_problem("a-b"), "");
}

}  // namespace
}  // namespace hasup
