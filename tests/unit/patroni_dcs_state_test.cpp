// Patroni 3.0.2's keys in Consul -> DbClusterView. The healthy keys are the
// ones measured in docs/patroni-3.0.2-findings.md section 2 (n3's member key is
// not in that excerpt: it is n1's with n3's ports from section 0).
#include <gtest/gtest.h>

#include <algorithm>

#include "components/patroni/dcs_state.hpp"

namespace hasup::patroni {
namespace {

const std::string kPrefix = "service/mgrdb/";

std::string member_value(int pg_port, int api_port, const std::string& role, const std::string& extra = "") {
  return R"({"conn_url":"postgres://127.0.0.1:)" + std::to_string(pg_port) + R"(/postgres","api_url":"http://127.0.0.1:)" +
         std::to_string(api_port) + R"(/patroni","state":"running","role":")" + role +
         R"(","version":"3.0.2","xlog_location":67108944,"timeline":1)" + extra + "}";
}

// The measured cluster: n2 leads, n3 is its sync standby, n1 an async replica.
std::vector<PatroniKey> measured_keys() {
  return {
      {kPrefix + "config", R"({"ttl":10,"loop_wait":1,"retry_timeout":4,"synchronous_mode":true})", ""},
      {kPrefix + "initialize", "7710885389525864402", ""},
      {kPrefix + "leader", "n2", "7f1c2d3e-0000-0000-0000-000000000002"},
      {kPrefix + "members/n1", member_value(34352, 35812, "replica"), "s1"},
      {kPrefix + "members/n2", member_value(30137, 30384, "master"), "7f1c2d3e-0000-0000-0000-000000000002"},
      {kPrefix + "members/n3", member_value(38621, 30017, "replica"), "s3"},
      {kPrefix + "status", R"({"optime":67108944})", ""},
      {kPrefix + "sync", R"({"leader":"n2","sync_standby":"n3"})", ""},
      {kPrefix + "history", R"([[1,67251392,"no recovery target specified","2026-11-22T06:54:23.433998+00:00","n3"]])", ""},
  };
}

std::vector<PatroniKey> with(std::vector<PatroniKey> keys, const std::string& relative, const std::string& value,
                             const std::string& session = "") {
  for (auto& k : keys)
    if (k.key == kPrefix + relative) {
      k.value = value;
      if (!session.empty()) k.session = session;
      return keys;
    }
  keys.push_back({kPrefix + relative, value, session});
  return keys;
}

std::vector<PatroniKey> without(std::vector<PatroniKey> keys, const std::string& relative) {
  std::erase_if(keys, [&](const PatroniKey& k) { return k.key == kPrefix + relative; });
  return keys;
}

db::DbClusterView parsed_view(const std::vector<PatroniKey>& keys) {
  auto parse = parse_patroni_state(kPrefix, keys);
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

TEST(PatroniDcsState, ReadsTheMeasuredKeys) {
  const auto view = parsed_view(measured_keys());
  EXPECT_EQ(view.backend, "patroni");
  EXPECT_TRUE(view.initialized);
  EXPECT_EQ(view.primary, "n2");
  EXPECT_FALSE(view.switching);
  EXPECT_EQ(view.primary_wal_position, 67108944u);
  EXPECT_EQ(view.primary_timeline, 1u);
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"n3"});
  EXPECT_EQ(view.sync_key_names, (std::vector<std::string>{"n2", "n3"})) << "the key's leader and standbys";
  EXPECT_TRUE(view.problems.empty());
  ASSERT_EQ(names(view), (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(view.members[0], (db::DbMember{"n1", db::DbRole::replica, "127.0.0.1", 34352, true, "running", 67108944u, 1u}));
  EXPECT_EQ(view.members[1], (db::DbMember{"n2", db::DbRole::primary, "127.0.0.1", 30137, true, "running", 67108944u, 1u}));
  EXPECT_EQ(view.members[2], (db::DbMember{"n3", db::DbRole::sync_standby, "127.0.0.1", 38621, true, "running", 67108944u, 1u}));
}

TEST(PatroniDcsState, MembersAreSortedByNameWhateverTheKeyOrder) {
  auto keys = measured_keys();
  std::reverse(keys.begin(), keys.end());
  EXPECT_EQ(names(parsed_view(keys)), (std::vector<std::string>{"n1", "n2", "n3"}));
}

TEST(PatroniDcsState, NoLeaderKeyMeansAFailoverIsUnderWay) {
  const auto view = parsed_view(without(measured_keys(), "leader"));
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  EXPECT_TRUE(view.sync_standbys.empty());
  EXPECT_FALSE(view.primary_timeline.has_value());
  // status.optime is the last leader position Patroni knows, failover or not.
  EXPECT_EQ(view.primary_wal_position, 67108944u);
  // n2 still says "master" without the lock: not a primary, not a replica either.
  EXPECT_EQ(view.member("n2")->role, db::DbRole::unknown);
  EXPECT_EQ(view.member("n1")->role, db::DbRole::replica);
  EXPECT_EQ(view.member("n3")->role, db::DbRole::replica);
  EXPECT_TRUE(view.problems.empty());
}

// After the primary is gone (a crash, every node's power), Patroni promotes
// only the sync key's leader or one of its standbys: the others may miss an
// acknowledged commit.
TEST(PatroniDcsState, WithoutAPrimaryTheSyncKeyNamesTheOnlyMembersPatroniPromotes) {
  auto view = parsed_view(without(measured_keys(), "leader"));
  EXPECT_EQ(view.promotable, (std::vector<std::string>{"n2", "n3"}));
  view = parsed_view(with(without(measured_keys(), "leader"), "sync", R"({"leader":"n2","sync_standby":"n3, n1,n2"})"));
  EXPECT_EQ(view.promotable, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_TRUE(parsed_view(measured_keys()).promotable.empty()) << "a primary: nothing to say";
  EXPECT_TRUE(parsed_view(without(without(measured_keys(), "leader"), "sync")).promotable.empty());
  view = parsed_view(with(without(measured_keys(), "leader"), "sync", R"({"leader":"n 2","sync_standby":"n3"})"));
  EXPECT_TRUE(view.promotable.empty());
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_NE(view.problems[0].find("the leader name"), std::string::npos);
}

TEST(PatroniDcsState, ALeaderKeyHeldByNoSessionDoesNotCount) {
  auto keys = measured_keys();
  for (auto& k : keys)
    if (k.key == kPrefix + "leader") k.session.clear();
  const auto view = parsed_view(keys);
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
}

TEST(PatroniDcsState, ALeaderThatHasNotPromotedYetIsNoPrimary) {
  // n3 took the lock; its member key still says replica until promote is done.
  const auto view = parsed_view(with(measured_keys(), "leader", "n3", "s3"));
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  EXPECT_TRUE(view.sync_standbys.empty());  // the sync key speaks for n2
  EXPECT_EQ(view.member("n3")->role, db::DbRole::replica);
}

TEST(PatroniDcsState, ALeaderWithoutAMemberKeyIsNoPrimary) {
  const auto view = parsed_view(without(measured_keys(), "members/n2"));
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  EXPECT_EQ(names(view), (std::vector<std::string>{"n1", "n3"}));
}

TEST(PatroniDcsState, NewerPatroniSaysPrimaryInsteadOfMaster) {
  const auto view = parsed_view(with(measured_keys(), "members/n2", member_value(30137, 30384, "primary")));
  EXPECT_EQ(view.primary, "n2");
  EXPECT_EQ(view.member("n2")->role, db::DbRole::primary);
}

TEST(PatroniDcsState, TheSyncKeyOfAnotherLeaderIsIgnored) {
  const auto view = parsed_view(with(measured_keys(), "sync", R"({"leader":"n1","sync_standby":"n3"})"));
  EXPECT_EQ(view.primary, "n2");
  EXPECT_TRUE(view.sync_standbys.empty());
  EXPECT_EQ(view.member("n3")->role, db::DbRole::replica);
  EXPECT_TRUE(view.problems.empty());
}

TEST(PatroniDcsState, NoSyncStandbyWhenSyncStandbyIsNull) {
  const auto view = parsed_view(with(measured_keys(), "sync", R"({"leader":"n2","sync_standby":null})"));
  EXPECT_TRUE(view.sync_standbys.empty());
  EXPECT_EQ(view.member("n3")->role, db::DbRole::replica);
  EXPECT_TRUE(view.problems.empty());
}

TEST(PatroniDcsState, SeveralSyncStandbysAreCommaSeparated) {
  const auto view = parsed_view(with(measured_keys(), "sync", R"({"leader":"n2","sync_standby":"n3, n1"})"));
  EXPECT_EQ(view.sync_standbys, (std::vector<std::string>{"n1", "n3"}));
  EXPECT_EQ(view.member("n1")->role, db::DbRole::sync_standby);
  EXPECT_EQ(view.member("n3")->role, db::DbRole::sync_standby);
  // The primary is no standby of itself.
  const auto with_primary = parsed_view(with(measured_keys(), "sync", R"({"leader":"n2","sync_standby":"n2,n3"})"));
  EXPECT_EQ(with_primary.sync_standbys, std::vector<std::string>{"n3"});
}

TEST(PatroniDcsState, ASyncStandbyWhoseMemberKeyIsGoneIsStillNamed) {
  // It holds the acknowledged commits, dead or alive.
  const auto view = parsed_view(without(measured_keys(), "members/n3"));
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"n3"});
  EXPECT_EQ(view.member("n3"), nullptr);
}

TEST(PatroniDcsState, WithoutStatusThePrimarysXlogLocationIsItsPosition) {
  auto keys = without(measured_keys(), "status");
  keys = with(keys, "members/n2",
              R"({"conn_url":"postgres://127.0.0.1:30137/postgres","state":"running","role":"master","xlog_location":67200000,"timeline":3})");
  const auto view = parsed_view(keys);
  EXPECT_EQ(view.primary_wal_position, 67200000u);
  EXPECT_EQ(view.primary_timeline, 3u);
  EXPECT_TRUE(view.problems.empty());
}

TEST(PatroniDcsState, ABadStatusKeyIsAProblemAndThePrimarysPositionIsUsed) {
  const auto view = parsed_view(with(measured_keys(), "status", R"({"optime":-5})"));
  EXPECT_EQ(view.primary_wal_position, 67108944u);  // n2's xlog_location
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_NE(view.problems[0].find("optime"), std::string::npos) << view.problems[0];
}

TEST(PatroniDcsState, AMemberDownHasNoPositionAndIsUnhealthy) {
  const auto view = parsed_view(with(measured_keys(), "members/n1",
                                     R"({"conn_url":"postgres://127.0.0.1:34352/postgres","state":"stopped","role":"replica"})"));
  const auto* n1 = view.member("n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_FALSE(n1->healthy);
  EXPECT_EQ(n1->state, "stopped");
  EXPECT_FALSE(n1->wal_position.has_value());
  EXPECT_FALSE(n1->timeline.has_value());
}

TEST(PatroniDcsState, ReadsIPv6AndPostgresqlSchemeConnUrls) {
  auto keys = with(measured_keys(), "members/n1",
                   R"({"conn_url":"postgresql://[::1]:5432/postgres","state":"running","role":"replica"})");
  keys = with(keys, "members/n3", R"({"conn_url":"postgres://db3.lab:6543/postgres","state":"running","role":"replica"})");
  const auto view = parsed_view(keys);
  EXPECT_EQ(view.member("n1")->host, "::1");
  EXPECT_EQ(view.member("n1")->port, 5432);
  EXPECT_EQ(view.member("n3")->host, "db3.lab");
  EXPECT_EQ(view.member("n3")->port, 6543);
  EXPECT_TRUE(view.problems.empty());
}

TEST(PatroniDcsState, InitializedOnlyOnceTheInitializeKeyHoldsASystemId) {
  EXPECT_FALSE(parsed_view(without(measured_keys(), "initialize")).initialized);
  // Taken with an empty value while one member bootstraps.
  EXPECT_FALSE(parsed_view(with(measured_keys(), "initialize", "")).initialized);
}

TEST(PatroniDcsState, NoKeysIsAClusterNotYetBootstrapped) {
  const auto view = parsed_view({});
  EXPECT_FALSE(view.initialized);
  EXPECT_TRUE(view.switching);
  EXPECT_TRUE(view.members.empty());
}

TEST(PatroniDcsState, UnknownKeysAreIgnored) {
  auto keys = with(measured_keys(), "optime/leader", "not a number");  // (the failover key: TheFailoverKey...)
  keys = with(keys, "failsafe", "[]");  // (the config key is read for its pause: TheConfigKeysPause...)
  keys.push_back({kPrefix, "", ""});  // the folder key some tools create
  const auto view = parsed_view(keys);
  EXPECT_EQ(view, parsed_view(measured_keys()));
}

// `value` as n1's member key: n1 is left out with one problem that says `part`;
// n2 and n3 are kept; the problem line is printable.
void expect_member_refused(const std::string& value, const std::string& part) {
  SCOPED_TRACE(value.substr(0, 200));
  const auto view = parsed_view(with(measured_keys(), "members/n1", value));
  EXPECT_EQ(names(view), (std::vector<std::string>{"n2", "n3"}));
  EXPECT_EQ(view.primary, "n2");
  EXPECT_EQ(view.sync_standbys, std::vector<std::string>{"n3"});
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_TRUE(view.problems[0].starts_with("member \"n1\": ")) << view.problems[0];
  EXPECT_NE(view.problems[0].find(part), std::string::npos) << view.problems[0];
  EXPECT_TRUE(printable_ascii(view.problems[0])) << view.problems[0];
  EXPECT_LT(view.problems[0].size(), 300u);
}

TEST(PatroniDcsState, AMemberKeyThatIsNotAJsonObjectIsRefused) {
  expect_member_refused("postgres://127.0.0.1:34352/postgres", "not a JSON object");
  expect_member_refused("{\"conn_url\":", "not a JSON object");
  expect_member_refused("[1,2]", "not a JSON object");
  expect_member_refused("", "not a JSON object");
  expect_member_refused(R"({"conn_url":")" + std::string(70000, 'a') + "\"}", "bytes is over 65536");
}

TEST(PatroniDcsState, ABadConnUrlIsRefused) {
  for (const std::string url : {"mysql://127.0.0.1:34352/postgres", "postgres://127.0.0.1/postgres",
                                "postgres://127.0.0.1:0/postgres", "postgres://127.0.0.1:65536/postgres",
                                "postgres://127.0.0.1:54x/postgres", "postgres://::1:5432/postgres",
                                "postgres://[nope]:5432/postgres", "postgres://a b:5432/postgres",
                                "postgres://h;rm -rf:5432/x", "postgres://:5432/postgres"})
    expect_member_refused(R"({"conn_url":")" + url + R"(","state":"running","role":"replica"})", "conn_url");
  expect_member_refused(R"({"conn_url":5432,"state":"running","role":"replica"})", "conn_url is missing or not a string");
  expect_member_refused(R"({"state":"running","role":"replica"})", "conn_url is missing");
}

TEST(PatroniDcsState, BadNumbersAndTypesAreRefused) {
  const std::string head = R"({"conn_url":"postgres://127.0.0.1:34352/postgres","state":"running","role":"replica",)";
  expect_member_refused(head + R"("xlog_location":-1})", "xlog_location");
  expect_member_refused(head + R"("xlog_location":18446744073709551615})", "xlog_location");
  expect_member_refused(head + R"("xlog_location":1e30})", "xlog_location");
  expect_member_refused(head + R"("xlog_location":"67108944"})", "xlog_location");
  expect_member_refused(head + R"("xlog_location":671.5})", "xlog_location");
  expect_member_refused(head + R"("timeline":0})", "timeline");
  expect_member_refused(head + R"("timeline":4294967296})", "timeline");
  expect_member_refused(head + R"("timeline":"1"})", "timeline");
  expect_member_refused(R"({"conn_url":"postgres://127.0.0.1:34352/postgres","state":1,"role":"replica"})", "state");
  expect_member_refused(R"({"conn_url":"postgres://127.0.0.1:34352/postgres","state":"running","role":null})", "role");
  expect_member_refused(
      R"({"conn_url":"postgres://127.0.0.1:34352/postgres","state":"running\nlevel=info","role":"replica"})", "state");
}

TEST(PatroniDcsState, MemberNamesMustBePlain) {
  for (const std::string& name :
       std::vector<std::string>{"n1\nlevel=info msg=ok", std::string(129, 'a'), "a/b", "n\xc3\xbc", "n 1", "n1;"}) {
    const auto view = parsed_view(with(measured_keys(), "members/" + name, member_value(5432, 8008, "replica")));
    EXPECT_EQ(names(view), (std::vector<std::string>{"n1", "n2", "n3"})) << name;
    ASSERT_EQ(view.problems.size(), 1u) << name;
    EXPECT_TRUE(view.problems[0].starts_with("member key \"service/mgrdb/members/")) << view.problems[0];
    EXPECT_TRUE(printable_ascii(view.problems[0])) << view.problems[0];
  }
  // 128 bytes is still a name.
  EXPECT_NE(parsed_view(with(measured_keys(), "members/" + std::string(128, 'a'), member_value(5432, 8008, "replica")))
                .member(std::string(128, 'a')),
            nullptr);
}

TEST(PatroniDcsState, ControlCharactersInProblemsAreEscapedAndLongValuesCut) {
  const auto view = parsed_view(with(measured_keys(), "members/n1\n\x1b[31mFAKE",
                                     R"({"conn_url":"postgres://evil)" + std::string(500, 'x') + R"(\n:1/"})"));
  ASSERT_EQ(view.problems.size(), 1u);
  const auto& line = view.problems[0];
  EXPECT_NE(line.find("n1\\x0a\\x1b[31mFAKE"), std::string::npos) << line;
  EXPECT_TRUE(printable_ascii(line)) << line;

  const auto long_url = parsed_view(with(measured_keys(), "members/n1",
                                         R"({"conn_url":"postgres://)" + std::string(5000, 'h') + R"(\u0007:1/"})"));
  ASSERT_EQ(long_url.problems.size(), 1u);
  EXPECT_LT(long_url.problems[0].size(), 200u) << long_url.problems[0];
  EXPECT_NE(long_url.problems[0].find("hhh...\""), std::string::npos) << long_url.problems[0];
}

TEST(PatroniDcsState, ABadLeaderNameIsAProblemAndNoPrimary) {
  const auto view = parsed_view(with(measured_keys(), "leader", "n2\r\nforged", "s2"));
  EXPECT_EQ(view.primary, "");
  EXPECT_TRUE(view.switching);
  ASSERT_EQ(view.problems.size(), 1u);
  EXPECT_NE(view.problems[0].find("n2\\x0d\\x0aforged"), std::string::npos) << view.problems[0];
}

TEST(PatroniDcsState, ABadSyncKeyIsAProblemAndNoSyncStandby) {
  for (const std::string value : {"{", R"({"leader":"n2","sync_standby":7})", R"(["n2","n3"])"}) {
    const auto view = parsed_view(with(measured_keys(), "sync", value));
    EXPECT_TRUE(view.sync_standbys.empty()) << value;
    EXPECT_EQ(view.member("n3")->role, db::DbRole::replica) << value;
    ASSERT_EQ(view.problems.size(), 1u) << value;
    EXPECT_TRUE(view.problems[0].starts_with("sync key: ")) << view.problems[0];
  }
  const auto bad_name = parsed_view(with(measured_keys(), "sync", R"({"leader":"n2","sync_standby":"n3,n\u00011"})"));
  EXPECT_EQ(bad_name.sync_standbys, std::vector<std::string>{"n3"});
  ASSERT_EQ(bad_name.problems.size(), 1u);
  EXPECT_NE(bad_name.problems[0].find("n\\x011"), std::string::npos) << bad_name.problems[0];
}

void expect_error(const std::string& prefix, const std::vector<PatroniKey>& keys, const std::string& part) {
  const auto parse = parse_patroni_state(prefix, keys);
  EXPECT_FALSE(parse.view.has_value());
  EXPECT_NE(parse.error.find(part), std::string::npos) << parse.error;
  EXPECT_TRUE(printable_ascii(parse.error)) << parse.error;
}

TEST(PatroniDcsState, KeysOutsideThePrefixOrNoPrefixAreAnError) {
  auto keys = measured_keys();
  keys.push_back({"service/other/leader", "n9\n", "s9"});
  expect_error(kPrefix, keys, "key \"service/other/leader\" is outside \"service/mgrdb/\"");
  expect_error("", measured_keys(), "prefix is empty");
  expect_error("service/mgrdb", measured_keys(), "does not end in '/'");
  keys = measured_keys();
  keys.push_back({"service/mgrdb2/leader", "n1", "s1"});
  expect_error(kPrefix, keys, "outside");
}

TEST(PatroniDcsState, AKeyTwiceIsAnError) {
  auto keys = measured_keys();
  keys.push_back({kPrefix + "leader", "n1", "s1"});
  expect_error(kPrefix, keys, "appears twice");
}

// Patroni's API writes the failover key for a switchover (leader and member)
// or a manual failover (member only) and deletes it once carried out.
TEST(PatroniDcsState, TheLeaderKeysMemberIsTheLeaderBeforeItIsPrimary) {
  EXPECT_EQ(parsed_view(measured_keys()).leader, "n2");
  auto promoting = parsed_view(with(measured_keys(), "members/n2", member_value(30137, 30384, "replica")));
  EXPECT_EQ(promoting.leader, "n2");
  EXPECT_EQ(promoting.primary, "");
  EXPECT_EQ(parsed_view(without(measured_keys(), "leader")).leader, "");
}

TEST(PatroniDcsState, TheFailoverKeyNamesTheSwitchoverAskedAndNotYetDone) {
  auto none = parsed_view(measured_keys());
  EXPECT_EQ(none.failover_from, "");
  EXPECT_EQ(none.failover_to, "");
  auto asked = parsed_view(with(measured_keys(), "failover", R"({"leader":"n2","member":"n3"})"));
  EXPECT_EQ(asked.failover_from, "n2");
  EXPECT_EQ(asked.failover_to, "n3");
  EXPECT_TRUE(asked.problems.empty());
  auto manual = parsed_view(with(measured_keys(), "failover", R"({"member":"n1"})"));
  EXPECT_EQ(manual.failover_from, "");
  EXPECT_EQ(manual.failover_to, "n1");
  EXPECT_TRUE(parsed_view(with(measured_keys(), "failover", "")).problems.empty()) << "an empty key: none asked";
  // Junk is named, never read as a request, and the rest of the view stays.
  for (const char* junk : {R"({"leader":1,"member":"n3"})", R"({"leader":"n2","member":"n\u0001"})", "nope", "[]"}) {
    auto view = parsed_view(with(measured_keys(), "failover", junk));
    EXPECT_EQ(view.failover_from, "") << junk;
    EXPECT_EQ(view.failover_to, "") << junk;
    EXPECT_EQ(view.primary, "n2") << junk;
    ASSERT_EQ(view.problems.size(), 1u) << junk;
    EXPECT_NE(view.problems[0].find("failover key"), std::string::npos) << view.problems[0];
  }
}

}  // namespace
}  // namespace hasup::patroni

namespace hasup::patroni {
namespace {

TEST(PatroniDcsState, TheConfigKeysPauseIsPatronisMaintenanceMode) {
  EXPECT_FALSE(parsed_view(measured_keys()).paused) << "no pause key: not paused";
  const std::string paused = R"({"ttl":10,"loop_wait":1,"synchronous_mode":true,"pause":true})";
  EXPECT_TRUE(parsed_view(with(measured_keys(), "config", paused)).paused);
  EXPECT_FALSE(parsed_view(with(measured_keys(), "config", R"({"ttl":10,"pause":null})")).paused);
  EXPECT_FALSE(parsed_view(with(measured_keys(), "config", R"({"ttl":10,"pause":false})")).paused);
  // Junk is named, never read as a pause, and the rest of the view stays.
  for (const char* junk : {R"({"pause":"yes"})", "not json", "[1]"}) {
    auto view = parsed_view(with(measured_keys(), "config", junk));
    EXPECT_FALSE(view.paused) << junk;
    EXPECT_EQ(view.primary, "n2") << junk;
    ASSERT_EQ(view.problems.size(), 1u) << junk;
    EXPECT_NE(view.problems[0].find("config key"), std::string::npos) << view.problems[0];
  }
}

// The rule the cluster runs by now: what status compares with
// cluster.durability, and what the supervisor sets when they differ.
TEST(PatroniDcsState, TheConfigKeysStrictnessIsTheRuleInForce) {
  EXPECT_EQ(parsed_view(measured_keys()).strict_in_force, std::optional<bool>(false)) << "Patroni's default";
  EXPECT_EQ(parsed_view(with(measured_keys(), "config", R"({"synchronous_mode_strict":true})")).strict_in_force,
            std::optional<bool>(true));
  auto junk = parsed_view(with(measured_keys(), "config", R"({"synchronous_mode_strict":"yes"})"));
  EXPECT_EQ(junk.strict_in_force, std::nullopt) << "junk is not read as either";
  ASSERT_EQ(junk.problems.size(), 1u);
  EXPECT_NE(junk.problems[0].find("synchronous_mode_strict"), std::string::npos) << junk.problems[0];
  std::vector<PatroniKey> no_config;
  for (const auto& k : measured_keys())
    if (!k.key.ends_with("/config")) no_config.push_back(k);
  EXPECT_EQ(parsed_view(no_config).strict_in_force, std::nullopt) << "no config key yet: not known";
}

}  // namespace
}  // namespace hasup::patroni
