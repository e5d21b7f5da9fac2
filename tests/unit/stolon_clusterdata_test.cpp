// stolon 0.17 clusterdata -> DbClusterView, on two real dumps of a 3-keeper
// cluster on PostgreSQL 15 (tests/fixtures/stolon/): right after start-up, and
// after two failovers (master moved k3 -> k1, k2 lost its db and is down).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "components/stolon/clusterdata.hpp"

namespace hasup::stolon {
namespace {

using nlohmann::json;

json fixture(const std::string& name) {
  std::ifstream file(std::string(HA_SOURCE_DIR) + "/tests/fixtures/stolon/" + name);
  EXPECT_TRUE(file.good()) << name;
  std::stringstream text;
  text << file.rdbuf();
  return json::parse(text.str());
}

json initial() { return fixture("clusterdata-initial.json"); }
json after_failovers() { return fixture("clusterdata-after-failovers.json"); }

// In the initial dump: the master's db (keeper k3), k2's (sync) and k1's.
const std::string kMasterDb = "376514bf";
const std::string kK2Db = "472d0786";
const std::string kK1Db = "bd53b71b";

db::DbClusterView parsed_view(const json& data) {
  auto parse = parse_stolon_clusterdata(data.dump());
  EXPECT_TRUE(parse.error.empty()) << parse.error;
  EXPECT_TRUE(parse.view.has_value());
  return parse.view.value_or(db::DbClusterView{});
}

std::vector<std::string> names(const db::DbClusterView& view) {
  std::vector<std::string> out;
  for (const auto& m : view.members) out.push_back(m.name);
  return out;
}

bool printable_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

TEST(StolonClusterdata, ReadsTheInitialDump) {
  const auto view = parsed_view(initial());
  EXPECT_EQ(view.backend, "stolon");
  EXPECT_TRUE(view.initialized);
  EXPECT_EQ(view.primary, "k3");
  EXPECT_FALSE(view.switching);
  EXPECT_EQ(view.primary_wal_position, 83886176u);
  EXPECT_EQ(view.primary_timeline, 1u);
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"k2"});
  EXPECT_TRUE(view.problems.empty());
  ASSERT_EQ(names(view), (std::vector<std::string>{"k1", "k2", "k3"}));
  EXPECT_EQ(view.members[0], (db::DbMember{"k1", db::DbRole::replica, "127.0.0.1", 5501, true, "healthy", 83886176u, 1u}));
  EXPECT_EQ(view.members[1],
            (db::DbMember{"k2", db::DbRole::sync_standby, "127.0.0.1", 5502, true, "healthy", 83886176u, 1u}));
  EXPECT_EQ(view.members[2], (db::DbMember{"k3", db::DbRole::primary, "127.0.0.1", 5503, true, "healthy", 83886176u, 1u}));
}

TEST(StolonClusterdata, ReadsTheDumpAfterTwoFailovers) {
  const auto view = parsed_view(after_failovers());
  EXPECT_EQ(view.primary, "k1");
  EXPECT_FALSE(view.switching);
  EXPECT_EQ(view.primary_wal_position, 318802936u);
  EXPECT_EQ(view.primary_timeline, 9u);
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"k3"});
  EXPECT_TRUE(view.problems.empty());
  ASSERT_EQ(names(view), (std::vector<std::string>{"k1", "k2", "k3"}));
  EXPECT_EQ(view.members[0], (db::DbMember{"k1", db::DbRole::primary, "127.0.0.1", 5501, true, "healthy", 318802936u, 9u}));
  // k2's keeper is down (no "healthy": Go omits false) and the sentinel removed its db.
  EXPECT_EQ(view.members[1], (db::DbMember{"k2", db::DbRole::unknown, "", 0, false, "no db", std::nullopt, std::nullopt}));
  EXPECT_EQ(view.members[2],
            (db::DbMember{"k3", db::DbRole::sync_standby, "127.0.0.1", 5503, true, "healthy", 318802936u, 9u}));
}

TEST(StolonClusterdata, NoMasterForTheProxiesMeansASwitchIsUnderWay) {
  auto data = initial();
  data["proxy"]["spec"].erase("masterDbUid");
  const auto view = parsed_view(data);
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  EXPECT_TRUE(view.sync_standbys.empty());
  EXPECT_FALSE(view.primary_timeline.has_value());
  EXPECT_FALSE(view.primary_wal_position.has_value());
  EXPECT_EQ(view.member("k3")->role, db::DbRole::unknown);
  EXPECT_EQ(view.member("k1")->role, db::DbRole::replica);
  EXPECT_EQ(view.member("k2")->role, db::DbRole::replica);
  EXPECT_TRUE(view.problems.empty());
}

// What the sentinel writes when it elects k2: cluster.status.master and k2's
// spec.role change, masterDbUid is cleared, the old master keeps role master.
json k2_elected() {
  auto data = initial();
  data["cluster"]["status"]["master"] = kK2Db;
  data["dbs"][kK2Db]["spec"]["role"] = "master";
  data["dbs"][kK2Db]["spec"]["synchronousStandbys"] = json::array({kMasterDb});
  data["dbs"][kMasterDb]["spec"]["followers"] = json::array();
  data["proxy"]["spec"].erase("masterDbUid");
  return data;
}

TEST(StolonClusterdata, ANewMasterIsNoPrimaryUntilTheProxiesAreToldToUseIt) {
  const auto electing = parsed_view(k2_elected());
  EXPECT_EQ(electing.primary, "");
  EXPECT_TRUE(electing.switching);
  EXPECT_EQ(electing.member("k2")->role, db::DbRole::unknown);
  EXPECT_EQ(electing.member("k3")->role, db::DbRole::unknown);  // the old master, spec.role still "master"
  EXPECT_EQ(electing.member("k1")->role, db::DbRole::replica);

  auto data = k2_elected();
  data["proxy"]["spec"]["masterDbUid"] = kK2Db;
  const auto switched = parsed_view(data);
  EXPECT_EQ(switched.primary, "k2");
  EXPECT_FALSE(switched.switching);
  EXPECT_EQ(switched.member("k2")->role, db::DbRole::primary);
  EXPECT_EQ(switched.member("k3")->role, db::DbRole::unknown);
  // k2's keeper has not reported the old master as in sync yet (status null).
  EXPECT_TRUE(switched.sync_standbys.empty());
  EXPECT_EQ(switched.primary_timeline, 1u);
}

TEST(StolonClusterdata, AProxyMasterThatIsNotTheClusterMasterIsASwitch) {
  auto data = initial();
  data["proxy"]["spec"]["masterDbUid"] = kK2Db;
  const auto view = parsed_view(data);
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
}

TEST(StolonClusterdata, SyncStandbysAreInBothSpecAndStatusOfTheMaster) {
  auto data = initial();
  data["dbs"][kMasterDb]["status"]["synchronousStandbys"] = nullptr;  // not yet known to be in sync
  auto view = parsed_view(data);
  EXPECT_TRUE(view.sync_standbys.empty());
  EXPECT_EQ(view.member("k2")->role, db::DbRole::replica);

  data["dbs"][kMasterDb]["status"]["synchronousStandbys"] = json::array({kK1Db, kK2Db});
  view = parsed_view(data);
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"k2"});  // k1 is not in spec
  EXPECT_EQ(view.member("k1")->role, db::DbRole::replica);

  data["dbs"][kMasterDb]["spec"]["synchronousStandbys"] = json::array({kK1Db, kK2Db});
  view = parsed_view(data);
  EXPECT_EQ(view.sync_standbys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(view.member("k1")->role, db::DbRole::sync_standby);
}

TEST(StolonClusterdata, HealthNeedsTheDbAndItsKeeper) {
  auto data = initial();
  data["keepers"]["k1"]["status"].erase("healthy");  // how Go writes false
  data["dbs"][kK2Db]["status"]["healthy"] = false;
  const auto view = parsed_view(data);
  EXPECT_FALSE(view.member("k1")->healthy);
  EXPECT_EQ(view.member("k1")->state, "keeper unhealthy");
  EXPECT_FALSE(view.member("k2")->healthy);
  EXPECT_EQ(view.member("k2")->state, "unhealthy");
  EXPECT_TRUE(view.member("k3")->healthy);
  EXPECT_EQ(view.member("k1")->role, db::DbRole::replica);
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"k2"});
}

TEST(StolonClusterdata, ADbWhoseKeeperHasNotAppliedItsGenerationIsConverging) {
  auto data = initial();
  data["dbs"][kK1Db]["generation"] = 3;  // status.currentGeneration is 2
  const auto view = parsed_view(data);
  EXPECT_EQ(view.member("k1")->state, "converging");
  EXPECT_TRUE(view.member("k1")->healthy);
}

TEST(StolonClusterdata, ADbNotReportedOnYetHasNoAddress) {
  auto data = after_failovers();
  data["dbs"]["0a0b0c0d"] = {{"uid", "0a0b0c0d"},
                             {"generation", 1},
                             {"spec", {{"keeperUID", "k2"}, {"role", "standby"}, {"synchronousStandbys", nullptr}}},
                             {"status", json::object()}};
  const auto view = parsed_view(data);
  EXPECT_EQ(view.member("k2")->role, db::DbRole::replica);
  EXPECT_EQ(view.member("k2")->state, "keeper unhealthy");
  EXPECT_EQ(view.member("k2")->port, 0);
  EXPECT_FALSE(view.member("k2")->wal_position.has_value());
  EXPECT_TRUE(view.problems.empty());
}

// `change` applied to k1's db of the initial dump: k1 is left out with one
// problem that says `part`; the rest is kept; the problem line is printable.
// A db so broken that its keeperUID cannot be read leaves keeper k1 without a
// db: then k1 is a member with state "no db".
void expect_db_refused(const std::function<void(json&)>& change, const std::string& part,
                       bool keeper_readable = true) {
  auto data = initial();
  change(data["dbs"][kK1Db]);
  const auto view = parsed_view(data);
  SCOPED_TRACE(part);
  if (keeper_readable) {
    EXPECT_EQ(names(view), (std::vector<std::string>{"k2", "k3"}));
  } else {
    EXPECT_EQ(names(view), (std::vector<std::string>{"k1", "k2", "k3"}));
    EXPECT_EQ(view.member("k1")->state, "no db");
    EXPECT_EQ(view.member("k1")->port, 0);
  }
  EXPECT_EQ(view.primary, "k3");
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"k2"});
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_TRUE(view.problems[0].starts_with("db \"bd53b71b\": ")) << view.problems[0];
  EXPECT_NE(view.problems[0].find(part), std::string::npos) << view.problems[0];
  EXPECT_TRUE(printable_ascii(view.problems[0])) << view.problems[0];
  EXPECT_LT(view.problems[0].size(), 300u);
}

TEST(StolonClusterdata, ABadDbIsRefusedAndTheOthersKept) {
  expect_db_refused([](json& db) { db["status"]["port"] = "abc"; }, "status.port \"\\\"abc\\\"\"");
  expect_db_refused([](json& db) { db["status"]["port"] = "0"; }, "status.port");
  expect_db_refused([](json& db) { db["status"]["port"] = "65536"; }, "status.port");
  expect_db_refused([](json& db) { db["status"]["port"] = 5501; }, "status.port \"5501\"");
  expect_db_refused([](json& db) { db["status"]["listenAddress"] = "1.2.3.4; rm -rf /"; }, "status.listenAddress");
  expect_db_refused([](json& db) { db["status"]["xLogPos"] = -1; }, "status.xLogPos \"-1\"");
  expect_db_refused([](json& db) { db["status"]["xLogPos"] = 1e30; }, "status.xLogPos");
  expect_db_refused([](json& db) { db["status"]["xLogPos"] = "83886176"; }, "status.xLogPos");
  expect_db_refused([](json& db) { db["status"]["timelineID"] = 0; }, "status.timelineID");
  expect_db_refused([](json& db) { db["status"]["timelineID"] = 4294967296u; }, "status.timelineID");
  expect_db_refused([](json& db) { db["status"]["healthy"] = "yes"; }, "status.healthy");
  expect_db_refused([](json& db) { db["status"]["currentGeneration"] = -2; }, "status.currentGeneration");
  expect_db_refused([](json& db) { db["status"]["synchronousStandbys"] = "472d0786"; }, "status.synchronousStandbys");
  expect_db_refused([](json& db) { db["status"] = "up"; }, "status is not an object");
  expect_db_refused([](json& db) { db["spec"]["role"] = 1; }, "spec.role");
  expect_db_refused([](json& db) { db["spec"]["synchronousStandbys"] = {1}; }, "spec.synchronousStandbys");
  expect_db_refused([](json& db) { db.erase("spec"); }, "spec is missing", /*keeper_readable=*/false);
  expect_db_refused([](json& db) { db["uid"] = "376514bf"; }, "differs from its key");
  expect_db_refused([](json& db) { db = json::array(); }, "not a JSON object", /*keeper_readable=*/false);
}

TEST(StolonClusterdata, ADbWithABadKeeperUidLeavesItsKeeperWithoutDb) {
  auto data = initial();
  data["dbs"][kK1Db]["spec"]["keeperUID"] = "k1\nlevel=info msg=ok";
  const auto view = parsed_view(data);
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_NE(view.problems[0].find("spec.keeperUID \"\\\"k1\\\\nlevel=info msg=ok\\\"\""), std::string::npos)
      << view.problems[0];
  EXPECT_TRUE(printable_ascii(view.problems[0])) << view.problems[0];
  ASSERT_NE(view.member("k1"), nullptr);
  EXPECT_EQ(view.member("k1")->state, "no db");
  EXPECT_EQ(view.member("k1")->port, 0);
}

TEST(StolonClusterdata, ARefusedMasterDbLeavesNoPrimary) {
  auto data = initial();
  data["dbs"][kMasterDb]["status"]["port"] = "x";
  const auto view = parsed_view(data);
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  EXPECT_EQ(names(view), (std::vector<std::string>{"k1", "k2"}));
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_TRUE(view.problems[0].starts_with("db \"376514bf\": status.port")) << view.problems[0];
}

TEST(StolonClusterdata, AMasterThatNamesNoDbIsAProblem) {
  auto data = initial();
  data["cluster"]["status"]["master"] = "feedf00d";
  data["proxy"]["spec"]["masterDbUid"] = "feedf00d";
  const auto view = parsed_view(data);
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_EQ(view.problems[0], "cluster.status.master \"feedf00d\" names no db");
}

TEST(StolonClusterdata, ABadKeeperIsAProblemAndItsDbUnhealthy) {
  auto data = initial();
  data["keepers"]["k1"]["status"]["healthy"] = "yes";
  const auto view = parsed_view(data);
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_TRUE(view.problems[0].starts_with("keeper \"k1\": status.healthy")) << view.problems[0];
  EXPECT_FALSE(view.member("k1")->healthy);
  EXPECT_EQ(view.member("k1")->port, 5501);
}

TEST(StolonClusterdata, ControlCharactersInProblemsAreEscaped) {
  auto data = initial();
  data["keepers"]["k9\n\x1b[31mFAKE"] = data["keepers"]["k1"];
  data["dbs"]["db\r\n" + std::string(200, 'x')] = data["dbs"][kK1Db];
  const auto view = parsed_view(data);
  ASSERT_EQ(view.problems.size(), 2u);
  EXPECT_EQ(view.problems[0], "keeper \"k9\\x0a\\x1b[31mFAKE\": the UID is not [A-Za-z0-9._-]{1,128}");
  EXPECT_TRUE(view.problems[1].starts_with("db \"db\\x0d\\x0axxx")) << view.problems[1];
  EXPECT_NE(view.problems[1].find("xxx...\""), std::string::npos) << view.problems[1];
  for (const auto& line : view.problems) EXPECT_TRUE(printable_ascii(line)) << line;
  EXPECT_EQ(names(view), (std::vector<std::string>{"k1", "k2", "k3"}));
}

TEST(StolonClusterdata, TwoDbsForOneKeeperKeepTheMastersOrTheFirst) {
  auto data = initial();
  data["dbs"]["deadbeef"] = data["dbs"][kK1Db];
  data["dbs"]["deadbeef"]["uid"] = "deadbeef";
  data["dbs"]["deadbeef"]["status"]["port"] = "6001";
  data["dbs"]["00000000"] = data["dbs"][kK2Db];
  data["dbs"]["00000000"]["uid"] = "00000000";
  data["dbs"]["00000000"]["spec"]["keeperUID"] = "k3";  // sorts before the master's db
  const auto view = parsed_view(data);
  EXPECT_EQ(view.primary, "k3");
  EXPECT_EQ(view.member("k3")->port, 5503);
  EXPECT_EQ(view.member("k1")->port, 5501);
  ASSERT_EQ(view.problems.size(), 2u);
  EXPECT_NE(view.problems[0].find("\"00000000\""), std::string::npos) << view.problems[0];
  EXPECT_NE(view.problems[1].find("\"deadbeef\""), std::string::npos) << view.problems[1];
}

void expect_error(const std::string& text, const std::string& part) {
  const auto parse = parse_stolon_clusterdata(text);
  EXPECT_FALSE(parse.view.has_value()) << text.substr(0, 100);
  EXPECT_NE(parse.error.find(part), std::string::npos) << parse.error;
  EXPECT_TRUE(printable_ascii(parse.error)) << parse.error;
}

std::string initial_with(const std::function<void(json&)>& change) {
  auto data = initial();
  change(data);
  return data.dump();
}

TEST(StolonClusterdata, InputThatIsNotClusterdataIsAnErrorWithoutView) {
  expect_error("", "not JSON");
  expect_error("{\"formatVersion\": 1,\n\x01", "not JSON (syntax error at byte");
  expect_error("[]", "not a JSON object");
  expect_error("null", "not a JSON object");
  expect_error(std::string(1024 * 1024 + 1, ' '), "is over 1048576");
  expect_error(initial_with([](json& d) { d["formatVersion"] = 2; }), "formatVersion \"2\" is not 1");
  expect_error(initial_with([](json& d) { d["formatVersion"] = "1"; }), "formatVersion");
  expect_error(initial_with([](json& d) { d.erase("formatVersion"); }), "formatVersion (missing)");
  expect_error(initial_with([](json& d) { d.erase("cluster"); }), "no cluster object");
  expect_error(initial_with([](json& d) { d["cluster"] = "c"; }), "no cluster object");
  expect_error(initial_with([](json& d) { d["cluster"]["status"]["master"] = 5; }), "cluster.status.master");
  expect_error(initial_with([](json& d) { d["proxy"]["spec"]["masterDbUid"] = 7; }), "masterDbUid");
  expect_error(initial_with([](json& d) { d["proxy"] = "p"; }), "proxy is not an object");
  expect_error(initial_with([](json& d) { d["dbs"] = json::array(); }), "keepers or dbs");
  expect_error(initial_with([](json& d) { d["keepers"] = "k1"; }), "keepers or dbs");
}

// nlohmann reports a number beyond a double as out_of_range, not as a
// parse_error: it escaped the parser (std::terminate) until the fuzz harness
// tests/fuzz/database_state.cpp found it.
TEST(StolonClusterdata, ANumberBeyondADoubleIsAnErrorNotAnException) {
  expect_error("3e999", "not JSON (a number out of range)");
  std::string dump = initial().dump();
  dump.insert(1, "\"x\":1e999,");  // a field stolon does not write, in a real dump
  expect_error(dump, "number out of range");
}

TEST(StolonClusterdata, NullKeepersAndDbsAreAnEmptyCluster) {
  // Go writes nil maps as null: a cluster just created by stolonctl init.
  auto data = initial();
  data["keepers"] = nullptr;
  data["dbs"] = nullptr;
  data["cluster"]["status"].erase("master");
  data["proxy"]["spec"].erase("masterDbUid");
  const auto view = parsed_view(data);
  EXPECT_TRUE(view.initialized);
  EXPECT_TRUE(view.members.empty());
  EXPECT_TRUE(view.switching);
  EXPECT_TRUE(view.problems.empty());
}

}  // namespace
}  // namespace hasup::stolon
