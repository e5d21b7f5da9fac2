// syncthing 1.19.2's answers as the gate reads them, from JSON captured off a
// real instance (upload_gate_syncthing_captured.hpp); garbage must never read
// as "replicated".
#include <gtest/gtest.h>

#include "components/upload-gate/syncthing_client.hpp"
#include "components/upload-gate/syncthing_parse.hpp"
#include "tests/unit/upload_gate_syncthing_captured.hpp"

namespace hasup::upload_gate {
namespace {

const std::string kN1 = "6ZNUXQP-YMQN2NF-EYSEB7G-NVM73JF-IQXZNQM-GPY4SK4-6HS2BDX-PXXXKAA";
const std::string kN2 = "JB7LXOU-RUNRCX4-UYCI74M-CNCDIUJ-NMHXVT7-XF7B52B-LL6XUDV-S57AOQW";

TEST(GateSyncthingParse, AFileOnThePeer) {
  auto f = parse_db_file(captured::kFileSynced);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_TRUE(f.value->local_is_global);
  EXPECT_FALSE(f.value->local_deleted);
  EXPECT_FALSE(f.value->local_invalid);
  EXPECT_EQ(f.value->version, R"(["6ZNUXQP:1795344381"])");
  EXPECT_EQ(f.value->available_on, std::vector<std::string>{kN2});
}

TEST(GateSyncthingParse, ADeletionAndADirectory) {
  auto deleted = parse_db_file(captured::kFileDeletedSynced);
  ASSERT_TRUE(deleted.value) << deleted.error;
  EXPECT_TRUE(deleted.value->local_deleted);
  EXPECT_TRUE(deleted.value->local_is_global);
  EXPECT_EQ(deleted.value->available_on, std::vector<std::string>{kN2});
  auto dir = parse_db_file(captured::kDirSynced);
  ASSERT_TRUE(dir.value) << dir.error;
  EXPECT_EQ(dir.value->available_on.size(), 1u);
}

TEST(GateSyncthingParse, PeerDownMeansNullAvailability) {
  auto f = parse_db_file(captured::kFilePeerDown);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_TRUE(f.value->available_on.empty());
  auto c = parse_connections(captured::kConnectionsPeerDown);
  ASSERT_TRUE(c.value) << c.error;
  EXPECT_FALSE(c.value->at(kN2));
}

TEST(GateSyncthingParse, LocalOlderThanGlobalIsNotReplicatedHere) {
  std::string body = captured::kFileSynced;
  auto at = body.find("\"local\"");
  body.replace(body.find("1795344381", at), 10, "1795344000");
  auto f = parse_db_file(body);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_FALSE(f.value->local_is_global);
}

TEST(GateSyncthingParse, ATemporaryCopyIsNotAHolder) {
  std::string body = captured::kFileSynced;
  body.replace(body.find("\"fromTemporary\":false"), 21, "\"fromTemporary\":true");
  auto f = parse_db_file(body);
  ASSERT_TRUE(f.value) << f.error;
  EXPECT_TRUE(f.value->available_on.empty());
}

TEST(GateSyncthingParse, TopologyAnswers) {
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

TEST(GateSyncthingParse, NamesThatCannotGoIntoAHeaderBecomeTheShortId) {
  auto names = parse_device_names(R"([{"deviceID":"ABCDEFG-HIJ","name":"n2\r\nX-Evil: 1"},{"deviceID":"KLMNOPQ-R","name":""}])");
  ASSERT_TRUE(names.value);
  EXPECT_EQ(names.value->at("ABCDEFG-HIJ"), "ABCDEFG");
  EXPECT_EQ(names.value->at("KLMNOPQ-R"), "KLMNOPQ");
}

TEST(GateSyncthingParse, RemoteNeedAndEvents) {
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

TEST(GateSyncthingParse, GarbageIsAnErrorNeverAnAnswer) {
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

TEST(GateSyncthingParse, ScanTargetsRepeatSubAndEscape) {
  EXPECT_EQ(SyncthingClient::scan_target("resources", {"blueprints/a b/archive", "x&y"}),
            "/rest/db/scan?folder=resources&sub=blueprints%2Fa%20b%2Farchive&sub=x%26y");
  EXPECT_EQ(SyncthingClient::scan_target("resources", {}), "/rest/db/scan?folder=resources");
  EXPECT_EQ(SyncthingClient::file_target("res", "d/e.txt"), "/rest/db/file?folder=res&file=d%2Fe.txt");
}

}  // namespace
}  // namespace hasup::upload_gate
