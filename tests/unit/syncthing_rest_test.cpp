// syncthing 1.19.2's answers through the one parser set (components/syncthing,
// used by the supervisor and the upload gate), from JSON captured off a real
// instance (syncthing_captured.hpp); garbage must never read as "replicated".
// The client's targets, escaped in one place.
#include <gtest/gtest.h>

#include "components/syncthing/client.hpp"
#include "components/syncthing/observe_parse.hpp"
#include "tests/unit/syncthing_captured.hpp"

namespace hasup::syncthing {
namespace {

const std::string kN1 = "6ZNUXQP-YMQN2NF-EYSEB7G-NVM73JF-IQXZNQM-GPY4SK4-6HS2BDX-PXXXKAA";
const std::string kN2 = "JB7LXOU-RUNRCX4-UYCI74M-CNCDIUJ-NMHXVT7-XF7B52B-LL6XUDV-S57AOQW";

// The whole config's devices, as the supervisor reads them off GET /rest/config.
TEST(SyncthingRestParse, ConfigDevices) {
  auto devices = parse_config_devices(R"({"version":35,"devices":[{"deviceID":")" + kN1 +
                                      R"(","name":"n1"},{"deviceID":")" + kN2 + R"("}],"folders":[]})");
  ASSERT_TRUE(devices.value) << devices.error;
  EXPECT_EQ(*devices.value, (std::vector<ConfigDevice>{{kN1, "n1"}, {kN2, ""}}));
  EXPECT_FALSE(parse_config_devices(R"({"folders":[]})").value) << "no devices list: not a syncthing config";
  EXPECT_FALSE(parse_config_devices(R"({"devices":[{"name":"x"}]})").value) << "a device without id";
  EXPECT_FALSE(parse_config_devices("<html>").value);
  EXPECT_NE(parse_config_devices("[]").error.find("not a JSON object"), std::string::npos);
}

TEST(SyncthingRestParse, RestartRequired) {
  EXPECT_EQ(parse_restart_required(R"({"requiresRestart":true})").value, true);
  EXPECT_EQ(parse_restart_required(R"({"requiresRestart":false})").value, false);
  EXPECT_FALSE(parse_restart_required(R"({"requiresRestart":"yes"})").value);
  EXPECT_FALSE(parse_restart_required("").value);
}

TEST(SyncthingRestParse, AFileOnThePeer) {
  auto f = parse_db_file(captured::kFileSynced);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_TRUE(f.value->local_is_global);
  EXPECT_FALSE(f.value->local_deleted);
  EXPECT_FALSE(f.value->local_invalid);
  EXPECT_EQ(f.value->version, R"(["6ZNUXQP:1795344381"])");
  EXPECT_EQ(f.value->available_on, std::vector<std::string>{kN2});
}

TEST(SyncthingRestParse, ADeletionAndADirectory) {
  auto deleted = parse_db_file(captured::kFileDeletedSynced);
  ASSERT_TRUE(deleted.value) << deleted.error;
  EXPECT_TRUE(deleted.value->local_deleted);
  EXPECT_TRUE(deleted.value->local_is_global);
  EXPECT_EQ(deleted.value->available_on, std::vector<std::string>{kN2});
  auto dir = parse_db_file(captured::kDirSynced);
  ASSERT_TRUE(dir.value) << dir.error;
  EXPECT_EQ(dir.value->available_on.size(), 1u);
}

TEST(SyncthingRestParse, PeerDownMeansNullAvailability) {
  auto f = parse_db_file(captured::kFilePeerDown);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_TRUE(f.value->available_on.empty());
  auto c = parse_connections(captured::kConnectionsPeerDown);
  ASSERT_TRUE(c.value) << c.error;
  EXPECT_FALSE(c.value->at(kN2));
}

TEST(SyncthingRestParse, LocalOlderThanGlobalIsNotReplicatedHere) {
  std::string body = captured::kFileSynced;
  auto at = body.find("\"local\"");
  body.replace(body.find("1795344381", at), 10, "1795344000");
  auto f = parse_db_file(body);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_FALSE(f.value->local_is_global);
}

TEST(SyncthingRestParse, ATemporaryCopyIsNotAHolder) {
  std::string body = captured::kFileSynced;
  body.replace(body.find("\"fromTemporary\":false"), 21, "\"fromTemporary\":true");
  auto f = parse_db_file(body);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_TRUE(f.value->available_on.empty());
}

TEST(SyncthingRestParse, TopologyAnswers) {
  auto id = parse_my_id(captured::kSystemStatus);
  ASSERT_TRUE(id.value);
  EXPECT_EQ(*id.value, kN1);
  auto devices = parse_folder_devices(captured::kFolder);
  ASSERT_TRUE(devices.value) << devices.error;
  EXPECT_EQ(*devices.value, (std::vector<std::string>{kN2, kN1}));
  auto names = parse_device_names(captured::kDevices);
  ASSERT_TRUE(names.value) << names.error;
  EXPECT_EQ(names.value->at(kN2), "n2");
  EXPECT_EQ(names.value->at(kN1), "n1");
  auto connections = parse_connections(captured::kConnections);
  ASSERT_TRUE(connections.value) << connections.error;
  EXPECT_TRUE(connections.value->at(kN2));
  auto completion = parse_completion(captured::kCompletion);
  ASSERT_TRUE(completion.value) << completion.error;
  EXPECT_TRUE(completion.value->complete());
}

TEST(SyncthingRestParse, NamesThatCannotGoIntoAHeaderBecomeTheShortId) {
  auto names = parse_device_names(R"([{"deviceID":"ABCDEFG-HIJ","name":"n2\r\nX-Evil: 1"},{"deviceID":"KLMNOPQ-R","name":""}])");
  ASSERT_TRUE(names.value);
  EXPECT_EQ(names.value->at("ABCDEFG-HIJ"), "ABCDEFG");
  EXPECT_EQ(names.value->at("KLMNOPQ-R"), "KLMNOPQ");
}

TEST(SyncthingRestParse, RemoteNeedAndEvents) {
  // The shape of /rest/db/remoteneed (api.go getDBRemoteNeed: files, page, perpage).
  auto need = parse_remote_need(R"({"files":[{"name":"a.txt","deleted":true}],"page":1,"perpage":4096})");
  ASSERT_TRUE(need.value) << need.error;
  EXPECT_EQ(need.value->count("a.txt"), 1u);
  auto last = parse_last_event_id(
      R"([{"id":7,"globalID":30,"time":"2026-11-22T10:46:21Z","type":"RemoteIndexUpdated","data":{"device":"X","folder":"res","items":1}},{"id":9,"globalID":31,"type":"RemoteIndexUpdated","data":{}}])",
      5);
  ASSERT_TRUE(last.value) << last.error;
  EXPECT_EQ(*last.value, 9);
  EXPECT_EQ(*parse_last_event_id("[]", 5).value, 5);
}

TEST(SyncthingRestParse, GarbageIsAnErrorNeverAnAnswer) {
  for (const char* garbage : {"", "<html>502 Bad Gateway</html>", "{}", "[]", "null", R"({"local":{},"global":{}})",
                              R"({"availability":"everyone","local":{"version":[],"deleted":false},"global":{"version":[],"deleted":false}})"}) {
    EXPECT_FALSE(parse_db_file(garbage).value) << garbage;
    EXPECT_FALSE(parse_my_id(garbage).value) << garbage;
    EXPECT_FALSE(parse_completion(garbage).value) << garbage;
    EXPECT_FALSE(parse_connections(garbage).value) << garbage;
    EXPECT_FALSE(parse_folder_devices(garbage).value) << garbage;
  }
  EXPECT_FALSE(parse_device_names("{}").value);
  EXPECT_FALSE(parse_last_event_id("{}", 0).value);
  EXPECT_NE(parse_db_file("<html>").error.find("not a JSON object"), std::string::npos);
}

TEST(SyncthingClientTargets, ScanTargetsRepeatSubAndEscape) {
  EXPECT_EQ(Client::scan_target("resources", {"blueprints/a b/archive", "x&y"}),
            "/rest/db/scan?folder=resources&sub=blueprints%2Fa%20b%2Farchive&sub=x%26y");
  EXPECT_EQ(Client::scan_target("resources", {}), "/rest/db/scan?folder=resources");
  EXPECT_EQ(Client::file_target("res", "d/e.txt"), "/rest/db/file?folder=res&file=d%2Fe.txt");
  EXPECT_EQ(Client::folder_status_target("ha-a b"), "/rest/db/status?folder=ha-a%20b");
}

// ---- where the supervisor's and the gate's former parsers differed --------

// The gate counted a paused device as not connected, the supervisor did not
// look: kept, for both (nothing is exchanged with a paused device; syncthing
// closes its connection anyway).
TEST(SyncthingRestParse, APausedDeviceIsNotConnected) {
  std::string body = captured::kConnections;
  const auto at = body.find(kN2);
  body.replace(body.find("\"paused\":false", at), 14, "\"paused\":true");
  auto c = parse_connections(body);
  ASSERT_TRUE(c.value) << c.error;
  EXPECT_FALSE(c.value->at(kN2));
}

// The supervisor refused a key that is not a device id, the gate took any:
// kept (a garbled answer is never half used).
TEST(SyncthingRestParse, AConnectionKeyThatIsNotADeviceIdIsAnError) {
  auto c = parse_connections(R"({"connections":{"PEER1":{"connected":true,"paused":false}}})");
  EXPECT_FALSE(c.value);
  EXPECT_NE(c.error.find("device id"), std::string::npos) << c.error;
}

// The gate took any non-empty myID, the supervisor only a device id: kept.
TEST(SyncthingRestParse, MyIdMustBeADeviceId) {
  EXPECT_FALSE(parse_my_id(R"({"myID":"n1"})").value);
  EXPECT_FALSE(parse_my_id(R"({"myID":""})").value);
  EXPECT_EQ(parse_my_id(captured::kSystemStatus).value.value_or(""), kN1);
}

// Completion: the supervisor wanted the percentage (0..100) and non-negative
// counts, the gate whole numbers without the percentage. Kept: all of it.
TEST(SyncthingRestParse, CompletionWantsThePercentageAndWholeCounts) {
  auto c = parse_completion(captured::kCompletion);
  ASSERT_TRUE(c.value) << c.error;
  EXPECT_EQ(c.value->percent, 100);
  EXPECT_TRUE(c.value->complete());
  auto behind = parse_completion(R"({"completion":50,"needItems":2,"needBytes":10,"needDeletes":0})");
  ASSERT_TRUE(behind.value) << behind.error;
  EXPECT_FALSE(behind.value->complete());
  EXPECT_EQ(behind.value->need_items, 2);
  auto no_percent = parse_completion(R"({"needItems":0,"needBytes":0,"needDeletes":0})");
  EXPECT_FALSE(no_percent.value);
  EXPECT_NE(no_percent.error.find("completion"), std::string::npos) << no_percent.error;
  auto fraction = parse_completion(R"({"completion":99.5,"needItems":0.5,"needBytes":0,"needDeletes":0})");
  EXPECT_FALSE(fraction.value);
  EXPECT_NE(fraction.error.find("needItems"), std::string::npos) << fraction.error;
  EXPECT_FALSE(parse_completion(R"({"completion":100,"needItems":0,"needBytes":-1,"needDeletes":0})").value);
}

// Four counts that each fit but whose sum does not: an error, never a sum that
// wrapped (to 0 here: "nothing to apply"). UB before the fix: UBSan in the fuzz
// harness (tests/fuzz/syncthing_rest.cpp) stops on corpus/syncthing_rest/crash-need-items-overflow.
TEST(SyncthingRestParse, FolderStatusCountsThatOverflowTogetherAreAnError) {
  const std::string quarter = std::to_string(std::int64_t{1} << 62);
  auto status = parse_folder_status(R"({"state":"idle","needFiles":)" + quarter + R"(,"needDirectories":)" + quarter +
                                    R"(,"needSymlinks":)" + quarter + R"(,"needDeletes":)" + quarter +
                                    R"(,"needBytes":0})");
  EXPECT_FALSE(status.value) << "need_items " << status.value->need_items;
  EXPECT_NE(status.error.find("over 2^63"), std::string::npos) << status.error;
}

// Every error that is about a body that is not JSON quotes its start, so a
// proxy's HTML page is recognised in the log.
TEST(SyncthingRestParse, ANonJsonAnswerIsQuotedInTheError) {
  for (const auto& error : {parse_my_id("<html>502</html>").error, parse_connections("<html>502</html>").error,
                            parse_completion("<html>502</html>").error, parse_folder_status("<html>502</html>").error,
                            parse_db_file("<html>502</html>").error})
    EXPECT_NE(error.find("not a JSON object: '<html>502</html>'"), std::string::npos) << error;
}

}  // namespace
}  // namespace hasup::syncthing
