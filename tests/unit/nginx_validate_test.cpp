// Consul's passing instances -> upstream servers: only plain addresses, ports
// and names get through.
#include <gtest/gtest.h>

#include "components/nginx/validate.hpp"

namespace hasup::nginx {
namespace {

consul::ServiceInstance instance(const std::string& id, const std::string& address, int port = 8100) {
  consul::ServiceInstance i;
  i.node = "n1";
  i.node_address = "198.18.0.11";
  i.service_id = id;
  i.service = "rest-service";
  i.address = address;
  i.port = port;
  i.tags = {"v3.1", "role=manager"};
  i.status = "passing";
  return i;
}

// The instance is rejected, absent from the set, and its reason says `part`.
void expect_rejected(const consul::ServiceInstance& bad, const std::string& part) {
  auto v = validate_instances("rest-service", {instance("good", "198.18.0.12"), bad});
  ASSERT_EQ(v.set.servers.size(), 1u);
  EXPECT_EQ(v.set.servers[0].service_id, "good");
  ASSERT_EQ(v.rejected.size(), 1u);
  EXPECT_NE(v.rejected[0].reason.find(part), std::string::npos) << v.rejected[0].reason;
  for (const auto* field : {&v.rejected[0].reason, &v.rejected[0].node, &v.rejected[0].service_id})
    EXPECT_EQ(field->find_first_of("\n\r"), std::string::npos) << *field;
}

TEST(NginxValidate, AcceptsPlainInstances) {
  auto v = validate_instances("rest-service", {instance("rest-n1", "198.18.0.11"), instance("rest-n2", "rest.n2.lab")});
  EXPECT_TRUE(v.rejected.empty());
  EXPECT_EQ(v.set.name, "rest-service");
  EXPECT_EQ(v.set.key, "rest_service");
  ASSERT_EQ(v.set.servers.size(), 2u);
  EXPECT_EQ(v.set.servers[0], (UpstreamServer{"198.18.0.11", 8100, "n1", "rest-n1"}));
}

TEST(NginxValidate, RejectsAnAddressThatCarriesADirective) {
  expect_rejected(instance("evil", "1.2.3.4; include /etc/shadow"),
                  "address \"1.2.3.4; include /etc/shadow\" is not an IP address or host name");
}

TEST(NginxValidate, RejectsBadHostNames) {
  for (const std::string& address : std::vector<std::string>{"-a.example", "a-.example", "a..b", "a.b.", std::string(64, 'a'), "1.2.3.999",
                              "a b", "a_b.example", "[::1]"})
    expect_rejected(instance("bad", address), "address");
  auto long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                   std::string(62, 'd');  // 254
  expect_rejected(instance("bad", long_name), "address");
  EXPECT_TRUE(validate_instances("rest-service", {instance("ok", long_name.substr(1))}).rejected.empty());
}

TEST(NginxValidate, ANewlineInANodeNameCannotForgeALogLine) {
  auto bad = instance("bad", "198.18.0.13");
  bad.node = "n3\nlevel=info msg=\"all good\"";
  expect_rejected(bad, "node name \"n3\\x0alevel=info msg=\\\"all good\\\"\"");
}

TEST(NginxValidate, LongValuesAreCutInTheReason) {
  auto bad = instance("bad", std::string(300, 'x') + ";");
  auto v = validate_instances("rest-service", {bad});
  ASSERT_EQ(v.rejected.size(), 1u);
  EXPECT_LT(v.rejected[0].reason.size(), 150u);
  EXPECT_NE(v.rejected[0].reason.find("...\""), std::string::npos);
}

TEST(NginxValidate, PortOutOfRange) {
  expect_rejected(instance("zero", "198.18.0.13", 0), "port 0 is not 1..65535");
  expect_rejected(instance("big", "198.18.0.13", 70000), "port 70000");
}

TEST(NginxValidate, BadServiceIdAndTag) {
  expect_rejected(instance("id with space", "198.18.0.13"), "service id");
  auto tagged = instance("tagged", "198.18.0.13");
  tagged.tags.push_back("x}\nserver evil:80");
  expect_rejected(tagged, "tag \"x}\\x0aserver evil:80\"");
}

TEST(NginxValidate, NotPassingIsRejectedWithItsStatus) {
  auto critical = instance("down", "198.18.0.13");
  critical.status = "critical";
  expect_rejected(critical, "not passing (critical)");
}

TEST(NginxValidate, TheFallbackSetTakesOnlyInstancesFailingOnLiveNodes) {
  auto failing = instance("failing", "198.18.0.11");
  failing.status = "critical";
  auto dead_node = instance("dead-node", "198.18.0.12");
  dead_node.status = "critical";
  dead_node.node_alive = false;
  auto passing = instance("passing", "198.18.0.13");
  auto v = validate_instances("rest-service", {failing, dead_node, passing}, Accept::failing_on_live_node);
  ASSERT_EQ(v.set.servers.size(), 1u);
  EXPECT_EQ(v.set.servers[0].service_id, "failing");
  ASSERT_EQ(v.rejected.size(), 2u);
  // The usual checks still hold: a bad address is refused in the fallback too.
  auto evil = instance("evil", "1.2.3.4; include /etc/shadow");
  evil.status = "critical";
  EXPECT_TRUE(validate_instances("rest-service", {evil}, Accept::failing_on_live_node).set.servers.empty());
}

TEST(NginxValidate, EmptyServiceAddressMeansTheNodeAddress) {
  auto v = validate_instances("rest-service", {instance("rest-n1", "")});
  ASSERT_EQ(v.set.servers.size(), 1u);
  EXPECT_EQ(v.set.servers[0].address, "198.18.0.11");
  auto bad_node = instance("rest-n1", "");
  bad_node.node_address = "198.18.0.11 backup";
  expect_rejected(bad_node, "address");
}

TEST(NginxValidate, AcceptsIpv6WithoutBrackets) {
  auto v = validate_instances("rest-service", {instance("v6", "fd00::11")});
  ASSERT_EQ(v.set.servers.size(), 1u);
  EXPECT_EQ(v.set.servers[0].address, "fd00::11");
}

TEST(NginxValidate, SortedAndDeduplicatedByAddressAndPort) {
  auto v = validate_instances("rest-service", {instance("c", "198.18.0.13"), instance("b2", "198.18.0.12"),
                                               instance("b1", "198.18.0.12"), instance("a", "198.18.0.11"),
                                               instance("b3", "198.18.0.12", 8101)});
  EXPECT_TRUE(v.rejected.empty());
  std::vector<std::string> ids;
  for (const auto& s : v.set.servers) ids.push_back(s.service_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b1", "b3", "c"}));
  // The same instances in another order give the same set.
  auto again = validate_instances("rest-service", {instance("b1", "198.18.0.12"), instance("a", "198.18.0.11"),
                                                   instance("b3", "198.18.0.12", 8101), instance("c", "198.18.0.13"),
                                                   instance("b2", "198.18.0.12")});
  EXPECT_EQ(again.set, v.set);
}

TEST(NginxValidate, TemplateKey) {
  EXPECT_EQ(template_key("rest-service"), "rest_service");
  EXPECT_EQ(template_key("api.v2-x"), "api_v2_x");
}

}  // namespace
}  // namespace hasup::nginx
