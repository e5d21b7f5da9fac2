// The event timeline: the stored ring (whole or nothing), merging the nodes'
// rings, incidents, filters, what a cycle's change becomes, hactl's view.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "supervisor/cli/event_table.hpp"
#include "supervisor/cli/hactl_args.hpp"
#include "components/syncthing/decide.hpp"
#include "supervisor/events/detect.hpp"
#include "supervisor/events/event.hpp"
#include "supervisor/events/incidents.hpp"
#include "supervisor/events/timeline.hpp"

namespace hasup::events {
namespace {

using cluster::Role;

Event ev(std::string node, std::string at, std::string text, bool opens = false) {
  Event e;
  e.id = node + "-" + at;
  e.at = std::move(at);
  e.node = std::move(node);
  e.component = "supervisor";
  e.kind = "role";
  e.text = std::move(text);
  e.opens_incident = opens;
  return e;
}

TEST(EventRingTest, AStoredRingReadsBackWhole) {
  Event a = ev("n1", "2026-12-04T20:42:24.123Z", "role follower -> leader (epoch 33)", true);
  a.reason = "leader: leader (epoch 33) of 2 members";
  a.late = true;
  Event b = ev("n1", "2026-12-04T20:42:25.000Z", "n2 in maintenance");
  b.component = "maintenance";
  b.kind = "intent";
  b.requested_by = "api@n1";
  auto decoded = decode_ring("n1", encode_ring("n1", {a, b}));
  ASSERT_EQ(decoded.error, "");
  ASSERT_EQ(decoded.events.size(), 2u);
  EXPECT_EQ(decoded.events[0], a);
  EXPECT_EQ(decoded.events[1], b);
}

TEST(EventRingTest, OneBadEventRefusesTheRingAndSaysWhich) {
  auto good = nlohmann::json::parse(encode_ring("n1", {ev("n1", "2026-12-04T20:42:24.123Z", "x")}));
  auto bad_time = good;
  bad_time["events"][0]["at"] = "yesterday";
  auto r = decode_ring("n1", bad_time.dump());
  EXPECT_TRUE(r.events.empty());
  EXPECT_NE(r.error.find("event 0: \"at\" is not a UTC time"), std::string::npos) << r.error;

  auto not_string = good;
  not_string["events"][0]["text"] = 7;
  EXPECT_NE(decode_ring("n1", not_string.dump()).error.find("\"text\" is not a string"), std::string::npos);

  auto late_not_bool = good;
  late_not_bool["events"][0]["late"] = "yes";
  EXPECT_NE(decode_ring("n1", late_not_bool.dump()).error.find("\"late\""), std::string::npos);

  // Another node's key, or an event of another node in it: not what n1 wrote.
  EXPECT_NE(decode_ring("n2", good.dump()).error.find("\"node\" is not n2"), std::string::npos);
  auto foreign = good;
  foreign["node"] = "n2";
  EXPECT_NE(decode_ring("n2", foreign.dump()).error.find("is from n1"), std::string::npos);

  EXPECT_FALSE(decode_ring("n1", "{\"node\":\"n1\",\"events\":[").error.empty());
  EXPECT_FALSE(decode_ring("n1", "[]").error.empty());
}

TEST(EventRingTest, UtcTimesAreCheckedExactly) {
  EXPECT_TRUE(is_utc_time("2026-12-04T20:42:24Z"));
  EXPECT_TRUE(is_utc_time("2026-12-04T20:42:24.123Z"));
  EXPECT_TRUE(is_utc_time(utc_now_ms()));
  EXPECT_FALSE(is_utc_time("2026-12-04 20:42:24Z"));
  EXPECT_FALSE(is_utc_time("2026-12-04T20:42:24.12Z"));
  EXPECT_FALSE(is_utc_time("2026-12-04T20:42:24+01:00"));
  EXPECT_FALSE(is_utc_time(""));
}

TEST(TimelineTest, RingsMergeInTimeOrderWhateverTheirForm) {
  std::map<std::string, std::vector<Event>> rings;
  rings["n1"] = {ev("n1", "2026-12-04T20:42:24.500Z", "b"), ev("n1", "2026-12-04T20:42:26.000Z", "d")};
  rings["n2"] = {ev("n2", "2026-12-04T20:42:24Z", "a"), ev("n2", "2026-12-04T20:42:25.999Z", "c")};
  auto merged = merge_rings(rings);
  std::string order;
  for (const auto& e : merged) order += e.text;
  EXPECT_EQ(order, "abcd");  // "…24Z" is "…24.000Z", before "…24.500Z"
}

TEST(TimelineTest, AnIncidentTiesWhatFollowsItsFailureSignsAndRoutineEventsDoNotKeepItOpen) {
  std::vector<Event> events = {
      ev("n1", "2026-12-04T20:00:00.000Z", "nginx serves gen 3"),           // routine: no incident
      ev("n2", "2026-12-04T20:10:00.000Z", "n1 is no longer a member", true),  // opens
      ev("n3", "2026-12-04T20:10:01.000Z", "holds the floating IP"),
      ev("n2", "2026-12-04T20:10:15.000Z", "this node's database is primary now", true),  // within: extends
      ev("n3", "2026-12-04T20:10:30.000Z", "nginx serves gen 4"),  // 15 s after the last sign: joins
      ev("n3", "2026-12-04T20:10:45.000Z", "nginx serves gen 5"),  // 30 s after it: routine, none
      ev("n1", "2026-12-04T20:10:50.000Z", "unhealthy: x", true),  // a new one
  };
  assign_incidents(events, std::chrono::seconds(20));
  EXPECT_EQ(events[0].incident, "");
  const std::string first = events[1].id;
  EXPECT_EQ(events[2].incident, first);
  EXPECT_EQ(events[3].incident, first);
  EXPECT_EQ(events[4].incident, first);
  EXPECT_EQ(events[5].incident, "");
  EXPECT_EQ(events[6].incident, events[6].id);
  EXPECT_NE(events[6].id, first);
}

TEST(TimelineTest, FiltersBySinceAndNode) {
  std::vector<Event> events = {ev("n1", "2026-12-04T20:42:23.999Z", "a"), ev("n2", "2026-12-04T20:42:24.000Z", "b"),
                               ev("n1", "2026-12-04T20:42:24.500Z", "c")};
  auto since = filter_events(events, {"2026-12-04T20:42:24Z", ""});
  ASSERT_EQ(since.size(), 2u);
  EXPECT_EQ(since[0].text, "b");
  auto node = filter_events(events, {"", "n1"});
  ASSERT_EQ(node.size(), 2u);
  EXPECT_EQ(node[1].text, "c");
  EXPECT_EQ(between("2026-12-04T23:59:59.500Z", "2026-12-05T00:00:01Z").count(), 1500);
}

EventFacts base(Role role = Role::follower) {
  EventFacts f;
  f.settled_since = std::chrono::steady_clock::time_point{};
  f.at = f.settled_since + std::chrono::minutes(1);  // settled: its changes can open incidents
  f.self = "n2";
  f.role = role;
  f.vrrp_state = "BACKUP";
  f.nginx_config = "gen 3 aaaa";
  f.files_state = "in sync, 2/2 peers";
  f.db_known = true;
  f.db_primary = "n1";
  f.db_timeline = 1;
  f.db_ever_primary = true;
  return f;
}

std::vector<std::string> texts(const std::vector<Detected>& d) {
  std::vector<std::string> out;
  for (const auto& x : d) out.push_back(x.component + "/" + x.kind + ": " + x.text + (x.opens_incident ? " [opens]" : ""));
  return out;
}

TEST(DetectTest, NothingChangedIsNoEvent) { EXPECT_TRUE(detect(base(), base()).empty()); }

TEST(DetectTest, AFailoverSeenByTheNodeThatTakesOver) {
  EventFacts before = base(), after = base(Role::leader);
  after.epoch = 33;
  after.vrrp_state = "MASTER";
  after.db_primary = "n2";
  after.db_timeline = 2;
  after.nginx_config = "gen 4 bbbb";
  EXPECT_EQ(texts(detect(before, after)),
            (std::vector<std::string>{"supervisor/role: role follower -> leader (epoch 33) [opens]",
                                      "floating-ip/vrrp: holds the floating IP (keepalived MASTER) [opens]",
                                      "database/primary: this node's database is primary now (timeline 2), was n1 [opens]",
                                      "nginx/reload: nginx serves gen 4 bbbb"}));
}

TEST(DetectTest, JoiningAtStartAndTheFirstPrimaryOpenNoIncident) {
  EventFacts before = base(Role::starting), after = base(Role::follower);
  before.db_primary = "";
  before.db_ever_primary = false;
  after.db_primary = "n2";
  EXPECT_EQ(texts(detect(before, after)),
            (std::vector<std::string>{"supervisor/role: role starting -> follower",
                                      "database/primary: this node's database is primary now (timeline 1)"}));
}

TEST(DetectTest, CutOffUnhealthyAndFilesTroubleOpenIncidentsAndTheirEndDoesNot) {
  EventFacts ok = base(), bad = base(Role::cut_off);
  bad.health = "database not writable through the local endpoint";
  bad.vrrp_state = "FAULT";
  bad.files_state = bad.files_trouble = "syncthing unreachable";
  EXPECT_EQ(texts(detect(ok, bad)),
            (std::vector<std::string>{"supervisor/role: role follower -> cut-off [opens]",
                                      "supervisor/health: unhealthy: database not writable through the local endpoint [opens]",
                                      "floating-ip/vrrp: keepalived BACKUP -> FAULT [opens]",
                                      "files/state: files: syncthing unreachable [opens]"}));
  auto back = texts(detect(bad, ok));
  EXPECT_EQ(back[1], "supervisor/health: healthy again (was: database not writable through the local endpoint)");
  EXPECT_EQ(back[3], "files/state: files: in sync, 2/2 peers (was: syncthing unreachable)");
  // An upload's own "receiving" is routine, not trouble.
  EventFacts busy = ok;
  busy.files_state = "receiving, 2/2 peers";
  EXPECT_TRUE(detect(ok, busy).empty());
}

TEST(DetectTest, AKeyRotationIsSaidOnceAndItsFailureAsTheFilesError) {
  EventFacts before = base(), after = base();
  after.syncthing_key_generation = 2;
  EXPECT_EQ(texts(detect(before, after)),
            (std::vector<std::string>{"files/key: syncthing's API key rotated (generation 2)"}));
  EXPECT_TRUE(detect(after, after).empty());
  loop::Snapshot s;
  s.self = "n1";
  s.files.enabled = true;
  s.files.key_generation = 2;
  s.files.key_error = "cannot write the key file: read-only file system";
  auto facts = facts_of(s, loop::Plan{}, nullptr, std::chrono::steady_clock::now());
  EXPECT_EQ(facts.syncthing_key_generation, 2u);
  EXPECT_EQ(facts.errors["files"], "syncthing's API key: cannot write the key file: read-only file system");
}

TEST(DetectTest, FilesTroubleIsReadFromTheViewAndAnUploadInFlightIsNone) {
  // From the view itself, not from files_summary's words: the words of an
  // upload in flight ("receiving") once read as trouble here.
  loop::FilesView f;
  f.enabled = true;
  f.api_known = true;
  f.folder_status["ha-opt-manager-resources"].need_items = 3;
  f.behind_for = loop::kReceivingShownAfter;
  EXPECT_EQ(loop::files_summary(f).rfind("receiving", 0), 0u);
  EXPECT_EQ(loop::files_trouble(f), "");
  f.folder_status["ha-opt-manager-resources"].error = "folder path missing";
  EXPECT_EQ(loop::files_trouble(f), "folder error");
  EXPECT_EQ(loop::files_summary(f), "folder error");
  f.api_error = "connect: refused";
  EXPECT_EQ(loop::files_trouble(f), "syncthing unreachable");
}

TEST(DetectTest, TheLeaderAloneReportsMembersAndAMissingPrimary) {
  EventFacts before = base(Role::leader), after = base(Role::leader);
  before.members = {"n1", "n2", "n3"};
  after.members = {"n2", "n3", "n4"};
  after.maintenance["n3"] = "api@n2";  // another node's intent: n3 says it
  after.db_primary = "";
  auto got = detect(before, after);
  EXPECT_EQ(texts(got),
            (std::vector<std::string>{
                "database/primary: the database has no primary (was n1): its HA layer is choosing one [opens]",
                "cluster/member: n4 joined the members",
                "cluster/member: n1 is no longer a member: its session ended (a crash, cut off from Consul, or stopped) [opens]"}));
  // A follower says none of it: the leader does, once for the cluster.
  EventFacts f_before = before, f_after = after;
  f_before.role = f_after.role = Role::follower;
  EXPECT_TRUE(detect(f_before, f_after).empty());
}

TEST(DetectTest, AnIntentIsSaidByTheNodeItNamesWithWhoAsked) {
  // n2 leads and is put in maintenance: it stops leading in the same cycle.
  EventFacts before = base(Role::leader), after = base(Role::maintenance);
  after.maintenance["n2"] = "api@n1";
  auto got = detect(before, after);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].text, "n2 in maintenance");
  EXPECT_EQ(got[1].requested_by, "api@n1");
  auto back = detect(after, before);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].text, "n2 out of maintenance");
}

TEST(DetectTest, AFollowerThatTakesOverFromACrashedLeaderSaysItIsGone) {
  // The crashed leader's record and lock end together; the members it last
  // published still name it, until the new leader publishes its own list.
  EventFacts before = base(Role::follower), after = base(Role::leader);
  before.members = {"n1", "n2", "n3"};
  after.members = {"n2", "n3"};
  after.epoch = 40;
  auto got = texts(detect(before, after));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "supervisor/role: role follower -> leader (epoch 40) [opens]");
  EXPECT_EQ(got[1],
            "cluster/member: n1 is no longer a member: its session ended (a crash, cut off from Consul, or stopped) [opens]");
  // At start everything is new: no member events.
  EventFacts starting = base(Role::starting);
  starting.members = {"n1"};
  EXPECT_EQ(texts(detect(starting, after)).size(), 1u);
}

TEST(DetectTest, ANodeThatIsStillSettlingOpensNoIncidentWithItsOwnChanges) {
  // Joined 3 s ago: its nginx and probes are still coming up.
  EventFacts before = base(), after = base();
  before.settled_since = before.at - std::chrono::seconds(3);
  after.health = "nginx inactive";
  after.vrrp_state = "FAULT";
  after.db_writable = false;
  before.db_writable = true;
  EXPECT_EQ(texts(detect(before, after)),
            (std::vector<std::string>{"supervisor/health: unhealthy: nginx inactive",
                                      "floating-ip/vrrp: keepalived BACKUP -> FAULT",
                                      "database/writable: writes fail through this node's endpoint: "}));
  // What others see of the cluster opens one whenever: gossip calling a node failed.
  after.gossip_failed = {"n1"};
  auto got = detect(before, after);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2].kind, "gossip");
  EXPECT_TRUE(got[2].opens_incident);
}

// A switchover, an operator's or the supervisors' own away from a full
// primary, is said by the leader: its request with who asked, each step, and
// its end with the outcome. A follower says nothing of it.
TEST(DetectTest, TheLeaderSaysASwitchoverItsStepsAndItsOutcome) {
  EventFacts none = base(Role::leader);
  EventFacts asked = none;
  asked.switchover = EventFacts::Switchover{"so-0a1b2c3d", "n1", "n2", "supervisor@n2: n1's database filesystem is full",
                                            "floating-ip", ""};
  auto requested = detect(none, asked);
  ASSERT_EQ(texts(requested), (std::vector<std::string>{
                                  "switchover/request: switchover so-0a1b2c3d from n1 to n2 requested (floating-ip)"}));
  EXPECT_EQ(requested[0].requested_by, "supervisor@n2: n1's database filesystem is full");
  EventFacts held = asked;
  held.switchover->phase = "hold";
  EXPECT_EQ(texts(detect(asked, held)), (std::vector<std::string>{"switchover/step: switchover so-0a1b2c3d: hold"}));
  EventFacts done = held;
  done.switchover->phase = "done";
  done.switchover->outcome = "n2 serves writes and holds the floating IP";
  EXPECT_EQ(texts(detect(held, done)),
            (std::vector<std::string>{
                "switchover/done: switchover so-0a1b2c3d done: n2 serves writes and holds the floating IP"}));
  EXPECT_TRUE(detect(done, done).empty());
  // Requested and ended between two cycles: both said.
  EventFacts failed = asked;
  failed.switchover->phase = "failed";
  failed.switchover->outcome = "step database failed: Patroni refused";
  EXPECT_EQ(texts(detect(none, failed)),
            (std::vector<std::string>{"switchover/request: switchover so-0a1b2c3d from n1 to n2 requested (failed)",
                                      "switchover/failed: switchover so-0a1b2c3d failed: step database failed: Patroni refused"}));
  EventFacts follower_before = base(), follower_after = base();
  follower_after.switchover = asked.switchover;
  EXPECT_TRUE(detect(follower_before, follower_after).empty()) << "the leader says it, once for the cluster";
}

TEST(DetectTest, ANewRefusalIsAnEventOnceUntilItChanges) {
  EventFacts before = base(), after = base();
  after.errors["nginx"] = "nginx -t refused the new config: unknown directive";
  EXPECT_EQ(texts(detect(before, after)),
            (std::vector<std::string>{"nginx/refusal: nginx -t refused the new config: unknown directive"}));
  EXPECT_TRUE(detect(after, after).empty());
}

TEST(DetectTest, TheWriteProbeAndGossipGiveTheFirstSignAndTheFirstWrite) {
  EventFacts before = base(), after = base();
  before.db_writable = true;
  after.db_writable = false;
  after.db_write_error = "connect: timeout";
  after.gossip_failed = {"n1"};
  EXPECT_EQ(texts(detect(before, after)),
            (std::vector<std::string>{"cluster/gossip: n1 failed, says Consul's gossip (serf) on this node [opens]",
                                      "database/writable: writes fail through this node's endpoint: connect: timeout [opens]"}));
  EventFacts back = base();
  back.db_writable = true;
  back.db_write_server = "198.18.0.12:5432";
  EXPECT_EQ(texts(detect(after, back)),
            (std::vector<std::string>{"cluster/gossip: n1 alive again, says Consul's gossip on this node",
                                      "database/writable: writes succeed again through this node's endpoint (198.18.0.12:5432)"}));
  // The first probe after start failing is no change.
  EventFacts fresh = base(), first = base();
  first.db_writable = false;
  EXPECT_TRUE(detect(fresh, first).empty());
}

Event typed(std::string node, std::string at, std::string component, std::string kind, std::string text,
            bool opens = false) {
  Event e = ev(std::move(node), std::move(at), std::move(text), opens);
  e.component = std::move(component);
  e.kind = std::move(kind);
  return e;
}

TEST(IncidentsTest, AFailoverBecomesOneRecordWithItsPhasesTimedFromTheFirstSign) {
  std::vector<Event> events = {
      typed("n3", "2026-12-04T20:00:00.000Z", "nginx", "reload", "nginx serves gen 2 aaaa"),  // before: no incident
      typed("n2", "2026-12-04T20:10:00.000Z", "cluster", "gossip", "n1 failed, says Consul's gossip", true),
      typed("n3", "2026-12-04T20:10:00.400Z", "database", "writable", "writes fail through this node's endpoint", true),
      typed("n2", "2026-12-04T20:10:01.000Z", "supervisor", "role", "role follower -> leader (epoch 9)", true),
      typed("n2", "2026-12-04T20:10:01.100Z", "cluster", "member", "n1 is no longer a member", true),
      typed("n3", "2026-12-04T20:10:02.500Z", "floating-ip", "vrrp", "holds the floating IP (keepalived MASTER)"),
      typed("n3", "2026-12-04T20:10:04.000Z", "database", "primary", "this node's database is primary now (timeline 2)", true),
      typed("n2", "2026-12-04T20:10:04.300Z", "nginx", "reload", "nginx serves gen 3 bbbb"),
      typed("n3", "2026-12-04T20:10:04.600Z", "database", "writable", "writes succeed again through this node's endpoint"),
      typed("n3", "2026-12-04T20:10:05.000Z", "nginx", "reload", "nginx serves gen 3 bbbb"),
  };
  assign_incidents(events);
  auto incidents = summarize_incidents(events);
  ASSERT_EQ(incidents.size(), 1u);
  const auto& i = incidents[0];
  EXPECT_EQ(i.id, events[1].id);
  EXPECT_EQ(i.events.size(), 9u);
  EXPECT_EQ(i.lasted.count(), 5000);
  std::vector<std::string> got;
  for (const auto& p : i.phases) got.push_back(p.name + " +" + std::to_string(p.after.count()) + " " + p.event.node);
  EXPECT_EQ(got, (std::vector<std::string>{"detection +0 n2", "decision +1000 n2", "database promotion +4000 n3",
                                           "floating-IP move +2500 n3", "first write +4600 n3",
                                           "nginx convergence +5000 n3"}));
}

TEST(IncidentsTest, APhaseTheIncidentDidNotNeedIsAbsent) {
  std::vector<Event> events = {
      typed("n1", "2026-12-04T20:10:00.000Z", "cluster", "gossip", "n3 failed, says Consul's gossip", true),
      typed("n1", "2026-12-04T20:10:01.000Z", "cluster", "member", "n3 is no longer a member", true),
  };
  assign_incidents(events);
  auto incidents = summarize_incidents(events);
  ASSERT_EQ(incidents.size(), 1u);
  ASSERT_EQ(incidents[0].phases.size(), 2u);
  EXPECT_EQ(incidents[0].phases[1].name, "decision");
  EXPECT_TRUE(summarize_incidents({typed("n1", "2026-12-04T20:10:00.000Z", "nginx", "reload", "x")}).empty());
}

TEST(IncidentsTest, EachIncidentIsCountedOnceWhenOverAndANewLeaderSkipsThoseBeforeIt) {
  std::vector<Event> events = {
      typed("n1", "2026-12-04T20:00:00.000Z", "cluster", "gossip", "n3 failed", true),   // over long ago
      typed("n1", "2026-12-04T20:10:00.000Z", "cluster", "gossip", "n2 failed", true),   // the next one
      typed("n1", "2026-12-04T20:10:15.000Z", "database", "primary", "primary now", true),
  };
  assign_incidents(events);
  auto incidents = summarize_incidents(events);
  ASSERT_EQ(incidents.size(), 2u);
  std::set<std::string> counted;
  // Becoming leader at 20:10:20: the first is remembered, not counted; the
  // second is not over (its last sign 5 s ago).
  EXPECT_TRUE(newly_over(incidents, "2026-12-04T20:10:20.000Z", counted, true).empty());
  EXPECT_EQ(counted, std::set<std::string>{incidents[0].id});
  EXPECT_TRUE(newly_over(incidents, "2026-12-04T20:10:30.000Z", counted, false).empty());
  auto now_over = newly_over(incidents, "2026-12-04T20:10:36.000Z", counted, false);
  ASSERT_EQ(now_over.size(), 1u);
  EXPECT_EQ(now_over[0]->id, incidents[1].id);
  EXPECT_TRUE(newly_over(incidents, "2026-12-04T20:11:00.000Z", counted, false).empty()) << "counted once";
  // The first incident's events left the rings: its id is let go.
  std::vector<Incident> later(incidents.begin() + 1, incidents.end());
  newly_over(later, "2026-12-04T20:12:00.000Z", counted, false);
  EXPECT_EQ(counted, std::set<std::string>{incidents[1].id});
}

}  // namespace
}  // namespace hasup::events

namespace hasup::cli {
namespace {

TEST(HactlEventsTest, OptionsParse) {
  auto a = parse_hactl_args({"events", "--follow", "--since", "10m", "--node", "n2", "--json"});
  ASSERT_TRUE(a.command) << a.error;
  EXPECT_EQ(a.command->kind, HactlCommand::Kind::events);
  EXPECT_TRUE(a.command->follow);
  EXPECT_TRUE(a.command->json);
  EXPECT_EQ(a.command->since_seconds_ago, 600);
  EXPECT_EQ(a.command->node, "n2");
  auto b = parse_hactl_args({"events", "--since", "2026-12-04T20:42:24Z"});
  ASSERT_TRUE(b.command);
  EXPECT_EQ(b.command->since, "2026-12-04T20:42:24Z");
  EXPECT_NE(parse_hactl_args({"events", "--since", "yesterday"}).error.find("wants a UTC time"), std::string::npos);
  EXPECT_NE(parse_hactl_args({"events", "--since"}).error.find("needs a value"), std::string::npos);
  EXPECT_NE(parse_hactl_args({"events", "--tail"}).error.find("does not take '--tail'"), std::string::npos);
  EXPECT_FALSE(parse_hactl_args({"events", "--since", "99999999999d"}).command);
}

TEST(HactlEventsTest, LinesSayTheReasonWhenItChangesAndMarkLateAndIncidents) {
  auto doc = nlohmann::json::parse(R"J({"events": [
    {"id": "n2-1", "at": "2026-12-04T20:42:24.123Z", "node": "n2", "component": "supervisor", "kind": "role",
     "text": "role follower -> leader (epoch 33)", "reason": "leader: took over", "incident": "n2-1"},
    {"id": "n2-2", "at": "2026-12-04T20:42:24.200Z", "node": "n2", "component": "floating-ip", "kind": "vrrp",
     "text": "holds the floating IP (keepalived MASTER)", "reason": "leader: took over", "incident": "n2-1"},
    {"id": "n1-9", "at": "2026-12-04T20:42:30.000Z", "node": "n1", "component": "supervisor", "kind": "role",
     "text": "role follower -> cut-off", "reason": "cut off", "late": true}],
    "partial": "Consul did not answer"})J");
  std::set<std::string> printed;
  std::string out = render_events(doc, printed);
  EXPECT_EQ(out,
            "2026-12-04T20:42:24.123Z n2    supervisor/role       role follower -> leader (epoch 33)  [incident n2-1]\n"
            "    why: leader: took over\n"
            "2026-12-04T20:42:24.200Z n2    floating-ip/vrrp      holds the floating IP (keepalived MASTER)  [incident n2-1]\n"
            "2026-12-04T20:42:30.000Z n1    supervisor/role       role follower -> cut-off (late: reached Consul after "
            "the node was cut off)\n"
            "    why: cut off\n"
            "partial: Consul did not answer\n");
  // --follow: what was printed is not printed again.
  EXPECT_EQ(render_events(doc, printed, false), "");
}

TEST(HactlEventsTest, IncidentsPrintEachPhaseOffsetAndAMissingOneAsADash) {
  auto doc = nlohmann::json::parse(R"J({"incidents": [{"id": "n2-7", "lasted_ms": 5000, "event_count": 9,
    "opened": {"id": "n2-7", "at": "2026-12-04T20:10:00.000Z", "node": "n2", "component": "cluster", "kind": "gossip",
               "text": "n1 failed"},
    "phases": [{"name": "detection", "after_ms": 0, "event": {"node": "n2", "component": "cluster", "kind": "gossip", "text": "n1 failed"}},
               {"name": "decision", "after_ms": 1000, "event": {"node": "n2", "component": "supervisor", "kind": "role", "text": "role follower -> leader"}},
               {"name": "floating-IP move", "after_ms": 2500, "event": {"node": "n3", "component": "floating-ip", "kind": "vrrp", "text": "holds the floating IP"}}]}]})J");
  EXPECT_EQ(render_incidents(doc),
            "INCIDENT                  OPENED                   LASTED   DECISION  DB PROMOTED IP MOVED  1ST WRITE NGINX     OPENED BY\n"
            "n2-7                      2026-12-04T20:10:00.000Z 5.0 s    +1.000 s  -           +2.500 s  -         -         "
            "n2 cluster/gossip: n1 failed\n");
  std::string one = render_incident(doc);
  EXPECT_NE(one.find("incident n2-7: opened 2026-12-04T20:10:00.000Z (n2 cluster/gossip: n1 failed), 9 events over 5.0 s"),
            std::string::npos) << one;
  EXPECT_NE(one.find("  floating-IP move    +2.500 s    n3 floating-ip/vrrp: holds the floating IP\n"), std::string::npos) << one;
  EXPECT_EQ(render_incidents(nlohmann::json::parse(R"({"incidents": []})")), "no incidents in the timeline\n");
  auto a = parse_hactl_args({"incident", "n2-7", "--json"});
  ASSERT_TRUE(a.command) << a.error;
  EXPECT_EQ(a.command->incident, "n2-7");
  EXPECT_TRUE(a.command->json);
  EXPECT_NE(parse_hactl_args({"incident"}).error.find("wants the incident's ID"), std::string::npos);
}

}  // namespace
}  // namespace hasup::cli
