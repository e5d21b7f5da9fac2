// patroni.yml and the bootstrap SQL rendered from the real templates in
// templates/, the secrets file, and decide_db(): when Patroni's files are
// rewritten and the unit started.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "components/cold-start/record.hpp"
#include "components/patroni/backend.hpp"
#include "components/patroni/keys_copy.hpp"
#include "components/patroni/render.hpp"
#include "supervisor/loop/decide.hpp"
#include "components/postgres/decide.hpp"
#include "known_nodes_helper.hpp"

namespace hasup {
namespace {

std::string read_template(const std::string& name) {
  std::ifstream in(std::string(HA_SOURCE_DIR) + "/templates/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in:\n" << text;
}

const char* kSecrets =
    "# comment\n"
    "superuser=Su.per-user_secret~0001\n"
    "replication=Replication-secret-02\n"
    "rewind=Rewind-secret-0000003\n"
    "manager=Manager-secret-000004\n"
    "patroni_api=Patroni-api-secret-05\n"
    "consul_gossip=Ab+/Cd==\n"  // Consul's: skipped, not Patroni's
    "consul_tls_key=LS0tLS1CRUdJTiBFQyBQUklWQ==\n";

patroni::PatroniModel model() {
  patroni::PatroniModel m;
  m.node_name = "n1";
  m.scope = "manager-db";
  m.address = "198.18.0.11";
  m.data_dir = "/var/lib/ha-patroni/data";
  m.bin_dir = "/usr/lib/postgresql/15/bin";
  m.runtime_dir = "/run/ha-patroni";
  m.log_dir = "/var/log/ha-patroni";
  m.peer_network = "198.18.0.0/24";
  m.peer_addresses = {"198.18.0.11", "198.18.0.12", "198.18.0.13"};
  m.post_bootstrap = loop::post_bootstrap_command("/usr/local/lib/ha-patroni/post-bootstrap",
                                                  "/etc/ha-supervisor/patroni/bootstrap.sql");
  auto parsed = patroni::parse_secrets(kSecrets);
  EXPECT_EQ(parsed.error, "");
  m.secrets = parsed.secrets;
  return m;
}

TEST(PatroniRender, RealTemplateCarriesTheSettingsThatMakeFailoverFastAndSafe) {
  auto out = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), model());
  ASSERT_EQ(out.error, "");
  const std::string& y = out.text;
  EXPECT_TRUE(contains(y, "scope: manager-db\nnamespace: /service/\nname: n1\n"));
  EXPECT_TRUE(contains(y, "  host: 127.0.0.1:8500\n"));
  // A crashed node's session (its leader key) ends with its gossip health.
  EXPECT_TRUE(contains(y, "  checks: [serfHealth]\n"));
  EXPECT_TRUE(contains(y, "    ttl: 20\n    loop_wait: 1\n    retry_timeout: 4\n"));
  EXPECT_TRUE(contains(y, "    synchronous_mode: true\n    synchronous_mode_strict: false\n"));
  EXPECT_TRUE(contains(y, "  listen: 198.18.0.11,127.0.0.1:5432\n  connect_address: 198.18.0.11:5432\n"));
  EXPECT_TRUE(contains(y, "  listen: 198.18.0.11:8008\n"));
  // Each node by its own address, and no other host of the network.
  for (const char* a : {"198.18.0.11", "198.18.0.12", "198.18.0.13"}) {
    EXPECT_TRUE(contains(y, std::string("    - host replication replicator ") + a + "/32 scram-sha-256\n")) << a;
    EXPECT_TRUE(contains(y, std::string("    - host all all ") + a + "/32 scram-sha-256\n")) << a;
  }
  EXPECT_FALSE(contains(y, "198.18.0.0/24"));
  EXPECT_TRUE(contains(y, "      password: \"Replication-secret-02\"\n"));
  EXPECT_TRUE(contains(y, "  post_bootstrap: /usr/local/lib/ha-patroni/post-bootstrap /etc/ha-supervisor/patroni/bootstrap.sql\n"));
  EXPECT_TRUE(contains(y, "  data_dir: /var/lib/ha-patroni/data\n"))
      << "stop-patroni reads the data directory from this exact line";
  EXPECT_TRUE(contains(y, "  safety_margin: 1\n"));
}

TEST(PatroniRender, StrictQuorumAndOffModes) {
  auto m = model();
  m.synchronous_quorum = true;
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).text,
                       "synchronous_mode: quorum\n    synchronous_mode_strict: false\n"));
  m.synchronous_quorum = false;
  m.synchronous_mode_strict = true;
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).text,
                       "synchronous_mode: true\n    synchronous_mode_strict: true\n"));
  m.synchronous_mode = false;
  m.synchronous_mode_strict = false;
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).text,
                       "synchronous_mode: false\n"));
}

// cluster.durability decides whether commits go on with one copy when no
// standby is left; db.synchronous only the mode.
TEST(PatroniReplication, TheDurabilityRuleDecidesStrictness) {
  config::Config c;
  patroni::PatroniModel m;
  patroni::set_replication(m, c);
  EXPECT_TRUE(m.synchronous_mode);
  EXPECT_TRUE(m.synchronous_quorum);
  EXPECT_FALSE(m.synchronous_mode_strict) << "available: a node alone goes on with one copy";
  c.cluster.durability = "strict";
  patroni::set_replication(m, c);
  EXPECT_TRUE(m.synchronous_mode_strict) << "strict: commits wait for a standby";
  c.db.synchronous = "on";
  patroni::set_replication(m, c);
  EXPECT_FALSE(m.synchronous_quorum);
  EXPECT_TRUE(m.synchronous_mode_strict);
  c.cluster.durability = "available";
  c.db.synchronous = "off";
  patroni::set_replication(m, c);
  EXPECT_FALSE(m.synchronous_mode);
  EXPECT_FALSE(m.synchronous_mode_strict);
}

TEST(PatroniRender, BootstrapSqlCreatesTheManagersRoleAndDatabase) {
  auto out = patroni::render_bootstrap_sql(read_template("patroni-bootstrap.sql.mustache"), model());
  ASSERT_EQ(out.error, "");
  EXPECT_TRUE(contains(out.text, "CREATE ROLE manager LOGIN PASSWORD 'Manager-secret-000004';"));
  EXPECT_TRUE(contains(out.text, "CREATE DATABASE manager OWNER manager;"));
}

TEST(PatroniRender, ValuesThatWouldBreakTheYamlOrTheSqlAreRefused) {
  const std::string t = read_template("patroni.yml.mustache");
  auto bad = [&](auto change) {
    auto m = model();
    change(m);
    return patroni::render_patroni_yml(t, m);
  };
  for (auto out : {bad([](auto& m) { m.node_name = "n1\nscope: other"; }),
                   bad([](auto& m) { m.node_name = "N1"; }),  // the node-name rule (supervisor/util/node_name.hpp)
                   bad([](auto& m) { m.scope = "db: {x}"; }),
                   bad([](auto& m) { m.address = "db.example.com"; }),
                   bad([](auto& m) { m.peer_network = "198.18.0.0"; }),
                   bad([](auto& m) { m.peer_addresses.clear(); }),
                   bad([](auto& m) { m.peer_addresses.push_back("198.18.0.0/24"); }),
                   bad([](auto& m) { m.peer_addresses.push_back("198.18.0.14 trust\n    - host all all 0.0.0.0"); }),
                   bad([](auto& m) { m.data_dir = "relative/data"; }),
                   bad([](auto& m) { m.secrets.superuser = "short"; }),
                   bad([](auto& m) { m.secrets.manager = "quote'in-the-password-0001"; }),
                   bad([](auto& m) { m.manager_user = "Manager"; }),
                   bad([](auto& m) { m.post_bootstrap = "/bin/sh -c 'rm -rf /'"; })}) {
    EXPECT_EQ(out.text, "");
    EXPECT_TRUE(contains(out.error, "refusing to render"));
  }
  auto secret = bad([](auto& m) { m.secrets.rewind = "short-secret"; });
  EXPECT_EQ(secret.error.find("short-secret"), std::string::npos) << "a secret never reaches an error message";
}

TEST(PatroniSecrets, EveryKeyIsRequiredAndErrorsNeverShowTheValue) {
  EXPECT_EQ(patroni::parse_secrets(kSecrets).secrets.rewind, "Rewind-secret-0000003");
  auto missing = patroni::parse_secrets("superuser=Su.per-user_secret~0001\n");
  EXPECT_TRUE(contains(missing.error, "missing replication="));
  auto bad = patroni::parse_secrets(std::string(kSecrets) + "rewind=has space in it 0000000\n");
  EXPECT_EQ(bad.error, "line 9: rewind: must be 16..128 characters of [A-Za-z0-9._~-]");
  EXPECT_TRUE(contains(patroni::parse_secrets("token=abcdefghijklmnopqr\n").error, "unknown key"));
  EXPECT_TRUE(contains(patroni::parse_secrets("no equals sign\n").error, "line 1: expected key=value"));
}

// A secrets file written before the REST API had a password: the supervisor
// refuses to render (and says how to add it) rather than leave the API open.
TEST(PatroniSecrets, AFileWithoutTheRestApiPasswordIsRefusedWithTheWayToAddIt) {
  std::string old = kSecrets;
  old.erase(old.find("patroni_api="), std::string("patroni_api=Patroni-api-secret-05\n").size());
  auto parsed = patroni::parse_secrets(old);
  EXPECT_TRUE(contains(parsed.error, "missing patroni_api="));
  EXPECT_TRUE(contains(parsed.error, "generate-secrets --add-missing"));
}

// The store key (sealed secrets through Consul) is the supervisor's, not
// Patroni's: a file with it parses as one without it.
TEST(PatroniSecrets, TheStoreKeyIsSkippedLikeTheOtherComponentsKeys) {
  auto parsed = patroni::parse_secrets(std::string(kSecrets) +
                                       "store_key=a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\n"
                                       "rabbitmq_cookie=0123456789abcdef0123456789abcdef\n");
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.secrets.superuser, "Su.per-user_secret~0001");
  EXPECT_EQ(parsed.secrets.rest_api, "Patroni-api-secret-05");
  EXPECT_TRUE(contains(patroni::parse_secrets("token=abcdefghijklmnopqr\n").error, "store_key"));
}

// Patroni's unsafe endpoints (PATCH /config, POST /restart, ...) obey only the
// cluster's members and loopback, and only with the cluster's password.
TEST(PatroniRender, TheRestApiNeedsThePasswordAndAnAllowedAddressForWrites) {
  auto out = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), model());
  ASSERT_EQ(out.error, "");
  EXPECT_TRUE(contains(out.text, "  authentication:\n    username: patroni\n    password: \"Patroni-api-secret-05\"\n"));
  EXPECT_TRUE(contains(out.text, "  allowlist: [127.0.0.1, " + model().address + "]\n  allowlist_include_members: true\n"));
  auto m = model();
  m.secrets.rest_api = "short";
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).error, "refusing to render"));
}

// With Consul's ACLs the secrets file carries Patroni's token: it reaches
// patroni.yml's consul section, and nothing but a UUID is taken.
TEST(PatroniRender, PatronisConsulTokenComesFromTheSecretsFile) {
  auto without = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), model());
  ASSERT_EQ(without.error, "");
  EXPECT_FALSE(contains(without.text, "token:")) << "no token line without ACLs";
  const std::string token = "ebad1f06-2ebf-4710-a220-2ac1ac9b28f3";
  auto parsed = patroni::parse_secrets(std::string(kSecrets) + "consul_acl_patroni=" + token + "\n" +
                                       "consul_acl_master=1419286d-bbe4-4566-a1c5-e603603d1c47\n");
  ASSERT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.secrets.consul_token, token) << "Patroni's token only, not the others";
  auto m = model();
  m.secrets = parsed.secrets;
  auto with = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m);
  ASSERT_EQ(with.error, "");
  EXPECT_TRUE(contains(with.text, "consul:\n  host: 127.0.0.1:8500\n  # Patroni's own ACL token: its namespace's keys and "
                                  "its sessions, nothing else.\n  token: \"" + token + "\"\n  # The supervisor"))
      << with.text;
  auto bad = patroni::parse_secrets(std::string(kSecrets) + "consul_acl_patroni=\"; drop: x\n");
  EXPECT_TRUE(contains(bad.error, "consul_acl_patroni: must be a UUID")) << bad.error;
  EXPECT_FALSE(contains(bad.error, "drop")) << "the value is never shown";
  m.secrets.consul_token = "ebad1f06-2ebf-4710-a220-2ac1ac9b28f3\n  x: y";
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).error, "Consul token"));
}

// An HTTPS agent (consul.ca_file set): Patroni checks its certificate
// against the cluster's CA; a plain agent gets no scheme line at all.
TEST(PatroniRender, AnHttpsAgentIsReachedOverHttpsCheckedAgainstTheCa) {
  auto plain = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), model());
  ASSERT_EQ(plain.error, "");
  EXPECT_FALSE(contains(plain.text, "scheme:")) << plain.text;
  auto m = model();
  m.consul_port = 8501;
  m.consul_ca_file = "/etc/ssl/ha-consul-ca.pem";
  auto https = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m);
  ASSERT_EQ(https.error, "");
  EXPECT_TRUE(contains(https.text, "  host: 127.0.0.1:8501\n") && contains(https.text, "  scheme: https\n") &&
              contains(https.text, "  cacert: /etc/ssl/ha-consul-ca.pem\n  verify: true\n"))
      << https.text;
  m.consul_ca_file = "relative/ca.pem";
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).error, "Consul CA file"));
}

// ---- decide_db --------------------------------------------------------------

loop::Snapshot patroni_snapshot() {
  loop::Snapshot s;
  s.self = "n1";
  s.units_connected = true;
  s.units["ha-patroni.service"] = loop::UnitView{"inactive", "dead", 0, 0};
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.unit = "ha-patroni.service";
  s.db.patroni.conf_template = read_template("patroni.yml.mustache");
  s.db.patroni.sql_template = read_template("patroni-bootstrap.sql.mustache");
  s.db.patroni.model = model();
  s.db.patroni.model.peer_addresses.clear();  // the decision fills them from Consul's view
  s.db.cluster_known = true;  // Patroni's keys read: none yet, a new cluster
  s.self_address = "198.18.0.11";
  s.kv.known = true;
  s.kv.registered = {{"n1", "198.18.0.11"}, {"n2", "198.18.0.12"}, {"n3", "198.18.0.13"}};
  testing_support::derive_known_nodes(s);
  return s;
}

TEST(DecideDb, FirstRenderWritesBothFilesThenTheUnitIsStarted) {
  auto s = patroni_snapshot();
  for (const char* peer : {"n2", "n3"}) {  // up, with no copy of Patroni's records: a new cluster
    cluster::MemberRecord m;
    m.name = peer;
    m.address = s.kv.registered.at(peer);
    s.kv.members[peer] = m;
  }
  loop::Plan plan;
  std::string note = loop::decide_db(plan, s);
  const auto* apply = plan.find<loop::ApplyPatroniConf>();
  ASSERT_NE(apply, nullptr) << note;
  EXPECT_TRUE(contains(apply->yml, "name: n1"));
  EXPECT_TRUE(contains(apply->sql, "CREATE DATABASE manager"));
  EXPECT_EQ(plan.find<loop::StartPatroni>(), nullptr) << "not before the config is written";
  EXPECT_TRUE(contains(note, "patroni: writing patroni.yml"));
  EXPECT_EQ(apply->after, loop::AfterWrite::start) << "written while Patroni is stopped: the apply starts it";

  s.db.patroni.current_conf = apply->yml;
  s.db.patroni.current_sql = apply->sql;
  loop::Plan next;
  note = loop::decide_db(next, s);
  EXPECT_EQ(next.find<loop::ApplyPatroniConf>(), nullptr);
  ASSERT_NE(next.find<loop::StartPatroni>(), nullptr) << note;

  s.units["ha-patroni.service"].active_state = "active";
  loop::Plan steady;
  loop::decide_db(steady, s);
  EXPECT_TRUE(steady.actions.empty());
}

// patroni.yml written, the supervisor gone before the reload: the files are
// as rendered, Patroni (active since before the write) runs the older one.
TEST(DecideDb, APatroniYmlNewerThanPatronisLastReloadIsReloaded) {
  auto s = patroni_snapshot();
  const loop::WallTime reloaded = loop::WallTime(std::chrono::seconds(1'800'000'000));
  s.units["ha-patroni.service"].active_state = "active";
  s.units["ha-patroni.service"].state_changed = reloaded;
  s.db.patroni.current_conf = patroni::render_patroni_yml(s.db.patroni.conf_template, model()).text;
  s.db.patroni.current_sql = patroni::render_bootstrap_sql(s.db.patroni.sql_template, model()).text;
  s.db.patroni.conf_file.written = reloaded - std::chrono::seconds(1);
  loop::Plan older;
  std::string note = loop::decide_db(older, s);
  EXPECT_TRUE(older.actions.empty()) << note;

  s.db.patroni.conf_file.written = reloaded + std::chrono::seconds(1);
  loop::Plan plan;
  note = loop::decide_db(plan, s);
  const auto* apply = plan.find<loop::ApplyPatroniConf>();
  ASSERT_NE(apply, nullptr) << note;
  EXPECT_TRUE(apply->catch_up);
  EXPECT_EQ(apply->after, loop::AfterWrite::reload);
  EXPECT_EQ(apply->yml, *s.db.patroni.current_conf);
  EXPECT_EQ(apply->sql, *s.db.patroni.current_sql);
  EXPECT_TRUE(contains(note, "patroni: the file was written after patroni last (re)loaded (the supervisor stopped "
                             "between write and reload?): reloading"));

  s.busy.insert(loop::Job::apply_patroni_conf);
  loop::Plan busy;
  loop::decide_db(busy, s);
  EXPECT_TRUE(busy.actions.empty());
  s.busy.clear();
  s.db.patroni.conf_file.since_catch_up = std::chrono::milliseconds(1000);
  s.db.patroni.conf_file.catch_up_error = "reload failed: job failed";
  loop::Plan failed;
  note = loop::decide_db(failed, s);
  EXPECT_TRUE(failed.actions.empty());
  EXPECT_TRUE(contains(note, "the reload failed (reload failed: job failed); next try 10 s after the last"));
  ASSERT_TRUE(failed.wake_after);
}

TEST(DecideDb, AChangedSettingRewritesTheFileAndNothingRunsTwice) {
  auto s = patroni_snapshot();
  s.units["ha-patroni.service"].active_state = "active";
  // What the decision renders for these three nodes (model() names them).
  s.db.patroni.current_conf = patroni::render_patroni_yml(s.db.patroni.conf_template, model()).text;
  s.db.patroni.current_sql = patroni::render_bootstrap_sql(s.db.patroni.sql_template, model()).text;
  ASSERT_NE(*s.db.patroni.current_conf, "");
  loop::Plan unchanged;
  loop::decide_db(unchanged, s);
  EXPECT_TRUE(unchanged.actions.empty()) << "rendered as written: nothing to do";
  s.db.patroni.model.ttl_s = 12;
  loop::Plan plan;
  std::string note = loop::decide_db(plan, s);
  ASSERT_NE(plan.find<loop::ApplyPatroniConf>(), nullptr);
  EXPECT_TRUE(contains(note, "config changed"));
  EXPECT_EQ(plan.find<loop::ApplyPatroniConf>()->after, loop::AfterWrite::reload) << "Patroni runs: SIGHUP";
  s.units_connected = false;
  loop::Plan no_systemd;
  loop::decide_db(no_systemd, s);
  ASSERT_NE(no_systemd.find<loop::ApplyPatroniConf>(), nullptr);
  EXPECT_EQ(no_systemd.find<loop::ApplyPatroniConf>()->after, loop::AfterWrite::nothing)
      << "without systemd the file is written; the start follows once it is there";
  s.units_connected = true;
  s.busy.insert(loop::Job::apply_patroni_conf);
  loop::Plan busy;
  loop::decide_db(busy, s);
  EXPECT_TRUE(busy.actions.empty());
}

TEST(DecideDb, UnreadableSecretsOrABadValueStopTheRenderAndSaySo) {
  auto s = patroni_snapshot();
  s.db.template_error = "cannot read the secrets file /etc/ha-supervisor/db-secrets";
  loop::Plan plan;
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "cannot read the secrets file"));
  EXPECT_TRUE(plan.actions.empty());
  s = patroni_snapshot();
  s.db.patroni.model.peer_network = "anywhere";
  loop::Plan bad;
  EXPECT_TRUE(contains(loop::decide_db(bad, s), "patroni: not rendered: refusing to render peer network"));
  EXPECT_TRUE(bad.actions.empty());
}

TEST(DecideDb, PgHbaAdmitsTheClusterNodesOnlyAndFollowsAJoin) {
  auto s = patroni_snapshot();
  s.units["ha-patroni.service"].active_state = "active";
  loop::Plan plan;
  std::string note = loop::decide_db(plan, s);
  const auto* apply = plan.find<loop::ApplyPatroniConf>();
  ASSERT_NE(apply, nullptr) << note;
  EXPECT_TRUE(contains(apply->yml, "    - host all all 198.18.0.13/32 scram-sha-256\n"));
  EXPECT_FALSE(contains(apply->yml, "198.18.0.14"));
  s.db.patroni.current_conf = apply->yml;
  s.db.patroni.current_sql = apply->sql;
  loop::Plan steady;
  loop::decide_db(steady, s);
  EXPECT_TRUE(steady.actions.empty()) << "the same nodes: nothing to rewrite";

  // n4 joins (live member first, registered later): every node admits it, Patroni reloads.
  cluster::MemberRecord n4;
  n4.name = "n4";
  n4.address = "198.18.0.14";
  s.kv.members["n4"] = n4;
  loop::Plan joined;
  note = loop::decide_db(joined, s);
  const auto* rewrite = joined.find<loop::ApplyPatroniConf>();
  ASSERT_NE(rewrite, nullptr) << note;
  EXPECT_TRUE(contains(rewrite->yml, "    - host replication replicator 198.18.0.14/32 scram-sha-256\n"));
  EXPECT_EQ(rewrite->after, loop::AfterWrite::reload);

  // A registration outside db.peer_network is named, not admitted.
  s.kv.registered["n5"] = "203.0.113.5";
  testing_support::derive_known_nodes(s);
  loop::Plan outside;
  note = loop::decide_db(outside, s);
  ASSERT_NE(outside.find<loop::ApplyPatroniConf>(), nullptr) << note;
  EXPECT_FALSE(contains(outside.find<loop::ApplyPatroniConf>()->yml, "203.0.113.5"));
  EXPECT_TRUE(contains(note, "pg_hba leaves out \"203.0.113.5\" (outside db.peer_network 198.18.0.0/24)")) << note;
  // Not an address at all (a member record is Consul's text): named quoted, with its control bytes escaped.
  cluster::MemberRecord garbled;
  garbled.name = "n6";
  garbled.address = "10.0.0.6\n- host all all 0.0.0.0/0";
  s.kv.members["n6"] = garbled;
  loop::Plan bad;
  note = loop::decide_db(bad, s);
  ASSERT_NE(bad.find<loop::ApplyPatroniConf>(), nullptr) << "one bad record stops no node's config: " << note;
  EXPECT_FALSE(contains(bad.find<loop::ApplyPatroniConf>()->yml, "0.0.0.0/0"));
  EXPECT_TRUE(contains(note, "\"10.0.0.6\\x0a- host all all 0.0.0.0/0\"")) << note;
}

TEST(DecideDb, NothingIsRenderedBeforeConsulsViewOfTheNodesWasRead) {
  auto s = patroni_snapshot();
  s.kv = {};
  testing_support::derive_known_nodes(s);
  loop::Plan plan;
  std::string note = loop::decide_db(plan, s);
  EXPECT_TRUE(plan.actions.empty()) << "pg_hba with this node alone would refuse every replica";
  EXPECT_TRUE(contains(note, "waiting for Consul's view of the nodes")) << note;
}

TEST(DecideDb, TheNoteNamesThePrimaryAndTheTwoNodeTradeOff) {
  auto s = patroni_snapshot();
  s.db.cluster_known = true;
  s.db.cluster.initialized = true;
  s.db.cluster.primary = "n2";
  for (const auto* name : {"n1", "n2", "n3"}) {
    db::DbMember m;
    m.name = name;
    s.db.cluster.members.push_back(m);
  }
  loop::Plan plan;
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "database: primary n2"));
  s.db.cluster.members.pop_back();
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "2 members: after a failover, new commits have one copy"));
  s.db.cluster.primary.clear();
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "no primary (failover in progress)"));
  // After a power loss: Patroni promotes only n1 or n3; n3 is not up (no member key).
  s.db.cluster.promotable = {"n1", "n3"};
  s.db.cluster.members.erase(s.db.cluster.members.begin());  // n1 down too
  EXPECT_TRUE(contains(loop::decide_db(plan, s),
                       "database: no primary; patroni promotes only n1, n3 (the members that may hold every "
                       "acknowledged commit): none of them is up, bring one back (promoting another would lose what "
                       "it missed; hactl cold-start --accept NODE --dry-run shows it for one node)"));
  // With the positions known, what promoting n2 would lose.
  s.db.cluster.primary_wal_position = 50000;
  s.db.cluster.members[0].wal_position = 48770;
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "would lose what it missed, at least its distance from the primary's last recorded "
                                                 "position: n2 1230 bytes of WAL; hactl cold-start"));
  db::DbMember n1;
  n1.name = "n1";
  s.db.cluster.members.insert(s.db.cluster.members.begin(), n1);
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "(the members that may hold every acknowledged commit): n1 up, its "
                                                 "election under way"));
}

// Consul's data lost (every server rebuilt): Patroni's records are gone, and
// a Patroni started now would found from whichever node it runs on (or
// initialise an empty cluster). Patroni stays stopped until the newest copy
// of a majority of the nodes' is written back.
loop::Snapshot started_after_consul_lost() {
  auto s = patroni_snapshot();
  loop::Plan plan;
  loop::decide_db(plan, s);
  const auto* apply = plan.find<loop::ApplyPatroniConf>();
  s.db.patroni.current_conf = apply->yml;  // the files as rendered: only the start is left
  s.db.patroni.current_sql = apply->sql;
  s.consul.quorum_reachable = true;
  s.db.patroni.keys_copy = patroni::KeysCopy{100, "7390000000000000001", "{}", R"({"leader":"n1","sync_standby":"n3"})"};
  return s;
}

void add_member_copy(loop::Snapshot& s, const std::string& name, std::uint64_t index,
                     std::optional<std::uint64_t> write_backs = std::nullopt) {
  cluster::MemberRecord m;
  m.name = name;
  m.address = s.kv.registered.at(name);
  m.patroni_keys_index = index;
  m.patroni_keys_write_backs = write_backs;
  s.kv.members[name] = m;
}

TEST(PatroniKeysCopy, PatroniStaysStoppedUntilAMajorityOfCopiesIsAtHand) {
  auto s = started_after_consul_lost();
  loop::Plan alone;
  auto note = loop::decide_db(alone, s);
  EXPECT_EQ(alone.find<loop::StartPatroni>(), nullptr) << note;
  EXPECT_EQ(alone.find<loop::RestorePatroniKeys>(), nullptr) << "one copy of three nodes: maybe a stale one";
  EXPECT_TRUE(contains(note, "Consul holds none of Patroni's records")) << note;
  EXPECT_TRUE(contains(note, "copies of Patroni's records on 1 of 3 nodes (n1); waiting for a majority (2)")) << note;

  add_member_copy(s, "n2", 90);  // n2's copy is older: it was cut off before the power loss
  loop::Plan majority;
  note = loop::decide_db(majority, s);
  ASSERT_NE(majority.find<loop::RestorePatroniKeys>(), nullptr) << note;
  EXPECT_EQ(majority.find<loop::RestorePatroniKeys>()->index, 100u);
  EXPECT_EQ(majority.find<loop::StartPatroni>(), nullptr) << "not before Consul has the records again";
  EXPECT_TRUE(contains(note, "n1 holds the newest copy (index 100, of n1, n2)")) << note;

  s.consul.quorum_reachable = false;
  loop::Plan cut_off;
  loop::decide_db(cut_off, s);
  EXPECT_EQ(cut_off.find<loop::RestorePatroniKeys>(), nullptr) << "nothing is written without the quorum";
  s.consul.quorum_reachable = true;

  add_member_copy(s, "n3", 120);  // n3 kept up longer
  loop::Plan other;
  note = loop::decide_db(other, s);
  EXPECT_EQ(other.find<loop::RestorePatroniKeys>(), nullptr) << note;
  EXPECT_TRUE(contains(note, "n3 holds the newest copy (index 120")) << note;

  s.db.cluster.initialized = true;  // written back: Patroni's own rules decide again
  loop::Plan restored;
  note = loop::decide_db(restored, s);
  EXPECT_NE(restored.find<loop::StartPatroni>(), nullptr) << note;
}

// Consul's data lost twice while n1 was down: n1's copy comes from the first
// Raft log (index 900); n2 and n3 took theirs after the first write-back, in
// a Raft log that counted from 1 again (index 40, 45). Indexes alone would
// name n1's stale copy the newest; a copy taken after a write-back is newer
// than every copy from before it.
TEST(PatroniKeysCopy, ACopyTakenAfterAWriteBackIsNewerThanAnyFromBeforeIt) {
  auto s = started_after_consul_lost();
  s.db.patroni.keys_copy->index = 900;  // n1, this node: down through both losses
  add_member_copy(s, "n2", 40, 1);
  loop::Plan two;
  auto note = loop::decide_db(two, s);
  EXPECT_EQ(two.find<loop::RestorePatroniKeys>(), nullptr) << "n2 writes back, not n1: " << note;
  EXPECT_TRUE(contains(note, "n2 holds the newest copy (index 40 after 1 write-back, of n1, n2)")) << note;
  add_member_copy(s, "n3", 45, 1);
  note = loop::decide_db(two, s);
  EXPECT_TRUE(contains(note, "n3 holds the newest copy (index 45 after 1 write-back")) << note;

  // Seen from n3 (published records: a member without the field took its
  // copy before any write-back).
  s.self = "n3";
  s.db.patroni.keys_copy = patroni::KeysCopy{45, "7390000000000000001", "{}", "{}", 1};
  add_member_copy(s, "n1", 900);
  s.kv.members.erase("n3");
  loop::Plan from_n3;
  note = loop::decide_db(from_n3, s);
  ASSERT_NE(from_n3.find<loop::RestorePatroniKeys>(), nullptr) << note;
  EXPECT_EQ(from_n3.find<loop::RestorePatroniKeys>()->index, 45u);

  cluster::MemberRecord published;
  loop::publish_db(s, published);
  EXPECT_EQ(published.patroni_keys_write_backs, std::optional<std::uint64_t>(1));
  s.db.patroni.keys_copy->write_backs = 0;
  published = {};
  loop::publish_db(s, published);
  EXPECT_EQ(published.patroni_keys_write_backs, std::nullopt) << "a record as before when there was none";
}

// Copies on fewer than a majority (two nodes replaced, say): nobody writes
// back on their word alone, but the operator may accept a founder that
// holds one (hactl cold-start --accept); a majority's verdict is never
// overridden by an acceptance.
TEST(PatroniKeysCopy, WithCopiesOnAMinorityOnlyTheAcceptedFounderWritesItsCopyBack) {
  auto s = started_after_consul_lost();  // this node n1 holds the only copy (index 100)
  auto accept = [&s](const std::string& node) {
    s.kv.cold_start = loop::KvView::StoredValue{cold_start::encode({node, "api@n1", "2026-12-05T20:00:00Z"}), 7};
  };
  accept("n2");
  loop::Plan other;
  auto note = loop::decide_db(other, s);
  EXPECT_EQ(other.find<loop::RestorePatroniKeys>(), nullptr) << note;
  EXPECT_TRUE(contains(note, "the founder the operator accepted, n2, holds none")) << note;

  accept("n1");
  loop::Plan accepted;
  note = loop::decide_db(accepted, s);
  ASSERT_NE(accepted.find<loop::RestorePatroniKeys>(), nullptr) << note;
  EXPECT_EQ(accepted.find<loop::RestorePatroniKeys>()->index, 100u);
  EXPECT_EQ(accepted.find<loop::StartPatroni>(), nullptr) << "not before Consul has the records again";
  EXPECT_TRUE(contains(note, "the operator accepted n1 as founder")) << note;

  s.kv.cold_start->text = "{not json";  // unreadable: never acted on
  loop::Plan unreadable;
  loop::decide_db(unreadable, s);
  EXPECT_EQ(unreadable.find<loop::RestorePatroniKeys>(), nullptr);

  accept("n1");
  add_member_copy(s, "n2", 120);  // a majority now, and n2's copy is newer
  loop::Plan majority;
  note = loop::decide_db(majority, s);
  EXPECT_EQ(majority.find<loop::RestorePatroniKeys>(), nullptr) << "the acceptance never overrides a majority";
  EXPECT_TRUE(contains(note, "n2 holds the newest copy (index 120")) << note;
}

TEST(PatroniKeysCopy, ANewClusterStartsOnceEveryKnownNodeSaysItHoldsNoCopyAndNothingBeforeConsulWasRead) {
  auto s = started_after_consul_lost();
  s.db.patroni.keys_copy.reset();
  ASSERT_EQ(s.known.nodes.size(), 3u);
  loop::Plan unheard;
  auto note = loop::decide_db(unheard, s);
  EXPECT_EQ(unheard.find<loop::StartPatroni>(), nullptr)
      << "n2 and n3 still booting may hold the only copy (a CI run's lab saw a stale node found the cluster): " << note;
  EXPECT_TRUE(contains(note, "n2, n3 have no live record yet and may hold one")) << note;
  add_member_copy(s, "n2", 0);
  s.kv.members["n2"].patroni_keys_index.reset();  // n2 is up and holds none
  loop::Plan one_unheard;
  note = loop::decide_db(one_unheard, s);
  EXPECT_EQ(one_unheard.find<loop::StartPatroni>(), nullptr) << note;
  EXPECT_TRUE(contains(note, "n3 has no live record yet and may hold one")) << note;
  add_member_copy(s, "n3", 0);
  s.kv.members["n3"].patroni_keys_index.reset();
  loop::Plan fresh;
  EXPECT_NE((loop::decide_db(fresh, s), fresh.find<loop::StartPatroni>()), nullptr) << "no copy anywhere: a new cluster";
  s.kv.members.clear();
  s.known.nodes.erase("n2");
  s.known.nodes.erase("n3");
  loop::Plan first;
  note = loop::decide_db(first, s);
  // Its pg_hba names fewer peers now: the rewrite starts Patroni.
  const auto* rewrite = first.find<loop::ApplyPatroniConf>();
  EXPECT_TRUE(first.find<loop::StartPatroni>() || (rewrite && rewrite->after == loop::AfterWrite::start))
      << "the first node of a new cluster knows only itself: " << note;
  s = started_after_consul_lost();
  s.db.patroni.keys_copy.reset();
  add_member_copy(s, "n2", 90);
  loop::Plan other_has_one;
  note = loop::decide_db(other_has_one, s);
  EXPECT_EQ(other_has_one.find<loop::StartPatroni>(), nullptr)
      << "a node without a copy (an empty data directory) would initialise a new cluster: " << note;
  s.kv.members.clear();
  s.db.cluster_known = false;
  loop::Plan unread;
  note = loop::decide_db(unread, s);
  EXPECT_EQ(unread.find<loop::StartPatroni>(), nullptr) << note;
  EXPECT_TRUE(contains(note, "waiting for Patroni's keys in Consul before starting it")) << note;
}

TEST(PatroniKeysCopy, AnUnreadableCopyHoldsAndARewriteDoesNotStartPatroni) {
  auto s = started_after_consul_lost();
  s.db.patroni.keys_copy.reset();
  s.db.patroni.keys_copy_error = "the copy of Patroni's records /x is unreadable: malformed JSON";
  loop::Plan plan;
  auto note = loop::decide_db(plan, s);
  EXPECT_EQ(plan.find<loop::StartPatroni>(), nullptr) << note;
  EXPECT_TRUE(contains(note, "this node's copy cannot be read")) << note;
  s.db.patroni.current_conf = "older";  // a rewrite while held: written, not started
  loop::Plan rewrite;
  loop::decide_db(rewrite, s);
  ASSERT_NE(rewrite.find<loop::ApplyPatroniConf>(), nullptr);
  EXPECT_EQ(rewrite.find<loop::ApplyPatroniConf>()->after, loop::AfterWrite::nothing);
}

TEST(PatroniKeysCopy, TheCopyIsTakenWholeFromConsulAndWrittenBackCreateOnly) {
  const std::string p = "service/mgrdb/";
  auto entry = [](std::string key, std::string value, std::uint64_t index) {
    consul::KvEntry e;
    e.key = std::move(key);
    e.value = std::move(value);
    e.modify_index = index;
    return e;
  };
  std::vector<consul::KvEntry> entries{entry(p + "initialize", "7390000000000000001", 10),
                                       entry(p + "config", "{\"ttl\":20}", 12),
                                       entry(p + "sync", "{\"leader\":\"n1\"}", 40),
                                       entry(p + "leader", "n1", 99), entry(p + "members/n1", "{}", 98)};
  auto copy = patroni::keys_copy_of(p, entries).copy;
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->index, 40u) << "the newest of the three records, not the leader's or members' keys";
  EXPECT_EQ(copy->initialize, "7390000000000000001");
  auto back = patroni::decode_keys_copy(patroni::encode(*copy));
  ASSERT_TRUE(back.copy) << back.error;
  EXPECT_EQ(*back.copy, *copy);
  entries[0].value = "";  // a bootstrap under way: nothing to copy yet
  EXPECT_FALSE(patroni::keys_copy_of(p, entries).copy);
  EXPECT_EQ(patroni::keys_copy_of(p, entries).error, "") << "not initialised yet is no error";
  EXPECT_FALSE(patroni::decode_keys_copy(R"({"schema":1,"index":0,"initialize":"7"})").copy);
  EXPECT_FALSE(patroni::decode_keys_copy(R"({"schema":1,"index":3,"initialize":""})").copy);
  EXPECT_FALSE(patroni::decode_keys_copy(R"({"schema":1,"index":3,"initialize":"7","sync":5})").copy);
  auto ops = patroni::restore_ops(p, *copy);
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops.back().key, p + "initialize") << "Patroni never sees initialize without sync";
  EXPECT_EQ(ops[2].key, p + "ha-supervisor-write-backs");
  EXPECT_EQ(ops[2].value, "1") << "the first write-back";
  for (const auto& op : ops) {
    EXPECT_EQ(op.verb, consul::TxnOp::Verb::cas);
    EXPECT_EQ(op.index, 0u) << "create-only: nothing Patroni wrote meanwhile is overwritten";
  }

  // After a write-back the count is copied with the records, and the next
  // write-back counts one more.
  entries[0].value = "7390000000000000001";
  entries.push_back(entry(p + "ha-supervisor-write-backs", "2", 40));
  copy = patroni::keys_copy_of(p, entries).copy;
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->write_backs, 2u);
  EXPECT_EQ(copy->index, 40u);
  back = patroni::decode_keys_copy(patroni::encode(*copy));
  ASSERT_TRUE(back.copy) << back.error;
  EXPECT_EQ(*back.copy, *copy);
  EXPECT_EQ(patroni::restore_ops(p, *copy)[2].value, "3");
  EXPECT_FALSE(patroni::decode_keys_copy(R"({"schema":1,"index":3,"initialize":"7","write_backs":"2"})").copy);
  for (const char* junk : {"", "two", "-1", "2 ", "+2", "99999999999999999999999"}) {
    entries.back().value = junk;
    auto taken = patroni::keys_copy_of(p, entries);
    EXPECT_FALSE(taken.copy) << "no copy on a count it cannot trust: '" << junk << "'";
    EXPECT_TRUE(taken.error.find("service/mgrdb/ha-supervisor-write-backs holds ") == 0) << taken.error;
  }
}

// stolon: initialise once when Consul has no clusterdata, keep the units up;
// nothing of the kind from a node cut off from the quorum.
loop::Snapshot stolon_snapshot() {
  loop::Snapshot s;
  s.self = "n1";
  s.consul.quorum_reachable = true;
  s.units_connected = true;
  s.db.enabled = true;
  s.db.backend = "stolon";
  s.db.stolon.spec = "{\"sleepInterval\": \"250ms\"}";
  s.db.stolon.units = {"stolon-sentinel.service", "stolon-keeper.service", "stolon-proxy.service"};
  for (const auto& u : s.db.stolon.units) s.units[u] = loop::UnitView{"active", "running", 0, 10};
  s.db.cluster_known = true;
  return s;
}

TEST(DecideDb, StolonWithoutClusterdataIsInitialisedOnceWithTheRenderedSpec) {
  auto s = stolon_snapshot();
  loop::Plan plan;
  std::string note = loop::decide_db(plan, s);
  const auto* init = plan.find<loop::BootstrapStolon>();
  ASSERT_NE(init, nullptr) << note;
  EXPECT_EQ(init->spec, s.db.stolon.spec);
  EXPECT_TRUE(contains(note, "initialising the cluster once"));
  s.busy.insert(loop::Job::bootstrap_stolon);
  loop::Plan busy;
  loop::decide_db(busy, s);
  EXPECT_EQ(busy.find<loop::BootstrapStolon>(), nullptr) << "one bootstrap at a time";
  s.busy.clear();
  s.db.cluster.initialized = true;
  loop::Plan done;
  loop::decide_db(done, s);
  EXPECT_TRUE(done.actions.empty()) << "a cluster that exists is never initialised again";
}

TEST(DecideDb, StolonIsNotInitialisedFromACutOffNodeOrBeforeConsulAnswered) {
  auto s = stolon_snapshot();
  s.consul.quorum_reachable = false;
  loop::Plan cut;
  loop::decide_db(cut, s);
  EXPECT_TRUE(cut.actions.empty());
  s.consul.quorum_reachable = true;
  s.db.cluster_known = false;
  loop::Plan unknown;
  loop::decide_db(unknown, s);
  EXPECT_TRUE(unknown.actions.empty());
}

TEST(DecideDb, StoppedStolonUnitsAreStartedAndABadSpecIsSaid) {
  auto s = stolon_snapshot();
  s.db.cluster.initialized = true;
  s.units["stolon-keeper.service"].active_state = "failed";
  loop::Plan plan;
  std::string note = loop::decide_db(plan, s);
  ASSERT_NE(plan.find<loop::StartStolonUnits>(), nullptr);
  EXPECT_EQ(plan.find<loop::StartStolonUnits>()->units, std::vector<std::string>{"stolon-keeper.service"})
      << "only the stopped unit";
  EXPECT_TRUE(contains(note, "stolon: starting stolon-keeper.service"));
  s.db.template_error = "cluster spec not rendered: proxyTimeout must exceed proxyCheckInterval";
  s.db.cluster.initialized = false;
  loop::Plan bad;
  EXPECT_TRUE(contains(loop::decide_db(bad, s), "stolon: cluster spec not rendered"));
  EXPECT_TRUE(bad.actions.empty()) << "nothing is initialised from a spec that did not render";
}

// A rotation of the replication password (components/db-login) puts the
// login in force into the model: Patroni connects with it, and pg_hba admits
// both logins, the one not in use being the next.
TEST(PatroniRender, TheReplicationLoginInForceAndBothLoginsInPgHba) {
  auto m = model();
  m.replication_user = "replicator_alt";
  m.replication_logins = {"replicator", "replicator_alt"};
  auto out = patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m);
  ASSERT_EQ(out.error, "");
  EXPECT_TRUE(contains(out.text, "    replication:\n      username: replicator_alt\n"));
  EXPECT_TRUE(contains(out.text, "    - host replication replicator,replicator_alt 127.0.0.1/32 scram-sha-256\n"));
  EXPECT_TRUE(contains(out.text, "    - host replication replicator,replicator_alt 198.18.0.12/32 scram-sha-256\n"));
  // A login pg_hba would refuse is never rendered.
  m.replication_logins = {"replicator"};
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).error, "replication login"));
  m.replication_logins = {"replicator", "Bad-Name"};
  m.replication_user = "replicator";
  EXPECT_TRUE(contains(patroni::render_patroni_yml(read_template("patroni.yml.mustache"), m).error, "replication logins"));
}

TEST(DecideDb, ALoginWhosePasswordCannotBeDerivedLeavesPatroniYmlAsItIs) {
  auto s = patroni_snapshot();
  s.db.patroni.replication_error = "login replicator_alt (generation 1)'s password cannot be derived: no store_key= line";
  loop::Plan plan;
  EXPECT_TRUE(contains(loop::decide_db(plan, s), "patroni.yml left as it is: login replicator_alt"));
  EXPECT_TRUE(plan.actions.empty());
}

// What the replication login's rotation waits for on every node: Patroni runs
// the patroni.yml rendered now, not only that the file holds it.
TEST(DecideDb, PatroniRunsTheRenderedConfOnlyOnceActiveAfterTheWrite) {
  auto s = patroni_snapshot();
  EXPECT_FALSE(loop::patroni_runs_rendered_conf(s)) << "no file yet";
  loop::Plan plan;
  loop::decide_db(plan, s);
  const auto* apply = plan.find<loop::ApplyPatroniConf>();
  ASSERT_NE(apply, nullptr);
  s.db.patroni.current_conf = apply->yml;
  s.db.patroni.current_sql = apply->sql;
  EXPECT_FALSE(loop::patroni_runs_rendered_conf(s)) << "Patroni is not running";
  s.units["ha-patroni.service"].active_state = "active";
  EXPECT_TRUE(loop::patroni_runs_rendered_conf(s));
  // Written after Patroni last (re)loaded: it may run the text before.
  const auto now = std::chrono::system_clock::now();
  s.units["ha-patroni.service"].state_changed = now - std::chrono::seconds(5);
  s.db.patroni.conf_file.written = now;
  EXPECT_FALSE(loop::patroni_runs_rendered_conf(s));
  s.units["ha-patroni.service"].state_changed = now + std::chrono::seconds(1);
  EXPECT_TRUE(loop::patroni_runs_rendered_conf(s));
  s.busy.insert(loop::Job::apply_patroni_conf);
  EXPECT_FALSE(loop::patroni_runs_rendered_conf(s)) << "a write or reload under way";
  s.busy.clear();
  // The login changes: the file no longer holds what is rendered.
  s.db.patroni.model.replication_user = "replicator_alt";
  s.db.patroni.model.replication_logins = {"replicator", "replicator_alt"};
  EXPECT_FALSE(loop::patroni_runs_rendered_conf(s));
}

}  // namespace
}  // namespace hasup
