// The rotation's two statements (components/db-login/sql.cpp) against a real
// PostgreSQL 15: the alternate login made to act as the manager's role, the
// password stored only as its SCRAM verifier, both steps safe to repeat, and a
// retired login refused with its open sessions ended. (The test server trusts
// loopback, so the passwords themselves are checked in the lab: tests/lab.)
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>

#include "components/db-login/sql.hpp"
#include "tests/testbed/postgres_instance.hpp"

namespace hasup {
namespace {

using testbed::PostgresInstance;
constexpr auto kManager = db_login::LoginSecret::db_password;
constexpr auto kReplication = db_login::LoginSecret::replication_password;

class DbLoginSqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = PostgresInstance::unavailable_reason();
    if (skip_reason_.empty()) {
      postgres_ = std::make_unique<PostgresInstance>("db-login-pg");
      postgres_->start();
    }
  }
  static void TearDownTestSuite() { postgres_.reset(); }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << "no PostgreSQL here: " << skip_reason_;
  }

  PostgresInstance& pg() { return *postgres_; }
  std::string superuser() const {
    return "host=127.0.0.1 port=" + std::to_string(postgres_->port()) + " dbname=manager user=postgres connect_timeout=2";
  }
  std::string as(const std::string& login) const {
    return "host=127.0.0.1 port=" + std::to_string(postgres_->port()) + " dbname=manager user=" + login +
           " connect_timeout=2";
  }
  std::string one(const std::string& sql) { return pg().query(sql).value_or("(psql failed)"); }

  static std::string skip_reason_;
  static std::unique_ptr<PostgresInstance> postgres_;
};

std::string DbLoginSqlTest::skip_reason_;
std::unique_ptr<PostgresInstance> DbLoginSqlTest::postgres_;

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Connection open(const std::string& conninfo) { return Connection(PQconnectdb(conninfo.c_str()), &PQfinish); }

std::string run(PGconn* c, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), &PQclear);
  auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return std::string("error: ") + PQerrorMessage(c);
  return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}

TEST_F(DbLoginSqlTest, TheAlternateLoginActsAsTheManagerAndKeepsOnlyAVerifier) {
  ASSERT_EQ(db_login::set_login_password(superuser(), kManager, "manager", "manager_alt", "first-password-0123456789"), "");
  EXPECT_EQ(one("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'manager_alt'"), "t");
  EXPECT_EQ(one("SELECT pg_has_role('manager_alt', 'manager', 'member')"), "t");
  EXPECT_EQ(one("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'manager_alt'"), "SCRAM-SHA-256$");
  auto c = open(as("manager_alt"));
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(run(c.get(), "SELECT current_user"), "manager");  // SET ROLE at login
  ASSERT_EQ(run(c.get(), "CREATE TABLE made_by_alt (x int)"), "");
  EXPECT_EQ(one("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_alt'"), "manager");
  // Again, as a leader that takes over mid-way does: the same end, no error.
  EXPECT_EQ(db_login::set_login_password(superuser(), kManager, "manager", "manager_alt", "first-password-0123456789"), "");
  EXPECT_EQ(one("SELECT count(*) FROM pg_roles WHERE rolname = 'manager_alt'"), "1");
}

TEST_F(DbLoginSqlTest, ARetiredLoginIsRefusedAndItsOpenSessionsEnd) {
  ASSERT_EQ(db_login::set_login_password(superuser(), kManager, "manager", "manager_alt", "second-password-0123456789"), "");
  auto open_session = open(as("manager_alt"));
  ASSERT_EQ(PQstatus(open_session.get()), CONNECTION_OK) << PQerrorMessage(open_session.get());
  int ended = -1;
  ASSERT_EQ(db_login::retire_login(superuser(), "manager_alt", ended), "");
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(one("SELECT rolcanlogin, rolpassword IS NULL FROM pg_authid WHERE rolname = 'manager_alt'"), "f|t");
  EXPECT_NE(run(open_session.get(), "SELECT 1").find("error"), std::string::npos);  // ended by the server
  auto refused = open(as("manager_alt"));
  EXPECT_NE(std::string(PQerrorMessage(refused.get())).find("not permitted to log in"), std::string::npos)
      << PQerrorMessage(refused.get());
  // The next rotation gives it the login back with its new password.
  ASSERT_EQ(db_login::set_login_password(superuser(), kManager, "manager", "manager_alt", "third-password-0123456789"), "");
  auto back = open(as("manager_alt"));
  EXPECT_EQ(PQstatus(back.get()), CONNECTION_OK) << PQerrorMessage(back.get());
  // Retiring twice is the same as once.
  ASSERT_EQ(db_login::retire_login(superuser(), "manager_alt", ended), "");
  ASSERT_EQ(db_login::retire_login(superuser(), "manager_alt", ended), "");
  EXPECT_EQ(ended, 0);
}

TEST_F(DbLoginSqlTest, TheManagersOwnRoleIsNeverCreatedAndAnUnreachablePrimaryIsSaidSo) {
  EXPECT_EQ(db_login::set_login_password(superuser(), kManager, "manager", "manager", "fourth-password-0123456789"), "");
  EXPECT_EQ(one("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'manager'"), "t");
  auto missing = db_login::set_login_password(superuser(), kManager, "nobody", "nobody", "fifth-password-0123456789");
  EXPECT_NE(missing.find("does not exist"), std::string::npos) << missing;
  int ended = 0;
  auto unreachable = db_login::retire_login("host=127.0.0.1 port=1 dbname=manager user=postgres connect_timeout=1", "x", ended);
  EXPECT_EQ(unreachable.rfind("cannot reach the primary", 0), 0u) << unreachable;
}

TEST_F(DbLoginSqlTest, AReplicationLoginIsMadeWithReplicationAndItsOpenSessionsAreCounted) {
  // Either replication login is made when missing (the test server has no
  // replicator): with REPLICATION, never as a member of another role.
  ASSERT_EQ(db_login::set_login_password(superuser(), kReplication, "replicator", "replicator_alt",
                                         "sixth-password-0123456789"),
            "");
  EXPECT_EQ(one("SELECT rolreplication, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'replicator_alt'"),
            "t|t|f");
  EXPECT_EQ(one("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                "WHERE r.rolname = 'replicator_alt'"),
            "0");
  ASSERT_EQ(db_login::set_login_password(superuser(), kReplication, "replicator", "replicator",
                                         "seventh-password-0123456789"),
            "");
  EXPECT_EQ(one("SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'"), "t");
  std::string error;
  EXPECT_EQ(db_login::open_sessions(superuser(), "replicator_alt", error), 0) << error;
  auto session = open(as("replicator_alt"));
  ASSERT_EQ(PQstatus(session.get()), CONNECTION_OK) << PQerrorMessage(session.get());
  EXPECT_EQ(db_login::open_sessions(superuser(), "replicator_alt", error), 1) << error;
  int ended = 0;
  ASSERT_EQ(db_login::retire_login(superuser(), "replicator_alt", ended), "");
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(db_login::open_sessions("host=127.0.0.1 port=1 dbname=manager user=postgres connect_timeout=1",
                                    "replicator_alt", error),
            -1);
  EXPECT_EQ(error.rfind("cannot reach the primary", 0), 0u) << error;
}

}  // namespace
}  // namespace hasup
