// The status API documents (GET /cluster, GET /health) and `hactl status`'s
// table made from /cluster.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/status_table.hpp"

namespace hasup {
namespace {

using cluster::ClusterState;
using cluster::MemberRecord;
using cluster::Role;
using loop::Plan;
using loop::Snapshot;
using nlohmann::json;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in:\n" << text;
}

MemberRecord record(const std::string& name, Role role, std::uint64_t epoch = 0) {
  MemberRecord r;
  r.name = name;
  r.address = "198.18.0." + name.substr(1);
  r.role = role;
  r.health = "ok";
  r.versions = {{"supervisor", "0.1.0"}};
  r.since = "2024-05-01T12:0" + name.substr(1) + ":00Z";
  r.leader_epoch = epoch;
  return r;
}

// n1's view: n2 leads (epoch 42), n3 is a follower with maintenance intent,
// one unreadable record.
Snapshot snapshot() {
  Snapshot s;
  s.self = "n1";
  s.self_address = "198.18.0.1";
  s.consul.agent_known = true;
  s.consul.agent_node = "consul-n1";
  s.consul.ever_reached_quorum = true;
  s.consul.quorum_reachable = true;
  s.consul.since_quorum_contact = std::chrono::milliseconds(150);
  s.consul.quorum_loss_timeout = std::chrono::milliseconds(5000);
  s.consul.last_error = "";
  s.service_registered = true;
  s.session = {"0123456789abcdef-session", true};
  s.kv.known = true;
  s.kv.members["n1"] = record("n1", Role::follower);
  s.kv.members["n2"] = record("n2", Role::leader, 42);
  s.kv.members["n3"] = record("n3", Role::follower);
  s.kv.members["n3"].syncthing_device_id = "DEV3";
  s.kv.member_sessions = {{"n1", "0123456789abcdef-session"}, {"n2", "s2"}, {"n3", "s3"}};
  s.kv.leader = loop::LeaderLock{"s2", 42, "n2"};
  s.kv.maintenance = {"n3"};
  s.kv.unreadable.push_back({"ha-supervisor/members/n5", "written with schema 2, this supervisor reads schema 1"});
  s.kv.cluster_state = ClusterState{"n2", 42, {"n1", "n2", "n3"}, "2024-05-01T11:00:00Z"};
  return s;
}

Plan plan(Role role, const std::string& reason = "follower of n2 (epoch 42)") {
  Plan p;
  p.role = role;
  p.reason = reason;
  return p;
}

// ---------------------------------------------------------------- /cluster

TEST(ClusterDocument, Self) {
  json doc = api::cluster_document(snapshot(), plan(Role::follower));
  const json& self = doc["self"];
  EXPECT_EQ(self["name"], "n1");
  EXPECT_EQ(self["address"], "198.18.0.1");
  EXPECT_EQ(self["role"], "follower");
  EXPECT_EQ(self["reason"], "follower of n2 (epoch 42)");
  EXPECT_EQ(self["session"], "01234567");  // shortened
  EXPECT_EQ(self["quorum"]["reachable"], true);
  EXPECT_EQ(self["quorum"]["since_contact_ms"], 150);
  EXPECT_EQ(self["quorum"]["bound_ms"], 5000);
  EXPECT_EQ(self["consul_node"], "consul-n1");
  EXPECT_EQ(self["consul_error"], "");
}

// What this node has switched on, as it can see it; null where Consul did not say.
TEST(ClusterDocument, ProtectionsSayWhatIsOnWhatIsOffAndWhatIsUnknown) {
  Snapshot s = snapshot();
  s.consul.agent_protections = {.gossip_encrypted = true, .rpc_tls = true, .acls_deny = false,
                                .api_https_only = true};
  s.vip.enabled = true;
  s.vip.filter_enabled = true;
  s.vip.filter_error = "/usr/sbin/nft -f /run/ha-supervisor/vrrp-filter.nft: exit 1";
  json p = api::cluster_document(s, plan(Role::follower))["self"]["protections"];
  EXPECT_EQ(p["consul_gossip_encryption"], true);
  EXPECT_EQ(p["consul_rpc_tls"], true);
  EXPECT_EQ(p["consul_acls_default_deny"], false);
  EXPECT_EQ(p["consul_api_https_only"], true);
  EXPECT_EQ(p["vrrp_filter"], "not loaded: /usr/sbin/nft -f /run/ha-supervisor/vrrp-filter.nft: exit 1");
  EXPECT_EQ(p["members_only_ports"], "off (members_only.enabled)");
  s.members_only.enabled = true;
  EXPECT_EQ(api::cluster_document(s, plan(Role::follower))["self"]["protections"]["members_only_ports"],
            "not loaded yet");
  s.members_only.applied = "table ip ha_supervisor_members_only ...";
  EXPECT_EQ(api::cluster_document(s, plan(Role::follower))["self"]["protections"]["members_only_ports"], "loaded");
  s.members_only = {};
  EXPECT_EQ(p["api_writes"], "token (root only)");
  EXPECT_FALSE(p.contains("patroni_rest_auth")) << "no Patroni here";
  s.vip.filter_applied = "table ip ha_supervisor_vrrp ...";
  EXPECT_EQ(api::cluster_document(s, plan(Role::follower))["self"]["protections"]["vrrp_filter"], "loaded");
  s.consul.agent_protections = {};
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "protections: Consul gossip encryption unknown, RPC TLS unknown, ACLs (default deny) "
                              "unknown, API HTTPS only unknown, VRRP filter loaded, members-only ports off (members_only.enabled), API "
                              "writes token (root only)\n"))
      << table;
  s.consul.agent_protections = {.gossip_encrypted = false, .rpc_tls = true, .acls_deny = false,
                                .api_https_only = false};
  table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "Consul gossip encryption OFF, RPC TLS on, ACLs (default deny) OFF, API HTTPS only OFF"))
      << table;
}

// The one durability rule: what it means, what the database runs by, and
// whether this node writes with one copy right now (two managers, one down).
TEST(ClusterDocument, DurabilitySaysTheRuleWhatTheDatabaseRunsByAndWhatHappensNow) {
  Snapshot s = snapshot();
  s.durability = "available";
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.cluster.initialized = true;
  s.db.cluster.primary = "n1";
  s.db.cluster.sync_standbys = {"n2"};
  s.db.cluster.strict_in_force = false;
  s.files.enabled = true;
  s.files.api_known = true;
  s.files.peers["DEV2"] = loop::SyncPeerView{"n2", "DEV2", true, {}};
  json d = api::cluster_document(s, plan(Role::follower))["durability"];
  EXPECT_EQ(d["rule"], "available");
  EXPECT_EQ(d["database"], "commits go on with one copy when no standby is left");
  EXPECT_EQ(d["now"], json::array()) << "a standby and a peer: two copies";
  EXPECT_FALSE(d.contains("database_differs"));

  s.db.cluster.sync_standbys.clear();
  s.files.peers["DEV2"].connected = false;
  d = api::cluster_document(s, plan(Role::follower))["durability"];
  EXPECT_EQ(d["now"], json::array({"new commits on this primary have one copy: no synchronous standby",
                                   "uploads to this node are acknowledged with one copy: no peer connected"}));
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "durability: available: a node alone acknowledges writes and uploads with one copy"));
  EXPECT_TRUE(contains(table, "  now: uploads to this node are acknowledged with one copy: no peer connected\n"));

  s.durability = "strict";
  s.db.patroni.model.synchronous_mode_strict = true;
  d = api::cluster_document(s, plan(Role::follower))["durability"];
  EXPECT_EQ(d["database_differs"], "Patroni runs by the other rule: the supervisors' leader sets it");
  EXPECT_EQ(d["now"][0], "commits on this primary wait: no synchronous standby");
  EXPECT_EQ(d["now"][1], "uploads to this node are refused: no peer connected");
}

// The gate takes its rule from its own config: status shows what it says it
// runs by, and a difference from cluster.durability.
TEST(ClusterDocument, DurabilityShowsTheUploadGatesRuleAndADifference) {
  Snapshot s = snapshot();
  s.durability = "available";
  s.files.enabled = true;
  s.gate_durability = "available";
  json d = api::cluster_document(s, plan(Role::follower))["durability"];
  EXPECT_EQ(d["uploads"], "available (the upload gate's replication.durability)");
  EXPECT_FALSE(d.contains("uploads_differ"));

  s.gate_durability = "strict";
  d = api::cluster_document(s, plan(Role::follower))["durability"];
  EXPECT_EQ(d["uploads_differ"], "the upload gate runs by \"strict\", not \"available\": set its "
                                 "replication.durability to \"available\" and restart it");
  const std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "  uploads: strict (the upload gate's replication.durability)\n")) << table;
  EXPECT_TRUE(contains(table, "  uploads: the upload gate runs by \"strict\", not \"available\"")) << table;

  s.gate_durability.clear();
  s.gate_durability_error = "/run/ha-upload-gate/durability: No such file or directory";
  d = api::cluster_document(s, plan(Role::follower))["durability"];
  EXPECT_EQ(d["uploads"], "the upload gate's rule is not known: /run/ha-upload-gate/durability: No such file or directory");
  EXPECT_FALSE(d.contains("uploads_differ"));

  s.files.enabled = false;  // a witness: no gate
  EXPECT_FALSE(api::cluster_document(s, plan(Role::follower))["durability"].contains("uploads"));
}

TEST(ClusterDocument, SelfWithoutValidSessionShowsNone) {
  Snapshot s = snapshot();
  s.session.valid = false;
  json doc = api::cluster_document(s, plan(Role::starting));
  EXPECT_EQ(doc["self"]["session"], "");
  EXPECT_EQ(doc["self"]["role"], "starting");
}

TEST(ClusterDocument, LeaderMembersUnreadableMaintenanceAndClusterState) {
  json doc = api::cluster_document(snapshot(), plan(Role::follower));
  EXPECT_EQ(doc["leader"], (json{{"name", "n2"}, {"epoch", 42}}));
  EXPECT_EQ(doc["stale"], false);

  ASSERT_TRUE(doc["members"].is_array());
  ASSERT_EQ(doc["members"].size(), 3u);
  const json& n2 = doc["members"][1];
  EXPECT_EQ(n2["name"], "n2");
  EXPECT_EQ(n2["address"], "198.18.0.2");
  EXPECT_EQ(n2["role"], "leader");
  EXPECT_EQ(n2["health"], "ok");
  EXPECT_EQ(n2["since"], "2024-05-01T12:02:00Z");
  EXPECT_EQ(n2["leader_epoch"], 42);
  EXPECT_EQ(n2["versions"]["supervisor"], "0.1.0");
  EXPECT_EQ(n2["maintenance"], false);
  const json& n3 = doc["members"][2];
  EXPECT_EQ(n3["name"], "n3");
  EXPECT_EQ(n3["maintenance"], true);
  EXPECT_EQ(n3["syncthing_device_id"], "DEV3");
  EXPECT_EQ(n3["leader_epoch"], 0);

  ASSERT_EQ(doc["unreadable"].size(), 1u);
  EXPECT_EQ(doc["unreadable"][0]["key"], "ha-supervisor/members/n5");
  EXPECT_EQ(doc["unreadable"][0]["error"], "written with schema 2, this supervisor reads schema 1");

  EXPECT_EQ(doc["maintenance"], json::array({"n3"}));

  EXPECT_EQ(doc["cluster_state"]["leader"], "n2");
  EXPECT_EQ(doc["cluster_state"]["epoch"], 42);
  EXPECT_EQ(doc["cluster_state"]["members"], json::array({"n1", "n2", "n3"}));
  EXPECT_EQ(doc["cluster_state"]["changed_at"], "2024-05-01T11:00:00Z");
}

TEST(ClusterDocument, NoLeaderAndNoClusterStateAreNull) {
  Snapshot s = snapshot();
  s.kv.leader.reset();
  s.kv.cluster_state.reset();
  s.kv.members.clear();
  s.kv.unreadable.clear();
  s.kv.maintenance.clear();
  json doc = api::cluster_document(s, plan(Role::follower));
  EXPECT_TRUE(doc["leader"].is_null());
  EXPECT_TRUE(doc["cluster_state"].is_null());
  EXPECT_EQ(doc["members"], json::array());
  EXPECT_EQ(doc["unreadable"], json::array());
  EXPECT_EQ(doc["maintenance"], json::array());
}

TEST(ClusterDocument, CutOffNodeMarksItsViewStale) {
  Snapshot s = snapshot();
  s.consul.quorum_reachable = false;
  s.consul.since_quorum_contact = std::chrono::milliseconds(9000);
  s.consul.last_error = "consul timeout: read";
  json doc = api::cluster_document(s, plan(Role::cut_off, "cut off"));
  EXPECT_EQ(doc["stale"], true);
  EXPECT_EQ(doc["self"]["role"], "cut-off");
  EXPECT_EQ(doc["self"]["quorum"]["reachable"], false);
  EXPECT_EQ(doc["self"]["quorum"]["since_contact_ms"], 9000);
  EXPECT_EQ(doc["self"]["consul_error"], "consul timeout: read");
  // the last view is still shown
  EXPECT_EQ(doc["leader"]["name"], "n2");
  EXPECT_EQ(doc["members"].size(), 3u);
}

// ---------------------------------------------------------------- /health

TEST(HealthDocument, HealthyOnlyWhenTakingPartInTheCluster) {
  Snapshot s = snapshot();
  for (Role r : {Role::leader, Role::follower, Role::maintenance}) {
    EXPECT_TRUE(api::is_healthy(plan(r))) << cluster::to_string(r);
    EXPECT_EQ(api::health_document(s, plan(r))["healthy"], true) << cluster::to_string(r);
  }
  for (Role r : {Role::starting, Role::cut_off, Role::stopping}) {
    EXPECT_FALSE(api::is_healthy(plan(r))) << cluster::to_string(r);
    EXPECT_EQ(api::health_document(s, plan(r))["healthy"], false) << cluster::to_string(r);
  }
}

TEST(HealthDocument, Fields) {
  Snapshot s = snapshot();
  s.consul.quorum_reachable = false;
  json doc = api::health_document(s, plan(Role::cut_off, "cut off: no Consul quorum"));
  EXPECT_EQ(doc["name"], "n1");
  EXPECT_EQ(doc["role"], "cut-off");
  EXPECT_EQ(doc["reason"], "cut off: no Consul quorum");
  EXPECT_EQ(doc["quorum_reachable"], false);
  EXPECT_EQ(doc["healthy"], false);
}

// ---------------------------------------------------------------- hactl status table

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The table row whose first column is `node`, split on runs of 2+ spaces.
std::vector<std::string> row_of(const std::string& table, const std::string& node) {
  for (const auto& line : lines_of(table)) {
    if (line.rfind(node + " ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::size_t i = 0;
    while (i < line.size()) {
      auto gap = line.find("  ", i);
      std::string cell = line.substr(i, gap == std::string::npos ? std::string::npos : gap - i);
      cells.push_back(cell);
      if (gap == std::string::npos) break;
      i = line.find_first_not_of(' ', gap);
      if (i == std::string::npos) break;
    }
    return cells;
  }
  return {};
}

TEST(StatusTable, HeaderNamesLeaderAndEpoch) {
  std::string table = cli::render_status_table(api::cluster_document(snapshot(), plan(Role::follower)));
  auto lines = lines_of(table);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(contains(lines[0], "leader: n2 (epoch 42)"));
  EXPECT_TRUE(contains(lines[0], "quorum: reachable"));
  EXPECT_TRUE(contains(lines[0], "seen from: n1"));
  EXPECT_FALSE(contains(table, "cut off"));
  EXPECT_TRUE(contains(table, "this node: follower: follower of n2 (epoch 42)"));
}

TEST(StatusTable, ColumnsAndOneRowPerMember) {
  std::string table = cli::render_status_table(api::cluster_document(snapshot(), plan(Role::follower)));
  bool header_found = false;
  for (const auto& line : lines_of(table)) {
    if (line.rfind("NODE", 0) != 0) continue;
    header_found = true;
    auto node = line.find("NODE"), address = line.find("ADDRESS"), role = line.find("ROLE"),
         health = line.find("HEALTH"), epoch = line.find("LEADER EPOCH"), change = line.find("LAST CHANGE");
    ASSERT_NE(address, std::string::npos);
    ASSERT_NE(role, std::string::npos);
    ASSERT_NE(health, std::string::npos);
    ASSERT_NE(epoch, std::string::npos);
    ASSERT_NE(change, std::string::npos);
    EXPECT_LT(node, address);
    EXPECT_LT(address, role);
    EXPECT_LT(role, health);
    EXPECT_LT(health, epoch);
    EXPECT_LT(epoch, change);
  }
  EXPECT_TRUE(header_found) << table;

  EXPECT_EQ(row_of(table, "n1"),
            (std::vector<std::string>{"n1", "198.18.0.1", "follower", "ok", "-", "2024-05-01T12:01:00Z"}));
  EXPECT_EQ(row_of(table, "n2"),
            (std::vector<std::string>{"n2", "198.18.0.2", "leader", "ok", "42", "2024-05-01T12:02:00Z"}));
  EXPECT_EQ(row_of(table, "n3"), (std::vector<std::string>{"n3", "198.18.0.3", "follower (maintenance)", "ok", "-",
                                                           "2024-05-01T12:03:00Z"}));
}

TEST(StatusTable, TheSupervisorsVersionOnEveryNodeAndEachVersionWhenTheyDiffer) {
  Snapshot s = snapshot();
  for (auto& [name, m] : s.kv.members) m.versions["supervisor"] = "0.9.0";
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "versions: supervisor 0.9.0 on every node\n")) << table;
  s.kv.members.begin()->second.versions["supervisor"] = "0.10.0";
  table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "versions: supervisor 0.10.0 on " + s.kv.members.begin()->first + "; 0.9.0 on ")) << table;
  EXPECT_TRUE(contains(table, " (mixed: an upgrade under way?)")) << table;
}

// With nginx managed, every node's served config shows in its own column
// (this node's from what it knows now, the others' from their records), and
// this node's upstreams, refusals and errors under the table.
TEST(StatusTable, NginxGenerationPerNodeAndThisNodesDetails) {
  Snapshot s = snapshot();
  s.kv.members["n2"].nginx_config = "gen 5 0badcafe";
  s.nginx.enabled = true;
  s.nginx.current_body = "events {}\n";
  s.nginx.generation = 3;
  s.nginx.fingerprint = "0badcafe";
  s.nginx.reloads = 2;
  loop::WatchedService rest;
  rest.name = "rest-service";
  rest.known = true;
  rest.set.servers = {{"198.18.0.11", 8100, "n1", "rest-n1"}};
  rest.rejected = {"evil on n9: address \"1.2.3.4; include /etc/shadow\" is not an IP address or host name"};
  s.nginx.services.push_back(rest);
  s.nginx.rejected_error = "nginx -t: exit 1: unexpected end of file";
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_EQ(row_of(table, "n1").back(), "gen 3 0badcafe") << table;
  EXPECT_EQ(row_of(table, "n2").back(), "gen 5 0badcafe") << table;
  EXPECT_EQ(row_of(table, "n3").back(), "-") << table;
  EXPECT_TRUE(contains(table, "NGINX")) << table;
  EXPECT_TRUE(contains(table, "nginx: gen 3 0badcafe, 2 reload(s)")) << table;
  EXPECT_TRUE(contains(table, "  rest-service: 198.18.0.11:8100")) << table;
  EXPECT_TRUE(contains(table, "refused from Consul: rest-service: evil on n9")) << table;
  EXPECT_TRUE(contains(table, "refused config: nginx -t: exit 1")) << table;
}

// A daemon found running an older file than its config and reloaded for it
// (supervisor/loop/stale_file.hpp): in the JSON always, in the text once it happened.
TEST(StatusTable, ADaemonCaughtUpWithItsFileIsNamed) {
  Snapshot s = snapshot();
  s.nginx.enabled = true;
  s.nginx.current_body = "events {}\n";
  s.vip.enabled = true;
  std::string quiet = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_FALSE(contains(quiet, "older file")) << quiet;
  s.nginx.conf_file.catch_up_reloads = 1;
  s.vip.conf_file.catch_up_error = "reload of keepalived.service: failed";
  auto doc = api::cluster_document(s, plan(Role::follower));
  EXPECT_EQ(doc["self"]["nginx"]["older_file_reloads"], 1) << doc["self"].dump();
  EXPECT_EQ(doc["self"]["vip"]["older_file_error"], "reload of keepalived.service: failed");
  std::string table = cli::render_status_table(doc);
  EXPECT_TRUE(contains(table, "  nginx was running an older file than its config: reloaded 1 time(s)")) << table;
  EXPECT_TRUE(contains(table, "floating IP: keepalived runs an older file than its config; the reload failed: "
                              "reload of keepalived.service: failed"))
      << table;
}

TEST(StatusTable, FloatingIpColumnShowsTheHolderAndEachNodesVrrpState) {
  Snapshot s = snapshot();
  s.vip.enabled = true;
  s.vip.vrrp_state = "MASTER";
  s.vip.holds_address = true;
  s.kv.members["n2"].vrrp_state = "BACKUP";
  s.kv.members["n3"].vrrp_state = "FAULT";
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(table, "FLOATING IP")) << table;
  EXPECT_EQ(row_of(table, "n1").back(), "holder (MASTER)") << table;
  EXPECT_EQ(row_of(table, "n2").back(), "BACKUP") << table;
  EXPECT_EQ(row_of(table, "n3").back(), "FAULT") << table;
}

TEST(StatusTable, MaintenanceRoleIsNotMarkedTwice) {
  Snapshot s = snapshot();
  s.kv.members["n3"].role = Role::maintenance;
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  auto row = row_of(table, "n3");
  ASSERT_GE(row.size(), 3u) << table;
  EXPECT_EQ(row[2], "maintenance");
  EXPECT_FALSE(contains(table, "(maintenance)"));
}

TEST(StatusTable, CutOffWarningWhenStale) {
  Snapshot s = snapshot();
  s.consul.quorum_reachable = false;
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::cut_off, "cut off: no quorum")));
  EXPECT_TRUE(contains(table, "quorum: NOT reachable"));
  EXPECT_TRUE(contains(table, "warning: this node is cut off from the Consul quorum"));
  EXPECT_TRUE(contains(table, "this node: cut-off: cut off: no quorum"));
  // the last view is still shown under the warning
  EXPECT_EQ(row_of(table, "n2").size(), 6u) << table;
}

TEST(StatusTable, UnreadableRecordsAreListed) {
  std::string table = cli::render_status_table(api::cluster_document(snapshot(), plan(Role::follower)));
  EXPECT_TRUE(contains(table, "unreadable records (ignored):"));
  EXPECT_TRUE(contains(table,
                       "  ha-supervisor/members/n5: written with schema 2, this supervisor reads schema 1"));
}

TEST(StatusTable, NoLeaderNoMembers) {
  Snapshot s = snapshot();
  s.kv.leader.reset();
  s.kv.members.clear();
  s.kv.unreadable.clear();
  std::string table = cli::render_status_table(api::cluster_document(s, plan(Role::follower)));
  EXPECT_TRUE(contains(lines_of(table)[0], "leader: none"));
  EXPECT_TRUE(contains(table, "(no live members)"));
  EXPECT_FALSE(contains(table, "unreadable"));
}

// Renders, turning an exception into a test failure with the document shown.
::testing::AssertionResult renders(const json& doc, std::string& out) {
  try {
    out = cli::render_status_table(doc);
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "render_status_table threw on " << doc.dump() << ": " << e.what();
  }
}

TEST(StatusTable, JunkWithoutThrowingEmptyObjectAndMembersNotArray) {
  for (const json& doc : {json::object(), json{{"members", "n1,n2"}}, json{{"members", json::array({1, "n1", nullptr})}},
                          json{{"members", json::array({json{{"name", 5}, {"leader_epoch", "x"}, {"role", nullptr}}})}},
                          json{{"self", "n1"}}, json{{"self", json{{"quorum", "yes"}}}}, json{{"leader", "n2"}},
                          json{{"leader", nullptr}}, json{{"unreadable", "x"}}, json{{"unreadable", json::array({1, "a"})}}}) {
    std::string out;
    ASSERT_TRUE(renders(doc, out));
    EXPECT_TRUE(contains(out, "leader: none")) << doc.dump();
  }
  std::string out;
  ASSERT_TRUE(renders(json{{"members", json::array({json{{"name", 5}, {"leader_epoch", "x"}}})}}, out));
  auto row = row_of(out, "5");
  ASSERT_EQ(row.size(), 6u) << out;
  EXPECT_EQ(row[1], "?");  // missing address
  EXPECT_EQ(row[4], "x");
}

TEST(StatusTable, LeaderWithWrongTypedFieldsShowsQuestionMarks) {
  std::string out;
  ASSERT_TRUE(renders(json{{"leader", json{{"name", nullptr}}}}, out));
  EXPECT_TRUE(contains(out, "leader: ? (epoch ?)"));
}

// Regression (was a bug): render_status_table calls
// doc.value("stale", false), and nlohmann's value() throws type_error.306 when
// the document is not an object: a null or array document (a proxy's or an old
// version's answer) makes `hactl status` throw instead of printing "leader: none",
// although status_table.hpp promises it never throws.
TEST(StatusTable, JunkNullDocumentDoesNotThrow) {
  std::string out;
  ASSERT_TRUE(renders(json(nullptr), out));
  EXPECT_TRUE(contains(out, "leader: none"));
}

// Regression (was a bug): same as above, for a JSON array.
TEST(StatusTable, JunkArrayDocumentDoesNotThrow) {
  std::string out;
  ASSERT_TRUE(renders(json::array({1, 2, 3}), out));
  EXPECT_TRUE(contains(out, "leader: none"));
}

// Regression (was a bug): value() with a default also throws (type_error.302) when the field is
// present with another type: "stale", "quorum.reachable"
// and a member's "maintenance".
TEST(StatusTable, JunkWrongTypedFlagsDoNotThrow) {
  for (const json& doc : {json{{"stale", "yes"}}, json{{"self", json{{"quorum", json{{"reachable", "yes"}}}}}},
                          json{{"members", json::array({json{{"name", "n1"}, {"maintenance", "yes"}}})}}}) {
    std::string out;
    EXPECT_TRUE(renders(doc, out));
    EXPECT_TRUE(contains(out, "leader: none")) << doc.dump();
  }
}

}  // namespace
}  // namespace hasup

namespace hasup {
namespace {

// A cut-off node cannot publish that it is cut off; its own row must still say so.
TEST(ClusterDocument, OwnRowShowsTheLiveRoleNotTheLastPublishedOne) {
  Snapshot s = snapshot();
  s.consul.quorum_reachable = false;
  Plan plan;
  plan.role = Role::cut_off;
  plan.reason = "cut off";
  json doc = api::cluster_document(s, plan);
  for (const auto& m : doc["members"]) {
    if (m["name"] == "n1") {
      EXPECT_EQ(m["role"], "cut-off");
      EXPECT_EQ(m["health"], "no Consul quorum");
    } else {
      EXPECT_EQ(m["health"], "ok") << "other rows are what Consul last held";
    }
  }
  EXPECT_TRUE(doc["stale"].get<bool>());
}

}  // namespace
}  // namespace hasup

namespace hasup {
namespace {

// A syncthing conflict copy named in Latin-1 (not UTF-8) reached /cluster's
// JSON, nlohmann's strict dump() threw, and the supervisor aborted.
TEST(ClusterDocument, AFileNameThatIsNotUtf8IsShownNotThrown) {
  Snapshot s = snapshot();
  s.files.enabled = true;
  s.files.conflicts = 1;
  s.files.conflict_examples = {"blueprints/caf\xe9.sync-conflict-20261203-101010-ABCDEFG.yaml"};
  json doc = api::cluster_document(s, plan(Role::follower));
  EXPECT_THROW((void)doc.dump(), nlohmann::json::type_error) << "what json_text guards against";
  std::string text;
  ASSERT_NO_THROW(text = api::document_text(doc));
  EXPECT_TRUE(contains(text, "blueprints/caf\xef\xbf\xbd.sync-conflict")) << text;  // U+FFFD
  EXPECT_FALSE(json::parse(text).is_discarded());
}

// Names and reasons come from Consul and the resources folder: in hactl's
// table an escape sequence would be acted on by the operator's terminal.
TEST(StatusTable, ControlCharactersFromOutsideNeverReachTheTerminal) {
  Snapshot s = snapshot();
  s.files.enabled = true;
  s.files.conflicts = 2;
  s.files.conflict_examples = {"a\x1b]0;owned\x07" "b", "c\xc2\x9b" "31md"};
  std::string table =
      cli::render_status_table(api::cluster_document(s, plan(Role::follower, "waiting\x1b[2J for n2\r")));
  EXPECT_FALSE(contains(table, "\x1b")) << table;
  EXPECT_FALSE(contains(table, "\x07")) << table;
  EXPECT_FALSE(contains(table, "\r")) << table;
  EXPECT_FALSE(contains(table, "\xc2\x9b")) << table;
  EXPECT_TRUE(contains(table, "a?]0;owned?b")) << table;
  EXPECT_TRUE(contains(table, "c?31md")) << table;
  EXPECT_TRUE(contains(table, "waiting?[2J for n2?")) << table;
}

}  // namespace
}  // namespace hasup

namespace hasup {
namespace {

TEST(StatusTable, SaysWhichNodeWaitsForARestartOrRefusedTheClusterSettings) {
  Snapshot s = snapshot();
  Plan p = plan(Role::follower);
  std::string table = cli::render_status_table(api::cluster_document(s, p));
  EXPECT_EQ(table.find("settings:"), std::string::npos) << table;
  s.settings = {40, "{}", {"consul.session_ttl_s"}, ""};
  s.kv.members["n2"].settings_error = "the cluster's settings (index 41): loop.interval_ms: out of range";
  table = cli::render_status_table(api::cluster_document(s, p));
  EXPECT_NE(table.find("settings: n1 needs a restart to apply consul.session_ttl_s\n"), std::string::npos) << table;
  EXPECT_NE(table.find("settings: n2 refused the cluster's settings: the cluster's settings (index 41)"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace hasup
