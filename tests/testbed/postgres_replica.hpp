#pragma once
// A streaming replica of a testbed PostgresInstance: pg_basebackup -R (which
// writes standby.signal and primary_conninfo) into a temp dir, then Debian's
// postgres on its own free 127.0.0.1 port, as the `postgres` system user like
// the primary. Stopped by the PID we hold only.
#include <chrono>
#include <optional>
#include <string>

#include "tests/testbed/postgres_instance.hpp"
#include "tests/testbed/process.hpp"

namespace hasup::testbed {

class PostgresReplica {
 public:
  // `primary` must be running when start() first runs; it must outlive the replica.
  explicit PostgresReplica(PostgresInstance& primary, const std::string& tag = "postgres-replica");
  ~PostgresReplica();  // stops the server and removes the temp dir
  PostgresReplica(const PostgresReplica&) = delete;
  PostgresReplica& operator=(const PostgresReplica&) = delete;

  // The first start takes the base backup; later starts reuse the data dir and
  // port. Waits until it accepts connections; throws on failure.
  void start(std::chrono::seconds timeout = std::chrono::seconds(60));
  void stop(std::chrono::seconds timeout = std::chrono::seconds(20));  // fast shutdown, then SIGKILL
  bool running();
  // Until pg_stat_wal_receiver says 'streaming'.
  bool wait_streaming(std::chrono::milliseconds timeout);

  unsigned short port() const { return port_; }
  std::string log() const;
  // "host=127.0.0.1 port=P dbname=D user=manager connect_timeout=2"
  std::string conninfo(const std::string& dbname = "manager") const;
  // psql -At as superuser `postgres` (see PostgresInstance::query).
  std::optional<std::string> query(const std::string& sql, const std::string& dbname = "manager");

 private:
  PostgresInstance& primary_;
  std::string dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  unsigned short port_ = 0;
  bool cloned_ = false;
  Process postmaster_;
};

}  // namespace hasup::testbed
