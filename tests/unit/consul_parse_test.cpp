// Consul answers -> plain values, and requests -> JSON bodies. Every body that
// is not exactly what Consul 1.8 documents must be a parse Error, never a
// partly filled value.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "supervisor/consul/parse.hpp"
#include "supervisor/consul/types.hpp"
#include "supervisor/util/base64.hpp"

namespace hasup::consul {
namespace {

using nlohmann::json;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

template <class T>
::testing::AssertionResult is_parse_error(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected a parse error, got a value";
  if (r.error().kind != Error::Kind::parse)
    return ::testing::AssertionFailure() << "expected Kind::parse, got: " << r.error().to_string();
  if (r.error().message.empty()) return ::testing::AssertionFailure() << "parse error without a message";
  return ::testing::AssertionSuccess();
}

// GET /v1/kv/ha-supervisor?recurse as Consul 1.8.7 answers it: one entry with
// a value, one held by a session, one whose value is empty (null).
const char* kKvListing = R"([
  {"LockIndex":0,"Key":"ha-supervisor/cluster/state","Flags":0,"Value":"eyJhIjoxfQ==","CreateIndex":13,"ModifyIndex":21},
  {"LockIndex":3,"Key":"ha-supervisor/leader","Flags":7,"Value":"bjE=","Session":"adf4238a-882b-9ddc-4a9d-5b6758e4159e","CreateIndex":15,"ModifyIndex":42},
  {"LockIndex":0,"Key":"ha-supervisor/empty","Flags":0,"Value":null,"CreateIndex":30,"ModifyIndex":30}
])";

// ---------------------------------------------------------------- parse_kv_entries

TEST(ParseKvEntries, ReadsEveryFieldOfRealConsulEntries) {
  auto r = parse_kv_entries(kKvListing);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& e = r.value();
  ASSERT_EQ(e.size(), 3u);

  EXPECT_EQ(e[0].key, "ha-supervisor/cluster/state");
  EXPECT_EQ(e[0].value, "{\"a\":1}");
  EXPECT_EQ(e[0].create_index, 13u);
  EXPECT_EQ(e[0].modify_index, 21u);
  EXPECT_EQ(e[0].lock_index, 0u);
  EXPECT_EQ(e[0].flags, 0u);
  EXPECT_EQ(e[0].session, "");

  EXPECT_EQ(e[1].key, "ha-supervisor/leader");
  EXPECT_EQ(e[1].value, "n1");
  EXPECT_EQ(e[1].create_index, 15u);
  EXPECT_EQ(e[1].modify_index, 42u);
  EXPECT_EQ(e[1].lock_index, 3u);
  EXPECT_EQ(e[1].flags, 7u);
  EXPECT_EQ(e[1].session, "adf4238a-882b-9ddc-4a9d-5b6758e4159e");

  EXPECT_EQ(e[2].key, "ha-supervisor/empty");
  EXPECT_EQ(e[2].value, "");
  EXPECT_EQ(e[2].session, "");
  EXPECT_EQ(e[2].modify_index, 30u);
}

TEST(ParseKvEntries, EmptyArrayIsNoEntries) {
  auto r = parse_kv_entries("[]");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().empty());
}

TEST(ParseKvEntries, OptionalFieldsMayBeAbsent) {
  // LockIndex, Flags, Value and Session are optional; Key/CreateIndex/ModifyIndex are not.
  auto r = parse_kv_entries(R"([{"Key":"k","CreateIndex":1,"ModifyIndex":2}])");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0].key, "k");
  EXPECT_EQ(r.value()[0].value, "");
  EXPECT_EQ(r.value()[0].lock_index, 0u);
  EXPECT_EQ(r.value()[0].flags, 0u);
  EXPECT_EQ(r.value()[0].session, "");
}

TEST(ParseKvEntries, ValueThatIsNotBase64IsAParseError) {
  auto r = parse_kv_entries(R"([{"Key":"k","Value":"not base64!","CreateIndex":1,"ModifyIndex":2}])");
  ASSERT_TRUE(is_parse_error(r));
  EXPECT_TRUE(contains(r.error().message, "base64"));
  EXPECT_TRUE(contains(r.error().message, "k"));
}

TEST(ParseKvEntries, ValueWithBadLengthIsAParseError) {
  auto r = parse_kv_entries(R"([{"Key":"k","Value":"YWJ","CreateIndex":1,"ModifyIndex":2}])");
  EXPECT_TRUE(is_parse_error(r));
}

TEST(ParseKvEntries, BadSecondEntryFailsTheWholeListing) {
  // The first entry is fine; the second is not: no partial result.
  auto r = parse_kv_entries(
      R"([{"Key":"a","Value":"YQ==","CreateIndex":1,"ModifyIndex":1},
          {"Key":"b","Value":"%%%%","CreateIndex":1,"ModifyIndex":1}])");
  EXPECT_TRUE(is_parse_error(r));
}

TEST(ParseKvEntries, MissingRequiredFieldIsAParseError) {
  auto no_key = parse_kv_entries(R"([{"Value":"YQ==","CreateIndex":1,"ModifyIndex":1}])");
  ASSERT_TRUE(is_parse_error(no_key));
  EXPECT_TRUE(contains(no_key.error().message, "missing field Key"));

  auto no_modify = parse_kv_entries(R"([{"Key":"a","CreateIndex":1}])");
  ASSERT_TRUE(is_parse_error(no_modify));
  EXPECT_TRUE(contains(no_modify.error().message, "ModifyIndex"));

  auto no_create = parse_kv_entries(R"([{"Key":"a","ModifyIndex":1}])");
  ASSERT_TRUE(is_parse_error(no_create));
  EXPECT_TRUE(contains(no_create.error().message, "CreateIndex"));
}

TEST(ParseKvEntries, WrongTypesAreParseErrors) {
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":5,"CreateIndex":1,"ModifyIndex":1}])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":"a","CreateIndex":"1","ModifyIndex":1}])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":"a","CreateIndex":1,"ModifyIndex":-3}])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":"a","CreateIndex":1,"ModifyIndex":1.5}])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":"a","CreateIndex":1,"ModifyIndex":1,"Session":7}])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":"a","CreateIndex":1,"ModifyIndex":1,"Value":12}])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([{"Key":"a","CreateIndex":1,"ModifyIndex":1,"Flags":true}])")));
  auto r = parse_kv_entries(R"([{"Key":"a","CreateIndex":1,"ModifyIndex":1,"LockIndex":"x"}])");
  ASSERT_TRUE(is_parse_error(r));
  EXPECT_TRUE(contains(r.error().message, "LockIndex"));
}

TEST(ParseKvEntries, EntryThatIsNotAnObjectIsAParseError) {
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"(["ha-supervisor/leader"])")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries(R"([null])")));
}

TEST(ParseKvEntries, MalformedJsonIsAParseError) {
  auto r = parse_kv_entries(R"([{"Key":"a",)");
  ASSERT_TRUE(is_parse_error(r));
  EXPECT_TRUE(contains(r.error().message, "malformed JSON"));
  EXPECT_TRUE(is_parse_error(parse_kv_entries("")));
}

TEST(ParseKvEntries, NotAnArrayIsAParseError) {
  auto r = parse_kv_entries(R"({"Key":"a","CreateIndex":1,"ModifyIndex":1})");
  ASSERT_TRUE(is_parse_error(r));
  EXPECT_TRUE(contains(r.error().message, "array"));
  EXPECT_TRUE(is_parse_error(parse_kv_entries("null")));
  EXPECT_TRUE(is_parse_error(parse_kv_entries("\"text\"")));
}

// ---------------------------------------------------------------- sessions

TEST(ParseSessionId, ReadsTheId) {
  auto r = parse_session_id(R"({"ID":"adf4238a-882b-9ddc-4a9d-5b6758e4159e"})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value(), "adf4238a-882b-9ddc-4a9d-5b6758e4159e");
}

TEST(ParseSessionId, ErrorsAreParseErrors) {
  EXPECT_TRUE(is_parse_error(parse_session_id(R"({})")));
  EXPECT_TRUE(is_parse_error(parse_session_id(R"({"ID":""})")));
  EXPECT_TRUE(is_parse_error(parse_session_id(R"({"ID":12})")));
  EXPECT_TRUE(is_parse_error(parse_session_id(R"(["x"])")));
  EXPECT_TRUE(is_parse_error(parse_session_id(R"({"ID":)")));
}

TEST(ParseSessions, ReadsConsul18SessionList) {
  auto r = parse_sessions(R"([
    {"ID":"s-1","Name":"ha-supervisor n1","Node":"n1","LockDelay":15000000000,"Behavior":"delete",
     "TTL":"","NodeChecks":["serfHealth"],"ServiceChecks":null,"Checks":["serfHealth","service:ha"],
     "CreateIndex":101,"ModifyIndex":101},
    {"ID":"s-2","Node":"n2","CreateIndex":5}
  ])");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r.value().size(), 2u);
  const auto& s = r.value()[0];
  EXPECT_EQ(s.id, "s-1");
  EXPECT_EQ(s.name, "ha-supervisor n1");
  EXPECT_EQ(s.node, "n1");
  EXPECT_EQ(s.checks, (std::vector<std::string>{"serfHealth", "service:ha"}));
  EXPECT_EQ(s.behavior, "delete");
  EXPECT_EQ(s.ttl, "");
  EXPECT_EQ(s.create_index, 101u);
  EXPECT_EQ(r.value()[1].id, "s-2");
  EXPECT_EQ(r.value()[1].node, "n2");
  EXPECT_TRUE(r.value()[1].checks.empty());
}

TEST(ParseSessions, NullBodyIsNoSessions) {
  auto r = parse_sessions("null");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value().empty());
  auto empty = parse_sessions("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().empty());
}

TEST(ParseSessions, ErrorsAreParseErrors) {
  EXPECT_TRUE(is_parse_error(parse_sessions(R"({"ID":"s"})")));
  EXPECT_TRUE(is_parse_error(parse_sessions(R"([{"Node":"n1"}])")));            // no ID
  EXPECT_TRUE(is_parse_error(parse_sessions(R"([{"ID":"s"}])")));               // no Node
  EXPECT_TRUE(is_parse_error(parse_sessions(R"([{"ID":"s","Node":"n","Checks":"serfHealth"}])")));
  EXPECT_TRUE(is_parse_error(parse_sessions(R"([{"ID":"s","Node":"n","Checks":[1]}])")));
  EXPECT_TRUE(is_parse_error(parse_sessions("[")));
}

// ---------------------------------------------------------------- txn

TEST(ParseTxn, CommittedWithResults) {
  auto r = parse_txn(200, R"({"Results":[
      {"KV":{"LockIndex":1,"Key":"ha-supervisor/leader","Flags":0,"Value":null,"Session":"s1","CreateIndex":10,"ModifyIndex":42}},
      {"KV":{"LockIndex":0,"Key":"ha-supervisor/cluster/state","Flags":0,"Value":null,"CreateIndex":11,"ModifyIndex":43}}
    ],"Errors":null})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value().committed);
  EXPECT_TRUE(r.value().errors.empty());
  ASSERT_EQ(r.value().entries.size(), 2u);
  EXPECT_EQ(r.value().entries[0].key, "ha-supervisor/leader");
  EXPECT_EQ(r.value().entries[0].session, "s1");
  EXPECT_EQ(r.value().entries[0].modify_index, 42u);
  EXPECT_EQ(r.value().entries[1].key, "ha-supervisor/cluster/state");
  EXPECT_EQ(r.value().entries[1].modify_index, 43u);
}

TEST(ParseTxn, CommittedWithoutResults) {
  auto r = parse_txn(200, R"({"Results":null,"Errors":null})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value().committed);
  EXPECT_TRUE(r.value().entries.empty());
}

TEST(ParseTxn, RolledBackWithErrorsIsAValueNotAnError) {
  auto r = parse_txn(409, R"({"Results":null,"Errors":[
      {"OpIndex":0,"What":"failed session check for key \"ha-supervisor/leader\", current session \"s2\" != \"s1\""},
      {"OpIndex":2,"What":"current modify index 43 != 42"}]})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r.value().committed);
  ASSERT_EQ(r.value().errors.size(), 2u);
  EXPECT_EQ(r.value().errors[0],
            "op 0: failed session check for key \"ha-supervisor/leader\", current session \"s2\" != \"s1\"");
  EXPECT_EQ(r.value().errors[1], "op 2: current modify index 43 != 42");
}

TEST(ParseTxn, ConflictWithoutErrorsIsAParseError) {
  EXPECT_TRUE(is_parse_error(parse_txn(409, R"({"Results":null,"Errors":null})")));
  EXPECT_TRUE(is_parse_error(parse_txn(409, R"({"Results":null,"Errors":[]})")));
  EXPECT_TRUE(is_parse_error(parse_txn(409, R"({})")));
}

TEST(ParseTxn, OtherStatusIsAStatusError) {
  auto r = parse_txn(500, "rpc error making call: No cluster leader");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::status);
  EXPECT_EQ(r.error().status, 500);
  EXPECT_TRUE(contains(r.error().message, "No cluster leader"));
  EXPECT_TRUE(contains(r.error().to_string(), "500"));

  auto forbidden = parse_txn(403, "Permission denied");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().kind, Error::Kind::status);
  EXPECT_EQ(forbidden.error().status, 403);
}

TEST(ParseTxn, MalformedBodiesAreParseErrors) {
  EXPECT_TRUE(is_parse_error(parse_txn(200, "{")));
  EXPECT_TRUE(is_parse_error(parse_txn(200, "[]")));
  EXPECT_TRUE(is_parse_error(parse_txn(200, R"({"Results":{}})")));
  EXPECT_TRUE(is_parse_error(parse_txn(200, R"({"Results":[{"NotKV":{}}]})")));
  EXPECT_TRUE(is_parse_error(parse_txn(200, R"({"Results":[{"KV":{"Key":"a"}}]})")));
  EXPECT_TRUE(is_parse_error(parse_txn(409, R"({"Errors":{}})")));
  EXPECT_TRUE(is_parse_error(parse_txn(409, R"({"Errors":[{"OpIndex":"zero","What":"x"}]})")));
}

// ---------------------------------------------------------------- health

std::string health_entry(const std::string& node, const std::string& checks_json) {
  return R"({"Node":{"ID":"1b2c","Node":")" + node +
         R"(","Address":"198.18.0.1","Datacenter":"dc1","TaggedAddresses":{"lan":"198.18.0.1"},"Meta":{},"CreateIndex":5,"ModifyIndex":6},
            "Service":{"ID":"ha-supervisor","Service":"ha-supervisor","Tags":["v1","x"],"Address":"198.18.0.9","Meta":{},"Port":8700,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"CreateIndex":7,"ModifyIndex":7},
            "Checks":)" + checks_json + "}";
}

std::string check(const std::string& id, const std::string& status) {
  return R"({"Node":"n","CheckID":")" + id + R"(","Name":")" + id + R"(","Status":")" + status +
         R"(","Notes":"","Output":"","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"","CreateIndex":1,"ModifyIndex":1})";
}

std::string status_of(const std::string& checks_json) {
  auto r = parse_health_service("[" + health_entry("n1", checks_json) + "]");
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  if (!r.ok() || r.value().size() != 1) return "<error>";
  return r.value()[0].status;
}

TEST(ParseHealthService, ReadsTheInstance) {
  auto r = parse_health_service("[" + health_entry("n1", "[" + check("serfHealth", "passing") + "]") + "," +
                                health_entry("n2", "[]") + "]");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r.value().size(), 2u);
  const auto& i = r.value()[0];
  EXPECT_EQ(i.node, "n1");
  EXPECT_EQ(i.node_address, "198.18.0.1");
  EXPECT_EQ(i.service_id, "ha-supervisor");
  EXPECT_EQ(i.service, "ha-supervisor");
  EXPECT_EQ(i.address, "198.18.0.9");
  EXPECT_EQ(i.port, 8700);
  EXPECT_EQ(i.tags, (std::vector<std::string>{"v1", "x"}));
  EXPECT_EQ(i.status, "passing");
  EXPECT_EQ(r.value()[1].node, "n2");
}

TEST(ParseHealthService, AggregatesTheWorstCheckStatus) {
  EXPECT_EQ(status_of("[]"), "passing");
  EXPECT_EQ(status_of("null"), "passing");
  EXPECT_EQ(status_of("[" + check("a", "passing") + "," + check("b", "passing") + "]"), "passing");
  EXPECT_EQ(status_of("[" + check("a", "passing") + "," + check("b", "warning") + "]"), "warning");
  EXPECT_EQ(status_of("[" + check("a", "warning") + "," + check("b", "passing") + "]"), "warning");
  // critical beats warning, whatever the order
  EXPECT_EQ(status_of("[" + check("a", "warning") + "," + check("b", "critical") + "]"), "critical");
  EXPECT_EQ(status_of("[" + check("a", "critical") + "," + check("b", "warning") + "]"), "critical");
  EXPECT_EQ(status_of("[" + check("a", "critical") + "," + check("b", "passing") + "," + check("c", "warning") + "]"),
            "critical");
}

TEST(ParseHealthService, TheNodeIsAliveUnlessItsSerfHealthCheckFails) {
  auto alive = [](const std::string& checks_json) {
    auto r = parse_health_service("[" + health_entry("n1", checks_json) + "]");
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() && r.value().size() == 1 && r.value()[0].node_alive;
  };
  EXPECT_TRUE(alive("[]"));
  EXPECT_TRUE(alive("[" + check("serfHealth", "passing") + "," + check("service:rest", "critical") + "]"));
  EXPECT_FALSE(alive("[" + check("serfHealth", "critical") + "," + check("service:rest", "passing") + "]"));
  EXPECT_FALSE(alive("[" + check("serfHealth", "warning") + "]"));
}

TEST(ParseHealthService, MissingNodeIsAParseError) {
  auto r = parse_health_service(
      R"([{"Service":{"ID":"ha","Service":"ha"},"Checks":[]}])");
  ASSERT_TRUE(is_parse_error(r));
  EXPECT_TRUE(contains(r.error().message, "Node"));
}

TEST(ParseHealthService, OtherErrorsAreParseErrors) {
  // Node present but its Node name missing
  EXPECT_TRUE(is_parse_error(parse_health_service(
      R"([{"Node":{"Address":"198.18.0.1"},"Service":{"ID":"ha","Service":"ha"},"Checks":[]}])")));
  // no Service
  EXPECT_TRUE(is_parse_error(parse_health_service(R"([{"Node":{"Node":"n1","Address":"a"},"Checks":[]}])")));
  // Node not an object
  EXPECT_TRUE(is_parse_error(
      parse_health_service(R"([{"Node":"n1","Service":{"ID":"ha","Service":"ha"},"Checks":[]}])")));
  // check without a Status
  EXPECT_TRUE(is_parse_error(parse_health_service("[" + health_entry("n1", R"([{"CheckID":"x"}])") + "]")));
  // Checks not an array
  EXPECT_TRUE(is_parse_error(parse_health_service("[" + health_entry("n1", R"({"a":1})") + "]")));
  // Port of the wrong type
  EXPECT_TRUE(is_parse_error(parse_health_service(
      R"([{"Node":{"Node":"n1","Address":"a"},"Service":{"ID":"ha","Service":"ha","Port":"80"},"Checks":[]}])")));
  EXPECT_TRUE(is_parse_error(parse_health_service("{}")));
  EXPECT_TRUE(is_parse_error(parse_health_service("[")));
}

// ---------------------------------------------------------------- check statuses

// A lab node's real answers (Consul 1.8.7), Output fields shortened.
const char* kAgentChecks =
    R"({"ha-supervisor-alive-n1":{"Node":"consul-n1","CheckID":"ha-supervisor-alive-n1","Name":"ha-supervisor control loop alive","Status":"passing","Notes":"","Output":"loop alive: follower","ServiceID":"ha-supervisor-n1","ServiceName":"ha-supervisor","ServiceTags":[],"Type":"ttl","Definition":{},"CreateIndex":0,"ModifyIndex":0},)"
    R"("rest-service-status":{"Node":"consul-n1","CheckID":"rest-service-status","Name":"REST service answers /api/v3.1/status","Status":"critical","Notes":"","Output":"HTTP GET: 503","ServiceID":"rest-service","ServiceName":"rest-service","ServiceTags":[],"Type":"http","Definition":{},"CreateIndex":0,"ModifyIndex":0}})";
const char* kNodeChecks =
    R"([{"Node":"consul-n1","CheckID":"ha-supervisor-alive-n1","Name":"ha-supervisor control loop alive","Status":"passing","Notes":"","Output":"loop alive: follower","ServiceID":"ha-supervisor-n1","ServiceName":"ha-supervisor","ServiceTags":[],"Type":"ttl","Definition":{},"CreateIndex":39,"ModifyIndex":4758},)"
    R"({"Node":"consul-n1","CheckID":"rest-service-status","Name":"REST service answers /api/v3.1/status","Status":"passing","Notes":"","Output":"HTTP GET: 200 OK","ServiceID":"rest-service","ServiceName":"rest-service","ServiceTags":[],"Type":"http","Definition":{},"CreateIndex":38,"ModifyIndex":8979},)"
    R"({"Node":"consul-n1","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"","Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"","Definition":{},"CreateIndex":20,"ModifyIndex":20}])";

TEST(ParseCheckStatuses, ReadsTheAgentsObjectAndTheCatalogsArray) {
  auto agent = parse_check_statuses(kAgentChecks);
  ASSERT_TRUE(agent.ok()) << agent.error().to_string();
  EXPECT_EQ(agent.value(), (CheckStatuses{{"ha-supervisor-alive-n1", "passing"}, {"rest-service-status", "critical"}}));
  auto catalog = parse_check_statuses(kNodeChecks);
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  EXPECT_EQ(catalog.value(), (CheckStatuses{{"ha-supervisor-alive-n1", "passing"},
                                            {"rest-service-status", "passing"},
                                            {"serfHealth", "passing"}}));
  EXPECT_TRUE(parse_check_statuses("{}").value().empty()) << "an agent with no checks";
  EXPECT_TRUE(parse_check_statuses("[]").value().empty()) << "a node the catalog does not know";
}

TEST(ParseCheckStatuses, AnythingElseIsAParseErrorNotAPartialList) {
  const std::string good = R"({"CheckID":"a","Status":"passing"})";
  EXPECT_TRUE(is_parse_error(parse_check_statuses("")));
  EXPECT_TRUE(is_parse_error(parse_check_statuses("null")));
  EXPECT_TRUE(is_parse_error(parse_check_statuses(R"("passing")")));
  EXPECT_TRUE(is_parse_error(parse_check_statuses("[" + good + ",")));
  EXPECT_TRUE(is_parse_error(parse_check_statuses("[" + good + R"(,{"CheckID":"b"}])"))) << "no Status";
  EXPECT_TRUE(is_parse_error(parse_check_statuses("[" + good + R"(,{"Status":"passing"}])"))) << "no CheckID";
  EXPECT_TRUE(is_parse_error(parse_check_statuses(R"([{"CheckID":"","Status":"passing"}])")));
  EXPECT_TRUE(is_parse_error(parse_check_statuses(R"([{"CheckID":"a","Status":1}])")));
  EXPECT_TRUE(is_parse_error(parse_check_statuses(R"([{"CheckID":"a","Status":"fine"}])"))) << "not a status";
  EXPECT_TRUE(is_parse_error(parse_check_statuses("[" + good + "," + good + "]"))) << "one id twice";
  EXPECT_TRUE(is_parse_error(parse_check_statuses(R"([["a","passing"]])")));
}

// ---------------------------------------------------------------- agent self, status leader

TEST(ParseAgentSelf, ReadsConfig) {
  auto r = parse_agent_self(R"({"Config":{"Datacenter":"dc1","NodeName":"n1","NodeID":"6b3a-...","Revision":"95fb95bf",
      "Server":true,"Version":"1.8.7"},"DebugConfig":{},"Coord":{"Vec":[0,0]},"Member":{"Name":"n1"},"Stats":{},"Meta":{}})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().node_name, "n1");
  EXPECT_EQ(r.value().datacenter, "dc1");
  EXPECT_EQ(r.value().version, "1.8.7");
  EXPECT_TRUE(r.value().server);

  auto client = parse_agent_self(R"({"Config":{"Datacenter":"dc2","NodeName":"c1","Server":false}})");
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE(client.value().server);
  EXPECT_EQ(client.value().version, "");
}

// From Consul 1.8.7's DebugConfig (the lab's agents): what the agent protects.
TEST(ParseAgentSelf, ReadsTheProtectionsAndUnknownWhereConsulDoesNotSay) {
  auto on = parse_agent_self(R"({"Config":{"Datacenter":"dc1","NodeName":"n1"},"DebugConfig":{
      "EncryptKey":"hidden","EncryptVerifyIncoming":true,"EncryptVerifyOutgoing":true,"VerifyIncomingRPC":true,
      "VerifyOutgoing":true,"VerifyServerHostname":true,"ACLsEnabled":false,"ACLDefaultPolicy":"allow",
      "HTTPPort":-1,"HTTPSPort":8501}})");
  ASSERT_TRUE(on.ok()) << on.error().to_string();
  EXPECT_EQ(on.value().protections.gossip_encrypted, true);
  EXPECT_EQ(on.value().protections.rpc_tls, true);
  EXPECT_EQ(on.value().protections.acls_deny, false);
  EXPECT_EQ(on.value().protections.api_https_only, true) << "HTTPS on, plain HTTP off (-1)";
  auto off = parse_agent_self(R"({"Config":{"Datacenter":"dc1","NodeName":"n1"},"DebugConfig":{
      "EncryptKey":"","EncryptVerifyIncoming":true,"EncryptVerifyOutgoing":true,"VerifyIncomingRPC":false,
      "VerifyOutgoing":true,"VerifyServerHostname":true,"ACLsEnabled":true,"ACLDefaultPolicy":"deny",
      "HTTPPort":8500,"HTTPSPort":8501}})");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off.value().protections.gossip_encrypted, false) << "no key: not encrypted";
  EXPECT_EQ(off.value().protections.rpc_tls, false) << "incoming RPC not verified";
  EXPECT_EQ(off.value().protections.acls_deny, true);
  EXPECT_EQ(off.value().protections.api_https_only, false) << "a plain HTTP port beside HTTPS";
  auto unknown = parse_agent_self(R"({"Config":{"Datacenter":"dc1","NodeName":"n1"},"DebugConfig":{
      "EncryptKey":7,"VerifyIncomingRPC":true}})");
  ASSERT_TRUE(unknown.ok()) << "an odd DebugConfig does not fail the agent's answer";
  EXPECT_EQ(unknown.value().protections.gossip_encrypted, std::nullopt);
  EXPECT_EQ(unknown.value().protections.rpc_tls, std::nullopt);
  EXPECT_EQ(unknown.value().protections.api_https_only, std::nullopt);
  auto none = parse_agent_self(R"({"Config":{"Datacenter":"dc1","NodeName":"n1"}})");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value().protections.acls_deny, std::nullopt);
}

TEST(ParseAgentSelf, ErrorsAreParseErrors) {
  EXPECT_TRUE(is_parse_error(parse_agent_self(R"({"Member":{}})")));
  EXPECT_TRUE(is_parse_error(parse_agent_self(R"({"Config":"x"})")));
  EXPECT_TRUE(is_parse_error(parse_agent_self(R"({"Config":{"Datacenter":"dc1"}})")));
  EXPECT_TRUE(is_parse_error(parse_agent_self(R"({"Config":{"NodeName":"n1"}})")));
  EXPECT_TRUE(is_parse_error(parse_agent_self(R"({"Config":{"Datacenter":"dc1","NodeName":"n1","Server":"yes"}})")));
  EXPECT_TRUE(is_parse_error(parse_agent_self("[]")));
  EXPECT_TRUE(is_parse_error(parse_agent_self("{")));
}

TEST(ParseStatusLeader, ReadsTheAddress) {
  auto r = parse_status_leader("\"127.0.0.1:8300\"");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), "127.0.0.1:8300");
  auto none = parse_status_leader("\"\"");  // no leader elected
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), "");
}

TEST(ParseStatusLeader, ErrorsAreParseErrors) {
  EXPECT_TRUE(is_parse_error(parse_status_leader("127.0.0.1:8300")));
  EXPECT_TRUE(is_parse_error(parse_status_leader("null")));
  EXPECT_TRUE(is_parse_error(parse_status_leader("[\"a\"]")));
}

// ---------------------------------------------------------------- index header

TEST(ParseIndexHeader, Values) {
  EXPECT_EQ(parse_index_header("123"), 123u);
  EXPECT_EQ(parse_index_header("18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(parse_index_header(""), 0u);
  EXPECT_EQ(parse_index_header("abc"), 0u);
  EXPECT_EQ(parse_index_header("12abc"), 0u);
  EXPECT_EQ(parse_index_header("12 "), 0u);
  EXPECT_EQ(parse_index_header(" 12"), 0u);
  EXPECT_EQ(parse_index_header("-1"), 0u);
  EXPECT_EQ(parse_index_header("18446744073709551616"), 0u);  // overflow
}

// ---------------------------------------------------------------- encoders

TEST(EncodeSessionSpec, DeleteBehaviorWithTtlAndChecks) {
  SessionSpec spec;
  spec.name = "ha-supervisor n1";
  spec.node = "n1";
  spec.checks = {"serfHealth", "service:ha-supervisor"};
  spec.ttl = std::chrono::seconds(15);
  spec.lock_delay = std::chrono::milliseconds(1000);
  spec.behavior = SessionSpec::Behavior::remove;
  json body = json::parse(encode_session_spec(spec));
  EXPECT_EQ(body["Name"], "ha-supervisor n1");
  EXPECT_EQ(body["Node"], "n1");
  EXPECT_EQ(body["Checks"], json::array({"serfHealth", "service:ha-supervisor"}));
  EXPECT_EQ(body["LockDelay"], "1000ms");
  EXPECT_EQ(body["TTL"], "15s");
  EXPECT_EQ(body["Behavior"], "delete");
}

TEST(EncodeSessionSpec, ReleaseBehaviorWithoutTtl) {
  SessionSpec spec;
  spec.behavior = SessionSpec::Behavior::release;
  spec.ttl = std::chrono::seconds(0);
  json body = json::parse(encode_session_spec(spec));
  EXPECT_EQ(body["Behavior"], "release");
  EXPECT_FALSE(body.contains("TTL"));
  EXPECT_FALSE(body.contains("Name"));
  EXPECT_FALSE(body.contains("Node"));
  EXPECT_EQ(body["LockDelay"], "15000ms");
  // An explicit empty list: Consul must not add serfHealth on its own.
  ASSERT_TRUE(body.contains("Checks"));
  EXPECT_TRUE(body["Checks"].is_array());
  EXPECT_TRUE(body["Checks"].empty());
}

TEST(EncodeTxn, VerbsAndFields) {
  std::vector<TxnOp> ops(4);
  ops[0].verb = TxnOp::Verb::check_session;
  ops[0].key = "ha-supervisor/leader";
  ops[0].session = "s1";
  ops[1].verb = TxnOp::Verb::check_index;
  ops[1].key = "ha-supervisor/leader";
  ops[1].index = 42;
  ops[2].verb = TxnOp::Verb::set;
  ops[2].key = "ha-supervisor/cluster/state";
  ops[2].value = "{\"leader\":\"n1\"}";
  ops[3].verb = TxnOp::Verb::remove;
  ops[3].key = "ha-supervisor/old";
  json body = json::parse(encode_txn(ops));
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 4u);

  const json& a = body[0]["KV"];
  EXPECT_EQ(a["Verb"], "check-session");
  EXPECT_EQ(a["Key"], "ha-supervisor/leader");
  EXPECT_EQ(a["Session"], "s1");
  EXPECT_FALSE(a.contains("Value"));

  const json& b = body[1]["KV"];
  EXPECT_EQ(b["Verb"], "check-index");
  EXPECT_EQ(b["Index"], 42);
  EXPECT_FALSE(b.contains("Value"));
  EXPECT_FALSE(b.contains("Session"));

  const json& c = body[2]["KV"];
  EXPECT_EQ(c["Verb"], "set");
  EXPECT_EQ(c["Value"], base64_encode("{\"leader\":\"n1\"}"));
  EXPECT_EQ(c["Value"], "eyJsZWFkZXIiOiJuMSJ9");
  EXPECT_FALSE(c.contains("Index"));

  const json& d = body[3]["KV"];
  EXPECT_EQ(d["Verb"], "delete");
  EXPECT_EQ(d["Key"], "ha-supervisor/old");
  EXPECT_FALSE(d.contains("Value"));
}

TEST(EncodeTxn, LockCarriesValueAndSession) {
  std::vector<TxnOp> ops(1);
  ops[0].verb = TxnOp::Verb::lock;
  ops[0].key = "k";
  ops[0].value = "v";
  ops[0].session = "s9";
  json body = json::parse(encode_txn(ops));
  EXPECT_EQ(body[0]["KV"]["Verb"], "lock");
  EXPECT_EQ(body[0]["KV"]["Value"], "dg==");
  EXPECT_EQ(body[0]["KV"]["Session"], "s9");
  EXPECT_EQ(json::parse(encode_txn({})), json::array());
}

TEST(EncodeServiceRegistration, AllFields) {
  ServiceRegistration r;
  r.id = "ha-supervisor";
  r.name = "ha-supervisor";
  r.address = "198.18.0.1";
  r.port = 8700;
  r.tags = {"a", "b"};
  r.meta = {{"version", "0.1.0"}};
  CheckDefinition ttl_check;
  ttl_check.id = "ha-supervisor-alive";
  ttl_check.name = "supervisor alive";
  ttl_check.ttl = std::chrono::milliseconds(5000);
  ttl_check.initial_status = "passing";
  ttl_check.deregister_critical_after = std::chrono::seconds(60);
  CheckDefinition bare;
  bare.id = "bare";
  bare.initial_status = "";
  r.checks = {ttl_check, bare};
  json body = json::parse(encode_service_registration(r));
  EXPECT_EQ(body["ID"], "ha-supervisor");
  EXPECT_EQ(body["Name"], "ha-supervisor");
  EXPECT_EQ(body["Address"], "198.18.0.1");
  EXPECT_EQ(body["Port"], 8700);
  EXPECT_EQ(body["Tags"], json::array({"a", "b"}));
  EXPECT_EQ(body["Meta"]["version"], "0.1.0");
  ASSERT_EQ(body["Checks"].size(), 2u);
  const json& c = body["Checks"][0];
  EXPECT_EQ(c["CheckID"], "ha-supervisor-alive");
  EXPECT_EQ(c["Name"], "supervisor alive");
  EXPECT_EQ(c["TTL"], "5000ms");
  EXPECT_EQ(c["Status"], "passing");
  EXPECT_EQ(c["DeregisterCriticalServiceAfter"], "60s");
  const json& d = body["Checks"][1];
  EXPECT_EQ(d["CheckID"], "bare");
  EXPECT_EQ(d["Name"], "bare");  // name defaults to the id
  EXPECT_FALSE(d.contains("TTL"));
  EXPECT_FALSE(d.contains("Status"));
  EXPECT_FALSE(d.contains("DeregisterCriticalServiceAfter"));
}

TEST(EncodeServiceRegistration, OmitsEmptyOptionalFields) {
  ServiceRegistration r;
  r.id = "x";
  r.name = "y";
  json body = json::parse(encode_service_registration(r));
  EXPECT_FALSE(body.contains("Address"));
  EXPECT_FALSE(body.contains("Port"));
  EXPECT_FALSE(body.contains("Meta"));
  EXPECT_EQ(body["Tags"], json::array());
  EXPECT_EQ(body["Checks"], json::array());
}

// ---------------------------------------------------------------- base64 values
// (the decoding itself: util_base64_test.cpp)

// A value Beast would decode only in part ("YQ==YWJj": "a", then the rest
// dropped) is a parse error, never the partly filled value parse.hpp promises
// never to return.
TEST(KvValues, AValueThatIsNotWholeBase64IsAParseError) {
  auto kv = parse_kv_entries(R"([{"Key":"k","Value":"YQ==YWJj","CreateIndex":1,"ModifyIndex":1}])");
  ASSERT_TRUE(is_parse_error(kv));
  EXPECT_TRUE(contains(kv.error().message, "base64"));
}

TEST(ErrorToString, NamesTheKind) {
  EXPECT_TRUE(contains(Error{Error::Kind::transport, 0, "refused"}.to_string(), "unreachable"));
  EXPECT_TRUE(contains(Error{Error::Kind::timeout, 0, "x"}.to_string(), "timeout"));
  EXPECT_TRUE(contains(Error{Error::Kind::status, 503, "x"}.to_string(), "503"));
  EXPECT_TRUE(contains(Error{Error::Kind::parse, 0, "bad"}.to_string(), "not understood: bad"));
}

}  // namespace
}  // namespace hasup::consul
