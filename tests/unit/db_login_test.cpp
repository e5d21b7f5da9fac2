// The manager's database login and its rotation (components/db-login): the
// record as stored, the request, the derived password, the conninfo written
// for the REST service, and the decisions, fed snapshots.
#include <gtest/gtest.h>

#include "components/cold-start/record.hpp"
#include "components/db-login/client_file.hpp"
#include "components/db-login/decide.hpp"
#include "components/db-login/record.hpp"
#include "components/db-login/record_copy.hpp"
#include "components/db-login/secret.hpp"
#include "supervisor/api/status_json.hpp"
#include "supervisor/cli/status_table.hpp"
#include "tests/unit/temp_dir.hpp"

namespace hasup::loop {
namespace {

using db_login::LoginRecord;
using nlohmann::json;
using db_login::RotationStep;

const std::string kNonceA = "0123456789abcdef0123456789abcdef";
const std::string kNonceB = "fedcba9876543210fedcba9876543210";

LoginRecord requested(std::uint64_t generation = 1) {
  auto request = db_login::request_rotation(std::nullopt, "manager", "api@n1", "2026-12-05T10:00:00Z", kNonceA);
  LoginRecord r = *request.record;
  if (generation == 2) {
    r.current = db_login::LoginCredential{1, "manager_alt", kNonceB};
    r.rotation->generation = 2;
    r.rotation->login = "manager";
    r.rotation->previous_login = "manager_alt";
  }
  return r;
}

LoginRecord switching() {
  LoginRecord r = requested();
  r.rotation->step = RotationStep::switching;
  r.rotation->switching_at = "2026-12-05T10:00:01Z";
  return r;
}

cluster::MemberRecord member(const std::string& name, std::optional<std::uint64_t> generation) {
  cluster::MemberRecord m;
  m.name = name;
  m.db_login_generation = generation;
  return m;
}

// n1 with a REST service, in a cluster of n1..n3 (each with one) where nobody switched yet.
Snapshot snapshot(std::optional<LoginRecord> record) {
  Snapshot s;
  s.self = "n1";
  s.db_login.enabled = true;
  s.db_login.writes_client_file = true;
  s.db_login.base_user = "manager";
  s.db_login.record = std::move(record);
  s.db_login.record_index = 77;
  s.db.endpoint = db::EndpointProbe{};
  s.db.endpoint->writable = true;
  for (const char* n : {"n1", "n2", "n3"}) s.kv.members[n] = member(n, 0);
  return s;
}

Plan decide_as(const Snapshot& s, cluster::Role role) {
  Plan plan;
  plan.role = role;
  plan.reason = decide_db_login(plan, s);
  return plan;
}

TEST(DbLoginRecord, RoundTripsWhole) {
  LoginRecord r = requested(2);
  r.rotation->step = RotationStep::switching;
  r.last = db_login::RotationOutcome{1, true, "done", "a", "b"};
  auto decoded = db_login::decode_login_record(db_login::encode(r));
  ASSERT_TRUE(decoded.record) << decoded.error;
  EXPECT_EQ(*decoded.record, r);
}

TEST(DbLoginRecord, RefusesWhatItCannotTrust) {
  auto refused = [](const std::string& text) {
    auto d = db_login::decode_login_record(text);
    EXPECT_FALSE(d.record) << text;
    return d.error;
  };
  EXPECT_NE(refused("[]"), "");
  EXPECT_NE(refused(R"({"schema":2})"), "");
  EXPECT_NE(refused(R"({"schema":1,"rotation":{"generation":1,"step":"later","login":"manager_alt",)"
                    R"("previous_login":"manager","nonce":"0123456789abcdef0123456789abcdef"}})"),
            "");
  // A rotation must follow the current generation: 3 after none is refused.
  EXPECT_NE(refused(R"({"schema":1,"rotation":{"generation":3,"step":"requested","login":"manager_alt",)"
                    R"("previous_login":"manager","nonce":"0123456789abcdef0123456789abcdef"}})")
                .find("does not follow"),
            std::string::npos);
  EXPECT_NE(refused(R"({"schema":1,"current":{"generation":1,"login":"manager_alt"}})").find("nonce"),
            std::string::npos);
}

TEST(DbLoginRecord, NamesALoginThatIsNotTheGenerations) {
  LoginRecord r = requested();
  EXPECT_EQ(db_login::record_problem(r, "manager"), "");
  r.rotation->login = "postgres";  // the leader would set its password: refused
  EXPECT_NE(db_login::record_problem(r, "manager").find("not 'manager_alt'"), std::string::npos);
  r = requested();
  r.rotation->nonce = "short";
  EXPECT_NE(db_login::record_problem(r, "manager").find("nonce"), std::string::npos);
}

TEST(DbLoginRecord, RequestsAlternateTheTwoLoginsAndOneAtATime) {
  auto first = db_login::request_rotation(std::nullopt, "manager", "api@n1", "t", kNonceA);
  ASSERT_TRUE(first.record);
  EXPECT_EQ(first.record->rotation->generation, 1u);
  EXPECT_EQ(first.record->rotation->login, "manager_alt");
  EXPECT_EQ(first.record->rotation->previous_login, "manager");
  auto again = db_login::request_rotation(first.record, "manager", "api@n2", "t", kNonceB);
  EXPECT_FALSE(again.record);
  EXPECT_NE(again.refusal.find("under way"), std::string::npos);
  LoginRecord done;
  done.current = db_login::LoginCredential{1, "manager_alt", kNonceA};
  auto second = db_login::request_rotation(done, "manager", "api@n1", "t", kNonceB);
  ASSERT_TRUE(second.record);
  EXPECT_EQ(second.record->rotation->generation, 2u);
  EXPECT_EQ(second.record->rotation->login, "manager");
  EXPECT_EQ(second.record->rotation->previous_login, "manager_alt");
  EXPECT_EQ(second.record->current, done.current);  // the clients keep it until the switch
}

TEST(DbLoginSecret, EveryNodeDerivesTheSamePasswordAndNoOtherGenerationDoes) {
  auto key = secret::parse_store_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  ASSERT_TRUE(key);
  const auto db = db_login::LoginSecret::db_password;
  const std::string p = db_login::login_password(key.value(), db, 1, kNonceA);
  EXPECT_EQ(p, db_login::login_password(key.value(), db, 1, kNonceA));
  EXPECT_NE(p, db_login::login_password(key.value(), db, 2, kNonceA));
  EXPECT_NE(p, db_login::login_password(key.value(), db, 1, kNonceB));
  // The replication password of the same generation and nonce is another one.
  EXPECT_NE(p, db_login::login_password(key.value(), db_login::LoginSecret::replication_password, 1, kNonceA));
  EXPECT_EQ(p.size(), 43u);
  EXPECT_EQ(p.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"), std::string::npos);
  auto other = secret::parse_store_key("HwAeAB0AHAAbABoAGQAYABcAFgAVABQAEwASABEAEAA=");
  ASSERT_TRUE(other);
  EXPECT_NE(p, db_login::login_password(other.value(), db, 1, kNonceA));
  EXPECT_NE(db_login::new_nonce(), db_login::new_nonce());
  EXPECT_EQ(db_login::new_nonce().size(), 32u);
}

TEST(DbLoginClientFile, QuotesTheLoginAsLibpqReadsIt) {
  EXPECT_EQ(db_login::client_conninfo("host=a dbname=manager", "manager_alt", "p'q\\r"),
            "host=a dbname=manager user='manager_alt' password='p\\'q\\\\r'\n");
}

TEST(DbLoginDecide, NothingBeforeAnyRotation) {
  auto plan = decide_as(snapshot(std::nullopt), cluster::Role::leader);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(DbLoginDecide, ARequestIsTheLeadersOnly) {
  auto s = snapshot(requested());
  EXPECT_TRUE(decide_as(s, cluster::Role::follower).actions.empty());  // not switching yet: nothing to give
  auto plan = decide_as(s, cluster::Role::leader);
  auto start = plan.find<StartLoginRotation>();
  ASSERT_TRUE(start) << plan.reason;
  EXPECT_EQ(start->generation, 1u);
  EXPECT_EQ(start->login, "manager_alt");
  EXPECT_EQ(start->record_index, 77u);
}

TEST(DbLoginDecide, TheLeaderWaitsForAWritablePrimaryAndForTheStoreKey) {
  auto s = snapshot(requested());
  s.db.endpoint->writable = false;
  auto plan = decide_as(s, cluster::Role::leader);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_NE(plan.reason.find("waiting for a writable primary"), std::string::npos);
  s = snapshot(requested());
  s.db_login.store_key_error = "no store_key= line";
  plan = decide_as(s, cluster::Role::leader);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_NE(plan.reason.find("no store_key= line"), std::string::npos);
}

TEST(DbLoginDecide, EveryNodeSwitchesOnceTheNewLoginWorks) {
  auto s = snapshot(switching());
  auto plan = decide_as(s, cluster::Role::follower);
  auto apply = plan.find<ApplyClientLogin>();
  ASSERT_TRUE(apply) << plan.reason;
  EXPECT_EQ(apply->generation, 1u);
  EXPECT_EQ(apply->login, "manager_alt");
  EXPECT_EQ(apply->nonce, kNonceA);
  s.db_login.applied_generation = 1;
  EXPECT_TRUE(decide_as(s, cluster::Role::follower).actions.empty());
  s.db_login.applied_generation = 0;
  s.db_login.writes_client_file = false;  // no REST service here
  EXPECT_TRUE(decide_as(s, cluster::Role::follower).actions.empty());
}

TEST(DbLoginDecide, APreviousLoginIsRefusedOnlyOnceEveryLiveNodeSwitched) {
  auto s = snapshot(switching());
  s.db_login.applied_generation = 1;
  s.kv.members["n1"] = member("n1", 1);
  s.kv.members["n2"] = member("n2", 1);
  auto plan = decide_as(s, cluster::Role::leader);
  EXPECT_FALSE(plan.has<FinishLoginRotation>());
  EXPECT_NE(plan.reason.find("waiting for n3"), std::string::npos);
  s.kv.members["n3"] = member("n3", 1);
  s.kv.members["w1"] = member("w1", std::nullopt);  // a witness, no REST service: not waited for
  plan = decide_as(s, cluster::Role::leader);
  auto finish = plan.find<FinishLoginRotation>();
  ASSERT_TRUE(finish) << plan.reason;
  EXPECT_EQ(finish->previous_login, "manager");
  // A node that is down is no live member: it takes the login when it returns.
  s.kv.members.erase("n3");
  s.kv.members["n2"] = member("n2", 1);
  EXPECT_TRUE(decide_as(s, cluster::Role::leader).has<FinishLoginRotation>());
}

TEST(DbLoginDecide, ANodeThatReturnsTakesTheCurrentLogin) {
  LoginRecord r;
  r.current = db_login::LoginCredential{3, "manager_alt", kNonceB};
  auto plan = decide_as(snapshot(r), cluster::Role::follower);
  auto apply = plan.find<ApplyClientLogin>();
  ASSERT_TRUE(apply);
  EXPECT_EQ(apply->generation, 3u);
}

TEST(DbLoginDecide, ARefusedRecordIsNeverActedOn) {
  auto s = snapshot(switching());
  s.db_login.record_error = "PREFIX/credentials/db-login: not a JSON object";
  auto plan = decide_as(s, cluster::Role::leader);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_NE(plan.reason.find("refused"), std::string::npos);
}

TEST(DbLoginStatus, AMissingStoreKeyIsAnErrorOnlyOnceSomethingMustBeDerived) {
  auto s = snapshot(std::nullopt);
  s.db_login.store_key_error = "/etc/ha-supervisor/db-secrets: no store_key= line";
  auto quiet = db_login_status(s)["db-password"];
  EXPECT_TRUE(quiet["errors"].empty()) << quiet.dump();
  EXPECT_EQ(quiet["store_key"], s.db_login.store_key_error);
  s.db_login.record = requested();
  auto loud = db_login_status(s)["db-password"];
  ASSERT_EQ(loud["errors"].size(), 1u) << loud.dump();
  EXPECT_EQ(loud["rotation"]["waiting_for"], json::array({"n1", "n2", "n3"}));
}

TEST(DbLoginDecide, PublishesTheGenerationOnlyWhereItWritesTheFile) {
  auto s = snapshot(std::nullopt);
  s.db_login.applied_generation = 2;
  cluster::MemberRecord r;
  publish_db_login(s, r);
  EXPECT_EQ(r.db_login_generation, std::optional<std::uint64_t>(2));
  s.db_login.writes_client_file = false;
  cluster::MemberRecord none;
  publish_db_login(s, none);
  EXPECT_FALSE(none.db_login_generation);
}

// The replication password: the same record and steps, its own members'
// field, and no client file of the supervisor's (patroni.yml is the database
// driver's: decide_db renders the login in force).
Snapshot replication_snapshot(std::optional<LoginRecord> record) {
  Snapshot s = snapshot(std::nullopt);
  s.db_login.enabled = false;
  auto& v = s.replication_login;
  v.enabled = true;
  v.secret = db_login::LoginSecret::replication_password;
  v.writes_client_file = true;
  v.base_user = "replicator";
  v.record = std::move(record);
  v.record_index = 91;
  for (const char* n : {"n1", "n2", "n3"}) {
    s.kv.members[n].db_login_generation.reset();
    s.kv.members[n].replication_login_generation = 0;
  }
  return s;
}

LoginRecord replication_switching() {
  auto request = db_login::request_rotation(std::nullopt, "replicator", "api@n1", "2026-12-05T10:00:00Z", kNonceA);
  LoginRecord r = *request.record;
  r.rotation->step = RotationStep::switching;
  return r;
}

TEST(ReplicationLoginDecide, TheLeadersStepsNameTheSecretAndEveryNodeWaitsOnItsOwnField) {
  auto request = db_login::request_rotation(std::nullopt, "replicator", "api@n1", "t", kNonceA);
  ASSERT_TRUE(request.record);
  EXPECT_EQ(request.record->rotation->login, "replicator_alt");
  auto plan = decide_as(replication_snapshot(request.record), cluster::Role::leader);
  auto start = plan.find<StartLoginRotation>();
  ASSERT_TRUE(start) << plan.reason;
  EXPECT_EQ(start->secret, db_login::LoginSecret::replication_password);
  EXPECT_EQ(start->record_index, 91u);
  EXPECT_NE(plan.reason.find("replication login rotation 1"), std::string::npos) << plan.reason;

  auto s = replication_snapshot(replication_switching());
  auto follower = decide_as(s, cluster::Role::follower);
  EXPECT_FALSE(follower.has<ApplyClientLogin>()) << "Patroni's file is the database driver's";
  s.kv.members["n1"].replication_login_generation = 1;
  s.kv.members["n2"].replication_login_generation = 1;
  s.kv.members["n2"].db_login_generation = 0;  // the other secret's field says nothing here
  plan = decide_as(s, cluster::Role::leader);
  EXPECT_FALSE(plan.has<FinishLoginRotation>());
  EXPECT_NE(plan.reason.find("waiting for n3 to switch to login replicator_alt"), std::string::npos) << plan.reason;
  s.kv.members["n3"].replication_login_generation = 1;
  plan = decide_as(s, cluster::Role::leader);
  auto finish = plan.find<FinishLoginRotation>();
  ASSERT_TRUE(finish) << plan.reason;
  EXPECT_EQ(finish->secret, db_login::LoginSecret::replication_password);
  EXPECT_EQ(finish->previous_login, "replicator");
}

TEST(ReplicationLoginDecide, AMemberPublishesTheGenerationBeforeTheRotationsUntilPatroniRunsTheNewOne) {
  auto s = replication_snapshot(replication_switching());
  cluster::MemberRecord r;
  publish_db_login(s, r);
  // No Patroni running the rendered patroni.yml in this snapshot: not switched.
  EXPECT_EQ(r.replication_login_generation, std::optional<std::uint64_t>(0));
  EXPECT_FALSE(r.db_login_generation) << "the database login is not enabled here";
  auto status = db_login_status(s);
  EXPECT_FALSE(status.contains("db-password"));
  EXPECT_EQ(status["replication-password"]["rotation"]["waiting_for"], json::array({"n1", "n2", "n3"}));
  EXPECT_EQ(status["replication-password"]["login"], "replicator");
}

TEST(ReplicationLoginDecide, BothSecretsRotateTheirOwnWayInOnePlan) {
  auto s = replication_snapshot(std::nullopt);
  s.db_login.enabled = true;
  s.db_login.record = switching();
  s.replication_login.record = db_login::request_rotation(std::nullopt, "replicator", "api@n1", "t", kNonceB).record;
  auto plan = decide_as(s, cluster::Role::leader);
  EXPECT_TRUE(plan.has<ApplyClientLogin>()) << plan.reason;
  auto start = plan.find<StartLoginRotation>();
  ASSERT_TRUE(start) << plan.reason;
  EXPECT_EQ(start->secret, db_login::LoginSecret::replication_password);
}

TEST(ReplicationLoginStatus, HactlStatusSaysEachRotationUnderWayByItsOwnName) {
  auto s = replication_snapshot(replication_switching());
  s.db_login.enabled = true;
  s.db_login.record = requested();
  Plan plan;
  plan.role = cluster::Role::follower;
  const std::string table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_NE(table.find("db login rotation: generation 1, step requested: the leader sets login manager_alt's new "
                       "password on the primary\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("replication login rotation: generation 1, step switching: waiting for n1, n2, n3 to switch "
                       "to login replicator_alt\n"),
            std::string::npos)
      << table;
}

// Consul's data lost: the records rebuilt from the nodes' copies (record_copy.hpp).

TEST(DbLoginRecord, EveryWriteIsANewerRevision) {
  LoginRecord done;
  done.revision = 5;
  done.current = db_login::LoginCredential{1, "manager_alt", kNonceA};
  auto next = db_login::request_rotation(done, "manager", "api@n1", "t", kNonceB);
  ASSERT_TRUE(next.record);
  EXPECT_EQ(next.record->revision, 6u);
  auto decoded = db_login::decode_login_record(db_login::encode(*next.record));
  ASSERT_TRUE(decoded.record) << decoded.error;
  EXPECT_EQ(decoded.record->revision, 6u);
  // A record from before revisions counts as 0; a revision that is no number is refused.
  auto old = db_login::decode_login_record(R"({"schema":1})");
  ASSERT_TRUE(old.record) << old.error;
  EXPECT_EQ(old.record->revision, 0u);
  EXPECT_FALSE(db_login::decode_login_record(R"({"schema":1,"revision":-1})").record);
}

TEST(DbLoginCopy, KeptWholeAndReadBackAsTheStoredRecordIsChecked) {
  test::TempDir dir;
  const std::string path = db_login::record_copy_path(dir.path() + "/known-nodes.json", db_login::LoginSecret::db_password);
  EXPECT_EQ(path, dir.path() + "/db-login.json");
  EXPECT_EQ(db_login::record_copy_path("/x/known-nodes.json", db_login::LoginSecret::replication_password),
            "/x/replication-login.json");
  auto none = db_login::read_record_copy(path, "manager");
  EXPECT_FALSE(none.record);
  EXPECT_EQ(none.error, "");  // no file: this node never saw a record
  LoginRecord r = switching();
  r.revision = 4;
  ASSERT_EQ(db_login::keep_record_copy(path, r), "");
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto back = db_login::read_record_copy(path, "manager");
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(*back.record, r);
  dir.write("db-login.json", R"({"schema":1,"current":{)");
  auto broken = db_login::read_record_copy(path, "manager");
  EXPECT_FALSE(broken.record);
  EXPECT_NE(broken.error.find("unreadable"), std::string::npos) << broken.error;
  // Another base role's record is refused like the stored one would be.
  ASSERT_EQ(db_login::keep_record_copy(path, r), "");
  EXPECT_NE(db_login::read_record_copy(path, "replicator").error.find("refused"), std::string::npos);
}

// n1 after Consul's data was lost: no record in Consul, its copy says
// rotation 1 is switching (the new login works, every node moves to it).
Snapshot lost_record_snapshot(std::uint64_t own_revision) {
  LoginRecord copy = switching();
  copy.revision = own_revision;
  auto s = snapshot(copy);
  s.db_login.record_index = 0;
  s.db_login.copy = copy;
  s.db_login.record_from_copy = true;
  s.consul.quorum_reachable = true;
  for (const char* n : {"n1", "n2", "n3"}) s.known.nodes[n] = cluster::NodeRegistration{};
  return s;
}

TEST(DbLoginDecide, ConsulDataLostTheClientsKeepTheCopysLoginAndNoStepIsTaken) {
  auto s = lost_record_snapshot(2);
  // Every node switched before the loss: with the record in Consul the leader would now retire the previous login.
  for (const char* n : {"n1", "n2", "n3"}) s.kv.members[n] = member(n, 1);
  auto plan = decide_as(s, cluster::Role::leader);
  auto apply = plan.find<ApplyClientLogin>();
  ASSERT_TRUE(apply) << plan.reason;
  EXPECT_EQ(apply->generation, 1u);
  EXPECT_EQ(apply->login, "manager_alt");
  EXPECT_FALSE(plan.find<FinishLoginRotation>()) << plan.reason;
  EXPECT_FALSE(plan.find<StartLoginRotation>()) << plan.reason;
  // Only this node's copy is known: no majority, nothing written back.
  EXPECT_FALSE(plan.find<RestoreLoginRecord>()) << plan.reason;
  EXPECT_NE(plan.reason.find("copies of the db login's record on 1 of 3 nodes (n1); waiting for a majority (2)"),
            std::string::npos)
      << plan.reason;
  // The operator accepted n1 as founder (hactl cold-start --accept n1): its
  // copy is written back, as Patroni's records are.
  s.kv.cold_start = KvView::StoredValue{cold_start::encode({"n1", "api@n1", "2026-12-05T20:00:00Z"}), 9};
  auto accepted = decide_as(s, cluster::Role::leader);
  ASSERT_TRUE(accepted.find<RestoreLoginRecord>()) << accepted.reason;
  EXPECT_NE(accepted.reason.find("the operator accepted n1 as founder"), std::string::npos) << accepted.reason;
}

TEST(DbLoginDecide, ConsulDataLostTheNewestCopyOfAMajorityIsWrittenBackByItsHolder) {
  auto s = lost_record_snapshot(2);
  s.kv.members["n2"].db_login_copy_revision = 3;  // n2 saw one step more
  auto plan = decide_as(s, cluster::Role::leader);
  EXPECT_FALSE(plan.find<RestoreLoginRecord>()) << plan.reason;  // n2's to write, not the leader's
  EXPECT_NE(plan.reason.find("n2 holds the newest copy (revision 3, of n1, n2)"), std::string::npos) << plan.reason;

  s.kv.members["n2"].db_login_copy_revision = 1;  // n1's is the newest now
  plan = decide_as(s, cluster::Role::follower);
  auto restore = plan.find<RestoreLoginRecord>();
  ASSERT_TRUE(restore) << plan.reason;
  EXPECT_EQ(restore->secret, db_login::LoginSecret::db_password);
  EXPECT_EQ(restore->revision, 2u);
  auto written = db_login::decode_login_record(restore->text);
  ASSERT_TRUE(written.record) << written.error;
  EXPECT_EQ(*written.record, *s.db_login.copy);

  s.consul.quorum_reachable = false;  // nothing written without a quorum to take it
  plan = decide_as(s, cluster::Role::follower);
  EXPECT_FALSE(plan.find<RestoreLoginRecord>());

  s.consul.quorum_reachable = true;  // equal copies: the lowest name writes
  s.self = "n2";
  s.kv.members["n2"].db_login_copy_revision.reset();
  s.kv.members["n1"].db_login_copy_revision = 2;
  plan = decide_as(s, cluster::Role::follower);
  EXPECT_FALSE(plan.find<RestoreLoginRecord>());
  s.self = "n1";  // ... and n1, seeing n2's equal copy, does
  s.kv.members["n2"].db_login_copy_revision = 2;
  plan = decide_as(s, cluster::Role::follower);
  EXPECT_TRUE(plan.find<RestoreLoginRecord>()) << plan.reason;
}

TEST(DbLoginDecide, PublishesTheRevisionOfItsCopies) {
  auto s = lost_record_snapshot(7);
  cluster::MemberRecord r = member("n1", 0);
  publish_db_login(s, r);
  EXPECT_EQ(r.db_login_copy_revision, std::optional<std::uint64_t>(7));
  EXPECT_FALSE(r.replication_login_copy_revision);
  s.replication_login.copy = LoginRecord{};
  s.replication_login.copy->revision = 9;
  publish_db_login(s, r);
  EXPECT_EQ(r.replication_login_copy_revision, std::optional<std::uint64_t>(9));
  auto back = cluster::decode_member(cluster::encode(r));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(back.record->db_login_copy_revision, std::optional<std::uint64_t>(7));
  EXPECT_EQ(back.record->replication_login_copy_revision, std::optional<std::uint64_t>(9));
}

TEST(DbLoginStatus, HactlStatusSaysTheNodeFollowsItsCopyAndWhoWritesItBack) {
  auto s = lost_record_snapshot(2);
  s.kv.members["n2"].db_login_copy_revision = 3;
  Plan plan;
  plan.role = cluster::Role::follower;
  const std::string table = cli::render_status_table(api::cluster_document(s, plan));
  EXPECT_NE(table.find("db login: Consul holds no record (its data lost?): this node follows its copy (generation 0, "
                       "revision 2), and no rotation step is taken until the record is back; n2 holds the newest copy"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace hasup::loop
