// build_kv_view: a recursive listing of the cluster prefix -> the view decide()
// uses. Entries are built by hand, as parse_kv_entries would return them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "supervisor/cluster/keys.hpp"
#include "supervisor/cluster/kv_view.hpp"
#include "supervisor/cluster/records.hpp"

namespace hasup::cluster {
namespace {

const Keys kKeys{"ha-supervisor"};

consul::KvEntry entry(const std::string& key, const std::string& value, const std::string& session = "",
                      std::uint64_t modify_index = 10) {
  consul::KvEntry e;
  e.key = key;
  e.value = value;
  e.create_index = 5;
  e.modify_index = modify_index;
  e.session = session;
  return e;
}

MemberRecord member(const std::string& name, Role role = Role::follower) {
  MemberRecord r;
  r.name = name;
  r.address = "198.18.0." + name.substr(1);
  r.role = role;
  r.since = "2024-05-01T12:00:00Z";
  r.versions = {{"supervisor", "0.1.0"}};
  return r;
}

consul::KvEntry member_entry(const std::string& name, const std::string& session) {
  return entry(kKeys.member(name), encode(member(name)), session);
}

const loop::UnreadableRecord* find_unreadable(const loop::KvView& view, const std::string& key) {
  for (const auto& u : view.unreadable)
    if (u.key == key) return &u;
  return nullptr;
}

TEST(KvView, KeysLayout) {
  EXPECT_EQ(kKeys.leader(), "ha-supervisor/leader");
  EXPECT_EQ(kKeys.member("n1"), "ha-supervisor/members/n1");
  EXPECT_EQ(kKeys.maintenance("n1"), "ha-supervisor/intent/maintenance/n1");
  EXPECT_EQ(kKeys.forgotten("n1"), "ha-supervisor/forgotten/n1");
  EXPECT_EQ(kKeys.cluster_state(), "ha-supervisor/cluster/state");
}

TEST(KvView, EmptyListingIsKnownAndEmpty) {
  auto view = build_kv_view({}, kKeys);
  EXPECT_TRUE(view.known);
  EXPECT_TRUE(view.members.empty());
  EXPECT_TRUE(view.member_sessions.empty());
  EXPECT_TRUE(view.unreadable.empty());
  EXPECT_FALSE(view.leader.has_value());
  EXPECT_TRUE(view.maintenance.empty());
  EXPECT_FALSE(view.cluster_state.has_value());
}

TEST(KvView, LeaderLockWithSessionGivesLeaderWithEpochFromModifyIndex) {
  auto view = build_kv_view({entry(kKeys.leader(), encode(LeaderValue{"n2", "198.18.0.2"}), "s2", 42)}, kKeys);
  ASSERT_TRUE(view.leader.has_value());
  EXPECT_EQ(view.leader->session, "s2");
  EXPECT_EQ(view.leader->epoch, 42u);
  EXPECT_EQ(view.leader->name, "n2");  // no member record held by s2: the lock value's name
}

TEST(KvView, LeaderNameComesFromTheMemberRecordHeldByTheSameSession) {
  // The lock's value names n9, but session s2 holds n2's member record: n2 is the leader.
  auto view = build_kv_view({member_entry("n1", "s1"), member_entry("n2", "s2"),
                             entry(kKeys.leader(), encode(LeaderValue{"n9", "198.18.0.9"}), "s2", 42)},
                            kKeys);
  ASSERT_TRUE(view.leader.has_value());
  EXPECT_EQ(view.leader->name, "n2");
  EXPECT_EQ(view.leader->session, "s2");
  EXPECT_EQ(view.leader->epoch, 42u);
}

TEST(KvView, LeaderNameFromMemberSessionEvenWhenTheLeaderKeyComesFirst) {
  auto view = build_kv_view({entry(kKeys.leader(), "garbage", "s3", 7), member_entry("n3", "s3")}, kKeys);
  ASSERT_TRUE(view.leader.has_value());
  EXPECT_EQ(view.leader->name, "n3");
  EXPECT_EQ(view.leader->epoch, 7u);
}

TEST(KvView, LeaderWithUnreadableValueAndNoMemberHasNoName) {
  auto view = build_kv_view({entry(kKeys.leader(), "not json", "s2", 42)}, kKeys);
  ASSERT_TRUE(view.leader.has_value());
  EXPECT_EQ(view.leader->name, "");
  EXPECT_EQ(view.leader->session, "s2");
}

TEST(KvView, LeaderKeyWithoutSessionIsNoLeader) {
  auto view = build_kv_view({entry(kKeys.leader(), encode(LeaderValue{"n2", ""}), "", 42), member_entry("n2", "s2")},
                            kKeys);
  EXPECT_FALSE(view.leader.has_value());
}

TEST(KvView, MemberRecordsAreParsedWithTheirSessions) {
  auto view = build_kv_view({member_entry("n1", "s1"), member_entry("n2", "s2"), member_entry("n3", "s3")}, kKeys);
  ASSERT_EQ(view.members.size(), 3u);
  EXPECT_EQ(view.members.at("n1"), member("n1"));
  EXPECT_EQ(view.members.at("n2"), member("n2"));
  EXPECT_EQ(view.members.at("n3").address, "198.18.0.3");
  ASSERT_EQ(view.member_sessions.size(), 3u);
  EXPECT_EQ(view.member_sessions.at("n1"), "s1");
  EXPECT_EQ(view.member_sessions.at("n2"), "s2");
  EXPECT_EQ(view.member_sessions.at("n3"), "s3");
  EXPECT_TRUE(view.unreadable.empty());
}

TEST(KvView, MemberKeyWithoutSessionIsUnreadableNotAMember) {
  auto view = build_kv_view({member_entry("n1", "s1"), member_entry("n4", "")}, kKeys);
  EXPECT_EQ(view.members.count("n4"), 0u);
  EXPECT_EQ(view.member_sessions.count("n4"), 0u);
  const auto* u = find_unreadable(view, "ha-supervisor/members/n4");
  ASSERT_NE(u, nullptr);
  EXPECT_NE(u->error.find("not held by any session"), std::string::npos) << u->error;
  EXPECT_EQ(view.members.count("n1"), 1u);
}

TEST(KvView, MemberRecordNamingAnotherNodeIsUnreadable) {
  auto view = build_kv_view({entry(kKeys.member("n1"), encode(member("n2")), "s1")}, kKeys);
  EXPECT_TRUE(view.members.empty());
  const auto* u = find_unreadable(view, "ha-supervisor/members/n1");
  ASSERT_NE(u, nullptr);
  EXPECT_NE(u->error.find("\"n2\""), std::string::npos) << u->error;
  EXPECT_NE(u->error.find("'n1'"), std::string::npos) << u->error;
  // Its holder is still known, so nobody else may take the name.
  EXPECT_EQ(view.member_sessions.at("n1"), "s1");
}

TEST(KvView, NewerSchemaRecordIsUnreadableButItsHolderIsKnown) {
  auto view = build_kv_view({entry(kKeys.member("n5"), R"({"schema":2,"name":"n5","role":"follower"})", "s5")}, kKeys);
  EXPECT_EQ(view.members.count("n5"), 0u);
  const auto* u = find_unreadable(view, "ha-supervisor/members/n5");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->error, "written with schema 2, this supervisor reads schema 1");
  ASSERT_EQ(view.member_sessions.count("n5"), 1u);
  EXPECT_EQ(view.member_sessions.at("n5"), "s5");
}

TEST(KvView, GarbageMemberRecordIsUnreadable) {
  auto view = build_kv_view({entry(kKeys.member("n6"), "{{{", "s6")}, kKeys);
  EXPECT_TRUE(view.members.empty());
  const auto* u = find_unreadable(view, "ha-supervisor/members/n6");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->error, "malformed JSON");
}

TEST(KvView, MaintenanceIntents) {
  MaintenanceIntent on;
  on.enabled = true;
  MaintenanceIntent off;
  off.enabled = false;
  auto view = build_kv_view({entry(kKeys.maintenance("n1"), encode(on)), entry(kKeys.maintenance("n2"), encode(off)),
                             entry(kKeys.maintenance("n3"), "yes please")},
                            kKeys);
  EXPECT_EQ(view.maintenance, (std::set<std::string>{"n1"}));
  const auto* u = find_unreadable(view, "ha-supervisor/intent/maintenance/n3");
  ASSERT_NE(u, nullptr);
  EXPECT_NE(u->error.find("enabled"), std::string::npos) << u->error;
  EXPECT_EQ(find_unreadable(view, "ha-supervisor/intent/maintenance/n2"), nullptr);
  EXPECT_EQ(view.unreadable.size(), 1u);
}

// A tombstone lets every node that remembers the node let it go; one that
// cannot be read lets nothing go.
TEST(KvView, ForgottenNodeTombstones) {
  auto view = build_kv_view({entry(kKeys.forgotten("n3"), encode(ForgottenNode{"n3", "2026-12-03T14:00:00Z"})),
                             entry(kKeys.forgotten("n4"), encode(ForgottenNode{"n5", "2026-12-03T14:00:00Z"})),
                             entry(kKeys.forgotten("n6"), "gone"),
                             entry(kKeys.forgotten("N7;x"), encode(ForgottenNode{"N7;x", ""}))},
                            kKeys);
  EXPECT_EQ(view.forgotten, (std::set<std::string>{"n3"}));
  EXPECT_NE(find_unreadable(view, "ha-supervisor/forgotten/n4"), nullptr) << "names another node";
  EXPECT_NE(find_unreadable(view, "ha-supervisor/forgotten/n6"), nullptr);
  EXPECT_NE(find_unreadable(view, "ha-supervisor/forgotten/N7;x"), nullptr);
  EXPECT_EQ(view.unreadable.size(), 3u);
}

TEST(KvView, GoodClusterState) {
  ClusterState s;
  s.leader = "n2";
  s.epoch = 42;
  s.members = {"n1", "n2"};
  s.changed_at = "2024-05-01T12:00:00Z";
  auto view = build_kv_view({entry(kKeys.cluster_state(), encode(s))}, kKeys);
  ASSERT_TRUE(view.cluster_state.has_value());
  EXPECT_EQ(*view.cluster_state, s);
  EXPECT_TRUE(view.unreadable.empty());
}

TEST(KvView, BadClusterStateIsUnreadable) {
  auto view = build_kv_view({entry(kKeys.cluster_state(), R"({"schema":1,"leader":"n2"})")}, kKeys);
  EXPECT_FALSE(view.cluster_state.has_value());
  const auto* u = find_unreadable(view, "ha-supervisor/cluster/state");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->error, "missing changed_at");
}

TEST(KvView, UnrelatedKeysUnderThePrefixAreIgnored) {
  auto view = build_kv_view({entry("ha-supervisor/future/feature", "whatever", "s1"),
                             entry("ha-supervisor/members", "dir marker"), entry("ha-supervisor/members/", "", "s1"),
                             entry("ha-supervisor/intent/other/n1", R"({"enabled":true})"),
                             entry("ha-supervisor/cluster/state-old", "junk")},
                            kKeys);
  EXPECT_TRUE(view.members.empty());
  EXPECT_TRUE(view.member_sessions.empty());
  EXPECT_TRUE(view.unreadable.empty());
  EXPECT_TRUE(view.maintenance.empty());
  EXPECT_FALSE(view.cluster_state.has_value());
  EXPECT_FALSE(view.leader.has_value());
}

TEST(KvView, KeysOfAnotherPrefixSharingItsFirstLettersAreNotMembers) {
  auto view = build_kv_view(
      {entry("ha-supervisor-other/members/x", encode(member("x")), "sx"),
       entry("ha-supervisor-other/leader", encode(LeaderValue{"x", ""}), "sx", 9),
       entry("ha-supervisor-other/intent/maintenance/x", R"({"enabled":true})"),
       entry("ha-supervisor-other/cluster/state", "junk")},
      kKeys);
  EXPECT_TRUE(view.members.empty());
  EXPECT_TRUE(view.member_sessions.empty());
  EXPECT_FALSE(view.leader.has_value());
  EXPECT_TRUE(view.maintenance.empty());
  EXPECT_TRUE(view.unreadable.empty());
}

// Names from keys and addresses from records reach HTTP headers (the gate's
// X-Replicated-To), rendered configs and terminals: only a node name and a
// host address count; anything else is unreadable, shown escaped.
TEST(KvView, NamesThatAreNotNodeNamesAndBadAddressesAreUnreadable) {
  MemberRecord forged = member("n1");
  forged.name = "n1\r\nX-Evil: 1";
  MemberRecord bad_address = member("n4");
  bad_address.address = "198.18.0.4; include /etc/shadow";
  NodeRegistration node{"n5\x1b[2J", "198.18.0.5", ""};
  NodeRegistration node_bad_address{"n6", "a b", ""};
  auto view = build_kv_view({entry(kKeys.member(forged.name), encode(forged), "s9"), member_entry("n2", "s2"),
                             entry(kKeys.member("n4"), encode(bad_address), "s4"),
                             entry(kKeys.node(node.name), encode(node)),
                             entry(kKeys.node("n6"), encode(node_bad_address)),
                             entry(kKeys.maintenance("N7 !"), R"({"enabled":true,"requested_by":"ops"})")},
                            kKeys);
  EXPECT_EQ(view.members.size(), 1u);
  EXPECT_EQ(view.members.count("n2"), 1u);
  EXPECT_EQ(view.member_sessions.count(forged.name), 0u);
  EXPECT_TRUE(view.registered.empty());
  EXPECT_TRUE(view.maintenance.empty());
  ASSERT_EQ(view.unreadable.size(), 5u);
  const auto* u = find_unreadable(view, kKeys.member(forged.name));
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->error.find('\r'), std::string::npos) << "the reason is printable: " << u->error;
  EXPECT_NE(u->error.find("\\x0d\\x0a"), std::string::npos) << u->error;
  u = find_unreadable(view, kKeys.member("n4"));
  ASSERT_NE(u, nullptr);
  EXPECT_NE(u->error.find("is not a valid IPv4/IPv6 address or host name"), std::string::npos) << u->error;
  // Its holder is still known, so nobody else may take the name.
  EXPECT_EQ(view.member_sessions.at("n4"), "s4");
  EXPECT_NE(find_unreadable(view, kKeys.node("n6")), nullptr);
}

TEST(KvView, FullClusterListing) {
  ClusterState s;
  s.leader = "n2";
  s.epoch = 42;
  s.members = {"n1", "n2", "n3"};
  s.changed_at = "t";
  auto view = build_kv_view({entry(kKeys.cluster_state(), encode(s)),
                             entry(kKeys.leader(), encode(LeaderValue{"n2", "198.18.0.2"}), "s2", 42),
                             member_entry("n1", "s1"), member_entry("n2", "s2"), member_entry("n3", "s3"),
                             entry(kKeys.maintenance("n3"), R"({"enabled":true,"requested_by":"ops"})")},
                            kKeys);
  EXPECT_TRUE(view.known);
  EXPECT_EQ(view.members.size(), 3u);
  ASSERT_TRUE(view.leader.has_value());
  EXPECT_EQ(view.leader->name, "n2");
  EXPECT_EQ(view.leader->epoch, 42u);
  EXPECT_EQ(view.maintenance, (std::set<std::string>{"n3"}));
  ASSERT_TRUE(view.cluster_state.has_value());
  EXPECT_EQ(view.cluster_state->leader, "n2");
  EXPECT_TRUE(view.unreadable.empty());
}

}  // namespace
}  // namespace hasup::cluster
