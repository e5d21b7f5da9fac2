#pragma once
// A real PostgreSQL 15 (Debian's /usr/lib/postgresql/15/bin) in a temp dir on a
// free 127.0.0.1 port, with role `manager` and database `manager` (trust auth on
// loopback). The tests run as root and postgres refuses root, so initdb and
// postgres run as the `postgres` system user (setpriv, which execs: the PID we
// hold is the postmaster's). Stopped by that PID only. No libpq: psql and
// pg_isready run as processes.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/testbed/process.hpp"

namespace hasup::testbed {

class PostgresInstance {
 public:
  explicit PostgresInstance(const std::string& tag = "postgres");
  ~PostgresInstance();  // stops the server and removes the temp dir
  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;

  static std::string bin_dir();
  // "" when this machine can run it, else why not (for GTEST_SKIP).
  static std::string unavailable_reason();

  // The first start runs initdb and creates the role and database; later starts
  // reuse the data dir and the port. Waits until it accepts connections; throws on failure.
  void start(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Fast shutdown (SIGINT) of the postmaster; SIGKILL if it is still there after `timeout`.
  void stop(std::chrono::seconds timeout = std::chrono::seconds(20));
  bool running();
  bool accepting_connections();

  unsigned short port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string log() const;
  // A libpq conninfo for the stand-in: "host=127.0.0.1 port=P dbname=D user=manager connect_timeout=2".
  std::string conninfo(const std::string& dbname = "manager") const;

  // psql -At as superuser `postgres`: the output (rows "a|b", one a line, no
  // trailing newline), or nullopt when psql failed (the reason is in the log).
  std::optional<std::string> query(const std::string& sql, const std::string& dbname = "manager");

 private:
  void init_cluster();
  std::string dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  unsigned short port_ = 0;
  bool initialized_ = false;
  Process postmaster_;
};

// Runs argv to completion (killed after `timeout`) and gives its exit status
// and output (stdout and stderr together). For psql, sha256sum and scripts.
struct CommandResult {
  int status = -1;  // -1: timed out
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace hasup::testbed
