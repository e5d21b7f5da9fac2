// syncthing as the supervisor drives it: the config plan against real
// syncthing 1.19.2 answers (tests/fixtures/syncthing), the parsers, and the
// decisions fed with snapshots.
#include <gtest/gtest.h>

#include "components/pause/record.hpp"
#include "tests/unit/known_nodes_helper.hpp"
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "components/syncthing/config_plan.hpp"
#include "components/syncthing/observe_parse.hpp"
#include "supervisor/loop/decide.hpp"
#include "components/syncthing/decide.hpp"
#include "components/syncthing/key_record.hpp"

namespace hasup {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kN1 = "WA6Q7RW-GGK2IAD-ZEYW6TJ-NHJ4U5X-5UAADV2-TN45NS4-Z2BXPZK-OV3VRQG";
const std::string kN2 = "TISPYQG-B7JRFD5-LU3LN6D-KQKF76U-KQIMXJH-NZSNGHN-JHCXLZ7-SCQ3IQY";
const std::string kN3 = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-2345672";

std::string fixture(const std::string& name) {
  std::ifstream in(HA_SOURCE_DIR "/tests/fixtures/syncthing/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

syncthing::DesiredConfig two_nodes() {
  syncthing::DesiredConfig d;
  d.self_name = "n1";
  d.self_device_id = kN1;
  d.listen_address = "tcp://127.0.0.1:22991";
  d.peers = {{"n2", kN2, "tcp://127.0.0.1:22992"}};
  d.folders = {{"ha-tmp-st1-res", "/tmp/st1-res"}};
  return d;
}

std::vector<std::string> device_ids(const json& list) {
  std::vector<std::string> ids;
  for (const auto& d : list) ids.push_back(d["deviceID"]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// ---- the config plan ------------------------------------------------------

TEST(SyncthingConfigPlanTest, FreshInstallGetsThePeerTheFolderAndTheOptions) {
  auto plan = syncthing::plan_config(fixture("config-fresh.json"), two_nodes());
  ASSERT_TRUE(plan.error.empty()) << plan.error;
  ASSERT_TRUE(plan.change);
  EXPECT_NE(std::find(plan.change->changes.begin(), plan.change->changes.end(), "device n2 added"),
            plan.change->changes.end());
  EXPECT_NE(std::find(plan.change->changes.begin(), plan.change->changes.end(), "folder /tmp/st1-res added"),
            plan.change->changes.end());
  json out = json::parse(plan.change->body);
  EXPECT_EQ(device_ids(out["devices"]), (std::vector<std::string>{kN2, kN1}));
  for (const auto& d : out["devices"])
    if (d["deviceID"] == kN2) {
      EXPECT_EQ(d["name"], "n2");
      EXPECT_EQ(d["addresses"], json::array({"tcp://127.0.0.1:22992"}));
      EXPECT_EQ(d["autoAcceptFolders"], false);
      EXPECT_EQ(d["compression"], "metadata");  // from syncthing's own defaults
    }
  ASSERT_EQ(out["folders"].size(), 1u);
  const auto& folder = out["folders"][0];
  EXPECT_EQ(folder["id"], "ha-tmp-st1-res");
  EXPECT_EQ(folder["path"], "/tmp/st1-res");
  EXPECT_EQ(folder["type"], "sendreceive");
  EXPECT_EQ(folder["maxConflicts"], -1);  // conflict copies are all kept
  EXPECT_EQ(folder["ignorePerms"], true);  // two users share the folder: only an owner may chmod
  EXPECT_EQ(device_ids(folder["devices"]), (std::vector<std::string>{kN2, kN1}));
  EXPECT_EQ(folder["markerName"], ".stfolder");  // defaults kept for what the plan does not manage
  const auto& o = out["options"];
  EXPECT_EQ(o["listenAddresses"], json::array({"tcp://127.0.0.1:22991"}));
  for (const char* off : {"globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled", "natEnabled",
                          "crashReportingEnabled", "startBrowser"})
    EXPECT_EQ(o[off], false) << off;
  EXPECT_EQ(o["urAccepted"], -1);
  EXPECT_EQ(o["autoUpgradeIntervalH"], 0);
  EXPECT_EQ(o["reconnectionIntervalS"], 5);
  // Untouched: what the supervisor does not manage.
  EXPECT_EQ(out["gui"], json::parse(fixture("config-fresh.json"))["gui"]);
}

TEST(SyncthingConfigPlanTest, ConfigAsAppliedByRealSyncthingIsLeftAlone) {
  // config-managed.json is what syncthing answered after the plan's body was
  // PUT to it: planning again must change nothing (no rewrite every cycle).
  auto plan = syncthing::plan_config(fixture("config-managed.json"), two_nodes());
  EXPECT_TRUE(plan.error.empty()) << plan.error;
  EXPECT_FALSE(plan.change) << plan.change->body;
}

TEST(SyncthingConfigPlanTest, ANodeThatJoinsIsAddedToDevicesAndFolder) {
  auto d = two_nodes();
  d.peers.push_back({"n3", kN3, "tcp://127.0.0.1:22993"});
  auto plan = syncthing::plan_config(fixture("config-managed.json"), d);
  ASSERT_TRUE(plan.change);
  EXPECT_EQ(plan.change->changes, (std::vector<std::string>{"device n3 added"}));
  json out = json::parse(plan.change->body);
  EXPECT_EQ(device_ids(out["devices"]).size(), 3u);
  EXPECT_EQ(device_ids(out["folders"][0]["devices"]).size(), 3u);
}

TEST(SyncthingConfigPlanTest, ANodeThatLeftIsRemovedFromDevicesAndEveryFolder) {
  auto d = two_nodes();
  d.peers.clear();
  // An operator's own folder shared with n2 loses n2 too (syncthing refuses
  // a folder shared with an unknown device), but stays.
  json current = json::parse(fixture("config-managed.json"));
  json other = current["folders"][0];
  other["id"] = "operators-own";
  other["path"] = "/srv/other";
  current["folders"].push_back(other);
  auto plan = syncthing::plan_config(current.dump(), d);
  ASSERT_TRUE(plan.change);
  EXPECT_EQ(plan.change->changes, (std::vector<std::string>{"device n2 removed"}));
  json out = json::parse(plan.change->body);
  EXPECT_EQ(device_ids(out["devices"]), (std::vector<std::string>{kN1}));
  ASSERT_EQ(out["folders"].size(), 2u);
  for (const auto& f : out["folders"]) EXPECT_EQ(device_ids(f["devices"]), (std::vector<std::string>{kN1})) << f["id"];
}

TEST(SyncthingConfigPlanTest, AnOptionTurnedBackOnIsTurnedOffAgain) {
  json current = json::parse(fixture("config-managed.json"));
  current["options"]["relaysEnabled"] = true;
  auto plan = syncthing::plan_config(current.dump(), two_nodes());
  ASSERT_TRUE(plan.change);
  EXPECT_EQ(plan.change->changes, (std::vector<std::string>{"option relaysEnabled"}));
  EXPECT_EQ(json::parse(plan.change->body)["options"]["relaysEnabled"], false);
}

TEST(SyncthingConfigPlanTest, DeviceOrderIsNotAChange) {
  json current = json::parse(fixture("config-managed.json"));
  std::reverse(current["devices"].begin(), current["devices"].end());
  std::reverse(current["folders"][0]["devices"].begin(), current["folders"][0]["devices"].end());
  EXPECT_FALSE(syncthing::plan_config(current.dump(), two_nodes()).change);
}

TEST(SyncthingConfigPlanTest, GarbledConfigChangesNothingAndSaysWhy) {
  for (const std::string& bad : {std::string("not json"), std::string("[]"), std::string("{\"devices\": []}"),
                                  std::string("{\"devices\": [{}], \"folders\": [], \"options\": {}, "
                                              "\"defaults\": {\"device\": {}, \"folder\": {}}}")}) {
    auto plan = syncthing::plan_config(bad, two_nodes());
    EXPECT_FALSE(plan.change) << bad;
    EXPECT_NE(plan.error.find("syncthing's config"), std::string::npos) << bad << ": " << plan.error;
  }
}

TEST(SyncthingModelTest, FolderIdsAndDeviceIds) {
  EXPECT_EQ(syncthing::folder_id("/opt/manager/resources"), "ha-opt-manager-resources");
  EXPECT_EQ(syncthing::folder_id("/opt/manager/resources/"), "ha-opt-manager-resources");
  EXPECT_TRUE(syncthing::is_device_id(kN1));
  EXPECT_FALSE(syncthing::is_device_id(kN1.substr(1)));
  EXPECT_FALSE(syncthing::is_device_id("wa6q7rw-GGK2IAD-ZEYW6TJ-NHJ4U5X-5UAADV2-TN45NS4-Z2BXPZK-OV3VRQG"));
  EXPECT_FALSE(syncthing::is_device_id("WA6Q7RW-GGK2IAD-ZEYW6TJ-NHJ4U5X-5UAADV2-TN45NS4-Z2BXPZK-OV3VRQ1"));
  EXPECT_FALSE(syncthing::is_device_id("WA6Q7RW GGK2IAD-ZEYW6TJ-NHJ4U5X-5UAADV2-TN45NS4-Z2BXPZK-OV3VRQG"));
}

// ---- parsers --------------------------------------------------------------

TEST(SyncthingParseTest, RealAnswers) {
  auto id = syncthing::parse_my_id(fixture("system-status.json"));
  ASSERT_TRUE(id.value) << id.error;
  EXPECT_EQ(*id.value, kN1);
  auto connections = syncthing::parse_connections(fixture("connections.json"));
  ASSERT_TRUE(connections.value) << connections.error;
  EXPECT_EQ(connections.value->at(kN2), true);
  auto completion = syncthing::parse_completion(fixture("completion.json"));
  ASSERT_TRUE(completion.value) << completion.error;
  EXPECT_EQ(completion.value->percent, 100);
  EXPECT_EQ(completion.value->need_items, 0);
  auto status = syncthing::parse_folder_status(fixture("db-status.json"));
  ASSERT_TRUE(status.value) << status.error;
  EXPECT_EQ(status.value->state, "idle");
  EXPECT_EQ(status.value->need_items, 0);
}

TEST(SyncthingParseTest, GarbageIsAnErrorNeverAHalfValue) {
  EXPECT_FALSE(syncthing::parse_my_id("{\"myID\": \"me\"}").value);
  EXPECT_FALSE(syncthing::parse_my_id("<html>").value);
  EXPECT_FALSE(syncthing::parse_connections("{\"connections\": {\"x\": {\"connected\": true}}}").value);
  EXPECT_FALSE(syncthing::parse_connections("{\"connections\": {\"" + kN2 + "\": {\"connected\": \"yes\"}}}").value);
  EXPECT_FALSE(syncthing::parse_completion("{\"completion\": 101, \"needItems\": 0, \"needBytes\": 0, \"needDeletes\": 0}").value);
  EXPECT_FALSE(syncthing::parse_completion("{\"completion\": 50, \"needItems\": -1, \"needBytes\": 0, \"needDeletes\": 0}").value);
  auto missing = syncthing::parse_folder_status("{\"state\": \"idle\"}");
  EXPECT_FALSE(missing.value);
  EXPECT_NE(missing.error.find("needFiles"), std::string::npos) << missing.error;
}

// ---- decisions ------------------------------------------------------------

loop::Snapshot files_snapshot() {
  loop::Snapshot s;
  s.self = "n1";
  s.self_address = "127.0.0.1";
  s.kv.known = true;
  s.kv.registered = {{"n1", "127.0.0.1"}, {"n2", "127.0.0.1"}};
  s.kv.registered_devices = {{"n1", kN1}, {"n2", kN2}};
  testing_support::derive_known_nodes(s);
  s.kv.members["n1"].name = "n1";
  s.kv.members["n2"].name = "n2";
  s.units_connected = true;
  s.units["ha-syncthing.service"] = {"active", "running", 0, 42};
  auto& f = s.files;
  f.enabled = true;
  f.unit = "ha-syncthing.service";
  f.folders = {{"ha-tmp-st1-res", "/tmp/st1-res"}};
  f.listen_address = "tcp://127.0.0.1:22991";
  f.sync_port = 22992;  // the peer's port in the fixture: every node uses the same one
  f.api_known = true;
  f.device_id = kN1;
  // n2's device id sorts before n1's: n2 dials, n1 waits for it (syncthing::dials),
  // so n1's applied config lists n2 without an address.
  json config = json::parse(fixture("config-managed.json"));
  for (auto& d : config["devices"])
    if (d["deviceID"] == kN2) d["addresses"] = json::array({"dynamic"});
  f.current_config = config.dump();
  f.unfit_after = 10000ms;
  return s;
}

TEST(DecideFilesTest, InStepWithTheRegistrationsNothingToDo) {
  auto s = files_snapshot();
  loop::Plan plan;
  EXPECT_EQ(loop::decide_files(plan, s), "");
  EXPECT_TRUE(plan.actions.empty());
}

// n3 registered and a live member: a device the config does not have yet.
void register_n3(loop::Snapshot& s) {
  s.kv.registered["n3"] = "127.0.0.3";
  s.kv.registered_devices["n3"] = kN3;
  testing_support::derive_known_nodes(s);
  s.kv.members["n3"].name = "n3";
}

TEST(DecideFilesTest, ARegisteredNodeBecomesAPeerAndAForgottenOneStopsBeingOne) {
  auto s = files_snapshot();
  register_n3(s);
  loop::Plan plan;
  auto note = loop::decide_files(plan, s);
  auto* apply = plan.find<loop::ApplySyncthingConfig>();
  ASSERT_TRUE(apply) << note;
  EXPECT_EQ(apply->changes, "device n3 added");
  EXPECT_EQ(json::parse(apply->body)["devices"].size(), 3u);

  s = files_snapshot();
  s.kv.registered.erase("n2");
  testing_support::derive_known_nodes(s);
  loop::Plan forgotten;
  loop::decide_files(forgotten, s);
  apply = forgotten.find<loop::ApplySyncthingConfig>();
  ASSERT_TRUE(apply);
  EXPECT_EQ(apply->changes, "device n2 removed");
}

// A config put carries the GUI's key as it was read: never beside a key
// rotation, which would see its key put back.
TEST(DecideFilesTest, AConfigChangeWaitsForAKeyRotation) {
  auto s = files_snapshot();
  register_n3(s);
  s.kv.syncthing_key = loop::KvView::StoredValue{syncthing::encode(syncthing::KeyRotationRecord{1, "api@n1", "t"}), 5};
  loop::Plan plan;
  auto note = loop::decide_files(plan, s);
  EXPECT_TRUE(plan.find<loop::RotateSyncthingKey>()) << note;
  EXPECT_FALSE(plan.find<loop::ApplySyncthingConfig>()) << note;
  s.busy.insert(loop::Job::rotate_syncthing_key);
  loop::Plan during;
  loop::decide_files(during, s);
  EXPECT_TRUE(during.actions.empty());
  s.busy.clear();
  s.files.key_generation = 1;  // rotated
  loop::Plan after;
  loop::decide_files(after, s);
  EXPECT_TRUE(after.find<loop::ApplySyncthingConfig>());
}

// Every registration gone from Consul (its data lost): the devices stay, as
// remembered, so the folder keeps replicating to them.
TEST(DecideFilesTest, RegistrationsMissingFromConsulKeepTheirDevices) {
  auto s = files_snapshot();
  const auto remembered = s.known.nodes;
  s.kv.registered.clear();
  s.kv.registered_devices.clear();
  s.known = cluster::known_nodes(s.kv, remembered, s.self);
  loop::Plan plan;
  auto note = loop::decide_files(plan, s);
  EXPECT_FALSE(plan.has<loop::ApplySyncthingConfig>()) << note;
}

// One side of each pair dials: the one whose device id sorts first, and only
// once the other side's member record shows its syncthing already has it (a
// dial that reaches a syncthing that does not know the dialer is refused, and
// syncthing then dials again only on its slow start-up schedule).
TEST(DecideFilesTest, TheDialerWaitsUntilThePeerKnowsItAndTheOtherSideNeverDials) {
  const std::string later = "ZZZZZZZ-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-2345672";  // sorts after kN1
  ASSERT_TRUE(syncthing::dials(kN1, later));
  ASSERT_FALSE(syncthing::dials(kN1, kN2));
  auto s = files_snapshot();
  s.kv.registered["n3"] = "127.0.0.3";
  s.kv.registered_devices["n3"] = later;
  testing_support::derive_known_nodes(s);
  s.kv.members["n3"].name = "n3";
  auto address_of = [&](const std::string& name) {
    for (const auto& p : loop::desired_syncthing(s, nullptr).peers)
      if (p.name == name) return p.address;
    return std::string("(not a peer)");
  };
  EXPECT_EQ(address_of("n3"), "dynamic") << "n3's syncthing does not have n1 yet";
  s.kv.members["n3"].syncthing_peers = {kN2, kN1};
  EXPECT_EQ(address_of("n3"), "tcp://127.0.0.3:22992");
  // n2 sorts first: n2 dials n1, whatever n2's record says.
  s.kv.members["n2"].syncthing_peers = {kN1};
  EXPECT_EQ(address_of("n2"), "dynamic");
  // The published record says which devices this node's syncthing has.
  s.consul.agent_known = true;
  s.consul.ever_reached_quorum = true;
  s.consul.quorum_reachable = true;
  s.consul.quorum_loss_timeout = 5000ms;
  s.service_registered = true;
  s.session = loop::SessionView{"s1", true};
  s.files.peers[kN2].device_id = kN2;
  auto plan = loop::decide(s);
  auto* publish = plan.find<loop::PublishMember>();
  ASSERT_TRUE(publish) << plan.reason;
  EXPECT_EQ(publish->record.syncthing_peers, std::vector<std::string>{kN2});
}

TEST(DecideFilesTest, ACrashedNodeStaysAPeerPausedAndIsResumedWhenBack) {
  // No member record (its session died) but still registered: it keeps its
  // device, paused, so nothing waits for it (syncthing would call a powered-off
  // peer connected for minutes); resumed when its record is back.
  auto s = files_snapshot();
  s.kv.members.erase("n2");
  loop::Plan plan;
  loop::decide_files(plan, s);
  auto* apply = plan.find<loop::ApplySyncthingConfig>();
  ASSERT_TRUE(apply);
  EXPECT_EQ(apply->changes, "device n2 paused (not alive)");
  json paused = json::parse(apply->body);
  for (const auto& d : paused["devices"]) EXPECT_EQ(d["paused"], d["deviceID"] == kN2) << d["deviceID"];
  // Still shared with: it catches up when it comes back.
  EXPECT_EQ(device_ids(paused["folders"][0]["devices"]).size(), 2u);

  s = files_snapshot();
  s.files.current_config = apply->body;
  loop::Plan back;
  loop::decide_files(back, s);
  apply = back.find<loop::ApplySyncthingConfig>();
  ASSERT_TRUE(apply);
  EXPECT_EQ(apply->changes, "device n2 resumed (alive)");
}

// A record gone for a moment (the node's session renewed after a Consul leader
// election) changes nothing: no pause that would drop a live connection. Gone
// for pause_after, the device is paused as for a crash.
TEST(DecideFilesTest, APeerWhoseRecordIsGoneForAMomentKeepsItsDeviceAsItWas) {
  auto s = files_snapshot();
  s.kv.members["n2"].syncthing_peers = {kN1};
  loop::Plan first;
  loop::decide_files(first, s);
  if (auto* apply = first.find<loop::ApplySyncthingConfig>()) s.files.current_config = apply->body;
  loop::Plan settled;
  loop::decide_files(settled, s);
  ASSERT_FALSE(settled.find<loop::ApplySyncthingConfig>()) << "the test's config is not settled";

  s.kv.members.erase("n2");
  s.files.pause_after = 5000ms;
  s.files.absent_for["n2"] = 1000ms;
  loop::Plan moment;
  loop::decide_files(moment, s);
  EXPECT_FALSE(moment.find<loop::ApplySyncthingConfig>()) << moment.find<loop::ApplySyncthingConfig>()->changes;

  // Gossip (a majority alive) calls it failed too: a crash, not a session's
  // renewal; paused at once, so an upload does not wait for it.
  s.known.nodes["n2"].address = "127.0.0.2";
  s.consul.gossip = {{"127.0.0.1", "alive"}, {"127.0.0.2", "failed"}, {"127.0.0.3", "alive"}};
  loop::Plan failed;
  loop::decide_files(failed, s);
  ASSERT_TRUE(failed.find<loop::ApplySyncthingConfig>());
  EXPECT_EQ(failed.find<loop::ApplySyncthingConfig>()->changes, "device n2 paused (not alive)");
  s.consul.gossip.clear();
  s.known.nodes["n2"].address = "127.0.0.1";

  s.files.absent_for["n2"] = 5000ms;
  loop::Plan gone;
  loop::decide_files(gone, s);
  auto* apply = gone.find<loop::ApplySyncthingConfig>();
  ASSERT_TRUE(apply);
  EXPECT_EQ(apply->changes, "device n2 paused (not alive)");

  // While the cluster is paused (work on Consul: a stopped agent takes a
  // serving node's record away) the device stays as it was, however long.
  pause::PauseRecord paused{true, "api@n1", "2026-12-06T03:15:55Z", ""};
  s.kv.pause = loop::KvView::StoredValue{pause::encode(paused), 3};
  s.files.absent_for["n2"] = 60000ms;
  loop::Plan while_paused;
  loop::decide_files(while_paused, s);
  EXPECT_FALSE(while_paused.find<loop::ApplySyncthingConfig>())
      << while_paused.find<loop::ApplySyncthingConfig>()->changes;
}

TEST(DecideFilesTest, BadRegistrationsFromConsulNeverReachSyncthing) {
  auto s = files_snapshot();
  s.kv.registered["n3"] = "127.0.0.3\nlistenAddress";
  s.kv.registered_devices["n3"] = kN3;
  s.kv.registered["n4"] = "127.0.0.4";
  s.kv.registered_devices["n4"] = "not-a-device";
  s.kv.registered["n5"] = "127.0.0.5";
  s.kv.registered_devices["n5"] = kN1;  // claims this node's identity
  testing_support::derive_known_nodes(s);
  std::vector<std::string> refused;
  auto desired = loop::desired_syncthing(s, &refused);
  ASSERT_EQ(desired.peers.size(), 1u);
  EXPECT_EQ(desired.peers[0].name, "n2");
  EXPECT_EQ(refused.size(), 3u);
  loop::Plan plan;
  loop::decide_files(plan, s);
  EXPECT_FALSE(plan.find<loop::ApplySyncthingConfig>());
}

TEST(DecideFilesTest, NothingIsPlannedBeforeTheClusterKeysAreRead) {
  // Planning from an empty registry would remove every peer.
  auto s = files_snapshot();
  s.kv = {};
  loop::Plan plan;
  loop::decide_files(plan, s);
  EXPECT_FALSE(plan.find<loop::ApplySyncthingConfig>());
}

TEST(DecideFilesTest, SyncthingStoppedIsStarted) {
  auto s = files_snapshot();
  s.units["ha-syncthing.service"].active_state = "failed";
  loop::Plan plan;
  auto note = loop::decide_files(plan, s);
  EXPECT_TRUE(plan.find<loop::StartSyncthing>());
  EXPECT_NE(note.find("starting ha-syncthing.service (failed)"), std::string::npos) << note;
  s.busy.insert(loop::Job::start_syncthing);
  loop::Plan busy;
  loop::decide_files(busy, s);
  EXPECT_FALSE(busy.find<loop::StartSyncthing>());
}

TEST(DecideFilesTest, TheDeviceIdIsRegisteredOnceKnown) {
  auto s = files_snapshot();
  s.kv.registered_devices.erase("n1");
  testing_support::derive_known_nodes(s);
  s.consul.agent_known = true;
  s.consul.ever_reached_quorum = true;
  s.consul.quorum_reachable = true;
  s.service_registered = true;
  s.session = {"sess", true};
  auto plan = loop::decide(s);
  auto* reg = plan.find<loop::RegisterNode>();
  ASSERT_TRUE(reg) << plan.reason;
  EXPECT_EQ(reg->syncthing_device_id, kN1);
  // The member record carries it too, and the files' summary.
  auto* publish = plan.find<loop::PublishMember>();
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->record.syncthing_device_id, kN1);
  EXPECT_EQ(publish->record.files_state, "in sync, 0/0 peers");
}

TEST(DecideFilesTest, UnreachableOrBehindLongEnoughIsALocalProblem) {
  auto s = files_snapshot();
  EXPECT_EQ(loop::local_problem(s), "");
  s.files.api_failing_for = 9999ms;
  EXPECT_EQ(loop::local_problem(s), "");
  s.files.api_failing_for = 10000ms;
  EXPECT_EQ(loop::local_problem(s), "files: syncthing unreachable");
  s = files_snapshot();
  s.files.behind_for = 12000ms;
  EXPECT_EQ(loop::local_problem(s), "files: missing items its peers have");
}

// Each upload makes every peer need its file for a moment (100-500 ms in the
// lab): the member record must not change with it, or every node writes it
// to Consul again with each upload.
TEST(DecideFilesTest, AnUploadInFlightDoesNotChangeThePublishedRecord) {
  auto s = files_snapshot();
  s.files.peers[kN2] = {"n2", kN2, true, {}};
  cluster::MemberRecord idle, upload, backlog;
  loop::publish_files(s, idle);
  s.files.folder_status["ha-tmp-st1-res"].need_items = 1;
  s.files.behind_for = std::chrono::milliseconds(300);
  loop::publish_files(s, upload);
  EXPECT_EQ(upload, idle) << upload.files_state;
  s.files.behind_for = loop::kReceivingShownAfter;  // a backlog: said, once
  loop::publish_files(s, backlog);
  EXPECT_EQ(backlog.files_state, "receiving, 1/1 peers");
  s.files.peers[kN2].connected = false;  // nothing can arrive: never "in sync"
  s.files.behind_for = std::chrono::milliseconds(0);
  EXPECT_EQ(loop::files_summary(s.files), "receiving, 0/1 peers");
}

TEST(DecideFilesTest, SummaryNamesPeersReceivingAndConflicts) {
  auto s = files_snapshot();
  s.files.peers[kN2] = {"n2", kN2, true, {}};
  EXPECT_EQ(loop::files_summary(s.files), "in sync, 1/1 peers");
  s.files.folder_status["ha-tmp-st1-res"].need_items = 4;
  s.files.conflicts = 2;
  s.files.behind_for = loop::kReceivingShownAfter;
  EXPECT_EQ(loop::files_summary(s.files), "receiving, 1/1 peers, 2 conflicts");
  s.files.api_error = "connections: connect: Connection refused";
  EXPECT_EQ(loop::files_summary(s.files), "syncthing unreachable");
}

}  // namespace
}  // namespace hasup
