// The JSON records supervisors share through Consul: round trips of every
// field, and every way a record can be unreadable (never half read).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "supervisor/cluster/records.hpp"

namespace hasup::cluster {
namespace {

using nlohmann::json;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

MemberRecord full_member() {
  MemberRecord r;
  r.name = "n1";
  r.address = "198.18.0.1";
  r.role = Role::leader;
  r.health = "consul agent slow";
  r.versions = {{"supervisor", "0.1.0"}, {"consul", "1.8.7"}};
  r.syncthing_device_id = "ABCDEFG-1234567";
  r.syncthing_peers = {"BCDEFGH-2345671", "CDEFGHI-3456712"};
  r.nginx_config = "gen 3 9f3a12bc";
  r.vrrp_state = "MASTER";
  r.holds_vip = true;
  r.vip_settings = "vrid 51 198.18.0.100/24";
  r.broker_state = "running, 3 of 3 nodes";
  r.broker_members = {"rabbit@198.18.0.11", "rabbit@198.18.0.12"};
  r.broker_cookie = "3f9a";
  r.settings_index = 77;
  r.settings_pending = {"consul.session_ttl_s"};
  r.settings_error = "the cluster's settings (index 78): refused";
  r.db_login_generation = 3;
  r.replication_login_generation = 5;
  r.patroni_keys_index = 4711;
  r.patroni_keys_write_backs = 2;
  r.since = "2024-05-01T12:00:00Z";
  r.leader_epoch = 4242;
  return r;
}

// A valid encoded member record as a JSON object, to be broken one field at a time.
json member_json() { return json::parse(encode(full_member())); }

MemberDecode decode_json(const json& j) { return decode_member(j.dump()); }

// ---------------------------------------------------------------- roles

TEST(Role, ToStringOfEveryRole) {
  EXPECT_EQ(to_string(Role::starting), "starting");
  EXPECT_EQ(to_string(Role::follower), "follower");
  EXPECT_EQ(to_string(Role::leader), "leader");
  EXPECT_EQ(to_string(Role::maintenance), "maintenance");
  EXPECT_EQ(to_string(Role::cut_off), "cut-off");
  EXPECT_EQ(to_string(Role::stopping), "stopping");
}

TEST(Role, FromStringOfEveryRoleRoundTrips) {
  for (Role r : {Role::starting, Role::follower, Role::leader, Role::maintenance, Role::cut_off, Role::stopping}) {
    auto back = role_from_string(to_string(r));
    ASSERT_TRUE(back.has_value()) << to_string(r);
    EXPECT_EQ(*back, r);
  }
  EXPECT_EQ(role_from_string("cut-off"), Role::cut_off);
}

TEST(Role, FromStringRejectsUnknownNames) {
  EXPECT_FALSE(role_from_string("").has_value());
  EXPECT_FALSE(role_from_string("Leader").has_value());
  EXPECT_FALSE(role_from_string("cut_off").has_value());
  EXPECT_FALSE(role_from_string("master").has_value());
}

// ---------------------------------------------------------------- member

TEST(MemberRecord, RoundTripOfEveryField) {
  MemberRecord r = full_member();
  auto d = decode_member(encode(r));
  ASSERT_TRUE(d.record.has_value()) << d.error;
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(d.record->name, "n1");
  EXPECT_EQ(d.record->address, "198.18.0.1");
  EXPECT_EQ(d.record->role, Role::leader);
  EXPECT_EQ(d.record->health, "consul agent slow");
  EXPECT_EQ(d.record->versions, r.versions);
  EXPECT_EQ(d.record->syncthing_device_id, "ABCDEFG-1234567");
  EXPECT_EQ(d.record->syncthing_peers, (std::vector<std::string>{"BCDEFGH-2345671", "CDEFGHI-3456712"}));
  EXPECT_EQ(d.record->nginx_config, "gen 3 9f3a12bc");
  EXPECT_EQ(d.record->vrrp_state, "MASTER");
  EXPECT_TRUE(d.record->holds_vip);
  EXPECT_EQ(d.record->vip_settings, "vrid 51 198.18.0.100/24");
  EXPECT_EQ(d.record->since, "2024-05-01T12:00:00Z");
  EXPECT_EQ(d.record->leader_epoch, 4242u);
  EXPECT_EQ(d.record->settings_index, 77u);
  EXPECT_EQ(d.record->settings_pending, std::vector<std::string>{"consul.session_ttl_s"});
  EXPECT_EQ(d.record->settings_error, "the cluster's settings (index 78): refused");
  EXPECT_EQ(d.record->broker_members, r.broker_members);
  EXPECT_EQ(d.record->db_login_generation, std::optional<std::uint64_t>(3));
  EXPECT_EQ(d.record->replication_login_generation, std::optional<std::uint64_t>(5));
  EXPECT_EQ(d.record->patroni_keys_index, std::optional<std::uint64_t>(4711));
  EXPECT_EQ(d.record->patroni_keys_write_backs, std::optional<std::uint64_t>(2));
  EXPECT_EQ(*d.record, r);
}

TEST(MemberRecord, ChangedFieldsNameWhatAPublishChangesAndNothingElse) {
  MemberRecord before = full_member();
  EXPECT_TRUE(changed_fields(before, before).empty());
  MemberRecord after = before;
  after.health = "broker not answering";
  after.since = "2024-05-01T12:00:05Z";
  after.patroni_keys_index.reset();  // a field the encoding leaves out when absent
  EXPECT_EQ(changed_fields(before, after), (std::vector<std::string>{"health", "since", "patroni_keys_index"}));
  after = before;
  after.broker_members.push_back("rabbit@198.18.0.9");
  EXPECT_EQ(changed_fields(before, after), std::vector<std::string>{"broker_members"});
}

TEST(MemberRecord, ALoginGenerationThatIsNotAnUnsignedNumberIsRefusedWhole) {
  for (const char* key :
       {"db_login_generation", "replication_login_generation", "patroni_keys_index", "patroni_keys_write_backs"}) {
    json j = member_json();
    j[key] = -1;
    auto d = decode_json(j);
    EXPECT_FALSE(d.record) << key;
    EXPECT_EQ(d.error, std::string(key) + " is not an unsigned number");
  }
}

TEST(MemberRecord, RoundTripOfEveryRoleAndDefaults) {
  for (Role role : {Role::starting, Role::follower, Role::leader, Role::maintenance, Role::cut_off, Role::stopping}) {
    MemberRecord r;
    r.name = "n2";
    r.role = role;
    auto d = decode_member(encode(r));
    ASSERT_TRUE(d.record.has_value()) << to_string(role) << ": " << d.error;
    EXPECT_EQ(*d.record, r);
  }
}

TEST(MemberRecord, SyncthingPeersThatAreNotAListOfStringsAreRefusedWhole) {
  for (json bad : {json("ABCDEFG-1234567"), json::array({"ABCDEFG-1234567", 7}), json::object()}) {
    json j = member_json();
    j["syncthing_peers"] = bad;
    auto d = decode_json(j);
    EXPECT_FALSE(d.record.has_value()) << bad.dump();
    EXPECT_NE(d.error.find("syncthing_peers"), std::string::npos) << d.error;
  }
}

TEST(MemberRecord, EncodedShapeCarriesSchemaOne) {
  json j = member_json();
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["role"], "leader");
  EXPECT_EQ(j["leader_epoch"], 4242);
  EXPECT_EQ(j["versions"]["consul"], "1.8.7");
}

TEST(MemberRecord, OptionalFieldsMayBeAbsent) {
  json j = member_json();
  j.erase("versions");
  j.erase("syncthing_device_id");
  j.erase("nginx_config");
  j.erase("vrrp_state");
  j.erase("holds_vip");
  j.erase("leader_epoch");
  j.erase("syncthing_peers");  // a supervisor from before the field: its peers wait for it to dial
  auto d = decode_json(j);
  ASSERT_TRUE(d.record.has_value()) << d.error;
  EXPECT_TRUE(d.record->syncthing_peers.empty());
  EXPECT_EQ(d.record->nginx_config, "");
  EXPECT_EQ(d.record->vrrp_state, "");
  EXPECT_FALSE(d.record->holds_vip);
  EXPECT_TRUE(d.record->versions.empty());
  EXPECT_EQ(d.record->syncthing_device_id, "");
  EXPECT_EQ(d.record->leader_epoch, 0u);
}

TEST(MemberRecord, MalformedJson) {
  auto d = decode_member("{\"schema\":1,");
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "malformed JSON");
}

TEST(MemberRecord, NotAnObject) {
  for (const char* text : {"[1,2]", "\"n1\"", "null", "1"}) {
    auto d = decode_member(text);
    EXPECT_FALSE(d.record.has_value()) << text;
    EXPECT_EQ(d.error, "not a JSON object") << text;
  }
}

TEST(MemberRecord, SchemaMissingOrNotANumber) {
  json j = member_json();
  j.erase("schema");
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "no schema number");

  j["schema"] = "1";
  auto s = decode_json(j);
  EXPECT_FALSE(s.record.has_value());
  EXPECT_EQ(s.error, "no schema number");
}

TEST(MemberRecord, NewerSchemaIsReportedAsSuch) {
  json j = member_json();
  j["schema"] = 2;
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "written with schema 2, this supervisor reads schema 1");
}

// The newest schema its writer reads: how a rolling upgrade knows when the
// newer layout may be written (cluster/member_schema.hpp).
TEST(MemberRecord, ReadsSchemaDefaultsToTheRecordsSchemaAndIsNeverBelowIt) {
  json j = member_json();
  EXPECT_EQ(j["reads_schema"], 1);
  j.erase("reads_schema");  // a supervisor from before the field
  auto old = decode_json(j);
  ASSERT_TRUE(old.record) << old.error;
  EXPECT_EQ(old.record->schema, 1);
  EXPECT_EQ(old.record->reads_schema, 1);
  j["reads_schema"] = 2;  // a newer supervisor writing the layout this one reads
  auto newer = decode_json(j);
  ASSERT_TRUE(newer.record) << newer.error;
  EXPECT_EQ(newer.record->reads_schema, 2);
  for (json bad : {json(0), json("2"), json(-1), json(2.5), json(10000000)}) {
    j["reads_schema"] = bad;
    auto d = decode_json(j);
    EXPECT_FALSE(d.record) << bad;
    EXPECT_TRUE(contains(d.error, "reads_schema")) << d.error;
  }
}

TEST(NodeRegistration, CarriesTheNewestMemberSchemaItsNodeReads) {
  NodeRegistration n{"n1", "198.18.0.11", "DEV1", 2};
  auto back = decode_node(encode(n));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, n);
  auto old = decode_node(R"({"schema":1,"name":"n1","address":"198.18.0.11"})");
  ASSERT_TRUE(old) << "a registration from before the field";
  EXPECT_EQ(old->reads_member_schema, 1);
  EXPECT_FALSE(decode_node(R"({"schema":1,"name":"n1","address":"198.18.0.11","reads_member_schema":0})"));
  EXPECT_FALSE(decode_node(R"({"schema":1,"name":"n1","address":"198.18.0.11","reads_member_schema":"2"})"));
}

TEST(MemberRecord, SchemaIsCheckedBeforeTheFields) {
  // A schema-2 record may have a different shape: the message must still name the schema.
  auto d = decode_member(R"({"schema":2,"who":"n1"})");
  EXPECT_FALSE(d.record.has_value());
  EXPECT_TRUE(contains(d.error, "written with schema 2"));
}

TEST(MemberRecord, UnknownRole) {
  json j = member_json();
  j["role"] = "master";
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "unknown role 'master'");
}

TEST(MemberRecord, MissingOrEmptyName) {
  json j = member_json();
  j.erase("name");
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "missing name");

  j["name"] = "";
  auto e = decode_json(j);
  EXPECT_FALSE(e.record.has_value());
  EXPECT_EQ(e.error, "empty name");

  j["name"] = 7;
  auto t = decode_json(j);
  EXPECT_FALSE(t.record.has_value());
  EXPECT_EQ(t.error, "name is not a string");
}

TEST(MemberRecord, MissingRequiredStrings) {
  for (const char* field : {"address", "role", "health", "since"}) {
    json j = member_json();
    j.erase(field);
    auto d = decode_json(j);
    EXPECT_FALSE(d.record.has_value()) << field;
    EXPECT_EQ(d.error, std::string("missing ") + field);
  }
  json j = member_json();
  j["syncthing_device_id"] = 3;
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "syncthing_device_id is not a string");
}

TEST(MemberRecord, FloatingIpFieldsOfTheWrongTypeAreRefused) {
  json j = member_json();
  j["holds_vip"] = "yes";
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "holds_vip is not a boolean");
  j = member_json();
  j["vrrp_state"] = 1;
  EXPECT_EQ(decode_json(j).error, "vrrp_state is not a string");
}

TEST(MemberRecord, VersionsNotAnObject) {
  json j = member_json();
  j["versions"] = json::array({"0.1.0"});
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "versions is not an object");

  j["versions"] = {{"supervisor", 1}};
  auto v = decode_json(j);
  EXPECT_FALSE(v.record.has_value());
  EXPECT_EQ(v.error, "version of supervisor is not a string");
}

TEST(MemberRecord, LeaderEpochNegativeOrNotANumber) {
  json j = member_json();
  j["leader_epoch"] = -1;
  auto d = decode_json(j);
  EXPECT_FALSE(d.record.has_value());
  EXPECT_EQ(d.error, "leader_epoch is not an unsigned number");

  j["leader_epoch"] = "42";
  EXPECT_FALSE(decode_json(j).record.has_value());
  j["leader_epoch"] = 4.5;
  EXPECT_FALSE(decode_json(j).record.has_value());
}

// ---------------------------------------------------------------- leader value

TEST(LeaderValue, RoundTrip) {
  LeaderValue v{"n3", "198.18.0.3"};
  auto d = decode_leader_value(encode(v));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->name, "n3");
  EXPECT_EQ(d->address, "198.18.0.3");
}

TEST(LeaderValue, AddressIsOptional) {
  auto d = decode_leader_value(R"({"name":"n3"})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->name, "n3");
  EXPECT_EQ(d->address, "");
}

TEST(LeaderValue, Errors) {
  EXPECT_FALSE(decode_leader_value("").has_value());
  EXPECT_FALSE(decode_leader_value("n3").has_value());
  EXPECT_FALSE(decode_leader_value("[\"n3\"]").has_value());
  EXPECT_FALSE(decode_leader_value(R"({"address":"198.18.0.3"})").has_value());
  EXPECT_FALSE(decode_leader_value(R"({"name":3})").has_value());
  EXPECT_FALSE(decode_leader_value(R"({"name":"n3","address":5})").has_value());
}

// ---------------------------------------------------------------- maintenance intent

TEST(MaintenanceIntent, RoundTripEnabledAndDisabled) {
  for (bool enabled : {true, false}) {
    MaintenanceIntent i;
    i.enabled = enabled;
    i.requested_by = "alice@ops";
    i.at = "2024-05-01T12:00:00Z";
    auto d = decode_maintenance(encode(i));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->enabled, enabled);
    EXPECT_EQ(d->requested_by, "alice@ops");
    EXPECT_EQ(d->at, "2024-05-01T12:00:00Z");
  }
}

TEST(MaintenanceIntent, OnlyEnabledIsRequired) {
  auto d = decode_maintenance(R"({"enabled":true})");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->enabled);
  EXPECT_EQ(d->requested_by, "");
  EXPECT_EQ(d->at, "");
}

TEST(MaintenanceIntent, Errors) {
  EXPECT_FALSE(decode_maintenance("").has_value());
  EXPECT_FALSE(decode_maintenance("true").has_value());
  EXPECT_FALSE(decode_maintenance("{}").has_value());
  EXPECT_FALSE(decode_maintenance(R"({"enabled":"yes"})").has_value());
  EXPECT_FALSE(decode_maintenance(R"({"enabled":1})").has_value());
  EXPECT_FALSE(decode_maintenance(R"({"enabled":null})").has_value());
}

// ---------------------------------------------------------------- cluster state

ClusterState full_state() {
  ClusterState s;
  s.leader = "n1";
  s.epoch = 77;
  s.members = {"n1", "n2", "n3"};
  s.changed_at = "2024-05-01T12:00:00Z";
  return s;
}

json state_json() { return json::parse(encode(full_state())); }

TEST(ClusterState, RoundTrip) {
  auto d = decode_cluster_state(encode(full_state()));
  ASSERT_TRUE(d.state.has_value()) << d.error;
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(d.state->leader, "n1");
  EXPECT_EQ(d.state->epoch, 77u);
  EXPECT_EQ(d.state->members, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(d.state->changed_at, "2024-05-01T12:00:00Z");
  EXPECT_EQ(*d.state, full_state());
  EXPECT_EQ(state_json()["schema"], 1);
}

TEST(ClusterState, RoundTripWithNoMembers) {
  ClusterState s;
  s.leader = "n1";
  s.epoch = 1;
  auto d = decode_cluster_state(encode(s));
  ASSERT_TRUE(d.state.has_value()) << d.error;
  EXPECT_TRUE(d.state->members.empty());
}

TEST(ClusterState, Errors) {
  EXPECT_EQ(decode_cluster_state("{").error, "malformed JSON");
  EXPECT_EQ(decode_cluster_state("[]").error, "not a JSON object");

  json j = state_json();
  j["schema"] = 2;
  auto newer = decode_cluster_state(j.dump());
  EXPECT_FALSE(newer.state.has_value());
  EXPECT_EQ(newer.error, "written with schema 2, this supervisor reads schema 1");

  j = state_json();
  j.erase("schema");
  EXPECT_EQ(decode_cluster_state(j.dump()).error, "no schema number");

  j = state_json();
  j.erase("leader");
  EXPECT_EQ(decode_cluster_state(j.dump()).error, "missing leader");

  j = state_json();
  j.erase("changed_at");
  EXPECT_EQ(decode_cluster_state(j.dump()).error, "missing changed_at");

  j = state_json();
  j["epoch"] = -5;
  auto negative = decode_cluster_state(j.dump());
  EXPECT_FALSE(negative.state.has_value());
  EXPECT_EQ(negative.error, "epoch missing or not an unsigned number");

  j = state_json();
  j.erase("epoch");
  EXPECT_EQ(decode_cluster_state(j.dump()).error, "epoch missing or not an unsigned number");

  j = state_json();
  j["members"] = "n1,n2";
  EXPECT_EQ(decode_cluster_state(j.dump()).error, "members missing or not an array");

  j = state_json();
  j["members"] = json::array({"n1", 2});
  auto mixed = decode_cluster_state(j.dump());
  EXPECT_FALSE(mixed.state.has_value());
  EXPECT_EQ(mixed.error, "members holds a non-string");
}

TEST(UtcNow, IsIso8601Utc) {
  std::string now = utc_now_iso8601();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[7], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now[13], ':');
  EXPECT_EQ(now[16], ':');
  EXPECT_EQ(now[19], 'Z');
  EXPECT_GE(now.substr(0, 4), "2024");
}

}  // namespace
}  // namespace hasup::cluster
