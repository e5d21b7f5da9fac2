#include "components/db-login/sql.hpp"

#include <libpq-fe.h>

#include <memory>
#include <vector>

namespace hasup::db_login {

namespace {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A bound on every statement: a primary that stops answering fails the step, which is tried again.
constexpr const char* kSession = "SET statement_timeout = 5000; SET lock_timeout = 2000";

Connection connect(const std::string& conninfo, std::string& error) {
  Connection c(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    error = "cannot reach the primary: " + trimmed(c ? PQerrorMessage(c.get()) : "out of memory");
    return Connection(nullptr, &PQfinish);
  }
  return c;
}

// Runs `sql` with `params`; "" or the server's message.
std::string run(PGconn* c, const std::string& sql, const std::vector<std::string>& params = {},
                std::vector<std::vector<std::string>>* rows = nullptr) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  Result r(params.empty() ? PQexec(c, sql.c_str())
                          : PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                         nullptr, nullptr, 0),
           &PQclear);
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return trimmed(PQerrorMessage(c));
  if (rows)
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r.get()); ++j) row.emplace_back(PQgetvalue(r.get(), i, j));
      rows->push_back(std::move(row));
    }
  return {};
}

std::string identifier(PGconn* c, const std::string& name) {
  char* quoted = PQescapeIdentifier(c, name.c_str(), name.size());
  std::string out = quoted ? quoted : "";
  PQfreemem(quoted);
  return out;
}

std::string literal(PGconn* c, const std::string& text) {
  char* quoted = PQescapeLiteral(c, text.c_str(), text.size());
  std::string out = quoted ? quoted : "";
  PQfreemem(quoted);
  return out;
}

}  // namespace

std::string set_login_password(const std::string& conninfo, LoginSecret secret, const std::string& base_user,
                               const std::string& login, const std::string& password) {
  std::string error;
  auto c = connect(conninfo, error);
  if (!c) return error;
  if (auto e = run(c.get(), kSession); !e.empty()) return e;
  char* verifier = PQencryptPasswordConn(c.get(), password.c_str(), login.c_str(), "scram-sha-256");
  if (!verifier) return "cannot compute the password's verifier: " + trimmed(PQerrorMessage(c.get()));
  const std::string quoted_verifier = literal(c.get(), verifier);
  PQfreemem(verifier);
  const std::string role = identifier(c.get(), login), base = identifier(c.get(), base_user);
  if (role.empty() || base.empty() || quoted_verifier.empty()) return "cannot quote the role's name";
  if (auto e = run(c.get(), "BEGIN"); !e.empty()) return e;
  std::vector<std::vector<std::string>> found;
  if (auto e = run(c.get(), "SELECT 1 FROM pg_roles WHERE rolname = $1", {login}, &found); !e.empty()) return e;
  const bool manager = secret == LoginSecret::db_password;
  // The manager's role owns the data: never made here. Either replication
  // login is (a cluster bootstrapped again under a newer record has only the
  // one Patroni created).
  if (found.empty() && manager && login == base_user) return "the manager's role " + base_user + " does not exist";
  if (found.empty() && manager) {
    if (auto e = run(c.get(), "CREATE ROLE " + role + " IN ROLE " + base); !e.empty())
      return "cannot create login " + login + ": " + e;
    if (auto e = run(c.get(), "ALTER ROLE " + role + " SET role = " + literal(c.get(), base_user)); !e.empty())
      return "cannot make login " + login + " act as " + base_user + ": " + e;
  } else if (found.empty()) {
    if (auto e = run(c.get(), "CREATE ROLE " + role + " WITH REPLICATION"); !e.empty())
      return "cannot create login " + login + ": " + e;
  }
  if (auto e = run(c.get(), "ALTER ROLE " + role + " WITH LOGIN PASSWORD " + quoted_verifier); !e.empty())
    return "cannot set login " + login + "'s password: " + e;
  if (auto e = run(c.get(), "COMMIT"); !e.empty()) return e;
  return {};
}

int open_sessions(const std::string& conninfo, const std::string& login, std::string& error) {
  auto c = connect(conninfo, error);
  if (!c) return -1;
  if (error = run(c.get(), kSession); !error.empty()) return -1;
  std::vector<std::vector<std::string>> rows;
  if (error = run(c.get(), "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
                  {login}, &rows);
      !error.empty())
    return -1;
  return rows.empty() || rows[0].empty() ? 0 : std::stoi(rows[0][0]);
}

std::string retire_login(const std::string& conninfo, const std::string& login, int& ended) {
  ended = 0;
  std::string error;
  auto c = connect(conninfo, error);
  if (!c) return error;
  if (auto e = run(c.get(), kSession); !e.empty()) return e;
  const std::string role = identifier(c.get(), login);
  if (role.empty()) return "cannot quote the role's name";
  if (auto e = run(c.get(), "ALTER ROLE " + role + " WITH NOLOGIN PASSWORD NULL"); !e.empty())
    return "cannot refuse login " + login + ": " + e;
  std::vector<std::vector<std::string>> rows;
  if (auto e = run(c.get(),
                   "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE usename = $1 AND pid <> pg_backend_pid()",
                   {login}, &rows);
      !e.empty())
    return "login " + login + " refused, but its open sessions could not be ended: " + e;
  if (!rows.empty() && !rows[0].empty()) ended = std::stoi(rows[0][0]);
  return {};
}

}  // namespace hasup::db_login
