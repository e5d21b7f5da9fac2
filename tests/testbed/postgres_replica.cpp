#include "tests/testbed/postgres_replica.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace hasup::testbed {

namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  std::vector<std::string> out = {kSetpriv, "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void make_postgres_dir(const std::string& path, mode_t mode) {
  std::filesystem::create_directories(path);
  passwd* user = getpwnam("postgres");
  if (!user) throw std::runtime_error("no system user 'postgres'");
  if (chown(path.c_str(), user->pw_uid, user->pw_gid) != 0 || chmod(path.c_str(), mode) != 0) {
    throw std::runtime_error("cannot hand " + path + " to the postgres user");
  }
}

}  // namespace

PostgresReplica::PostgresReplica(PostgresInstance& primary, const std::string& tag) : primary_(primary) {
  dir_ = make_temp_dir(tag);
  chmod(dir_.c_str(), 0711);  // the postgres user must reach its folders inside
  data_dir_ = dir_ + "/data";
  socket_dir_ = dir_ + "/socket";
  log_path_ = dir_ + "/postgres.log";
}

PostgresReplica::~PostgresReplica() {
  try {
    stop();
  } catch (...) {
  }
  remove_tree(dir_);
}

std::string PostgresReplica::log() const { return read_file(log_path_); }

std::string PostgresReplica::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname + " user=manager connect_timeout=2";
}

void PostgresReplica::start(std::chrono::seconds timeout) {
  if (running()) return;
  const auto bin = PostgresInstance::bin_dir();
  if (!cloned_) {
    make_postgres_dir(data_dir_, 0700);
    make_postgres_dir(socket_dir_, 0755);
    // initdb --auth=trust allows replication connections from 127.0.0.1.
    auto backup = run_command(as_postgres({bin + "/pg_basebackup", "-D", data_dir_, "-h", "127.0.0.1", "-p",
                                           std::to_string(primary_.port()), "-U", "postgres", "-R", "-X", "stream",
                                           "--no-sync", "-c", "fast"}),
                              std::chrono::seconds(120));
    write_file(dir_ + "/basebackup.log", backup.output);
    if (backup.status != 0) throw std::runtime_error("pg_basebackup failed: " + backup.output);
    port_ = free_port();
    cloned_ = true;
  }
  postmaster_ = Process::spawn(
      as_postgres({bin + "/postgres", "-D", data_dir_, "-p", std::to_string(port_), "-k", socket_dir_, "-c",
                   "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c",
                   "max_connections=40", "-c", "logging_collector=off", "-c", "log_min_messages=warning", "-c",
                   "hot_standby=on"}),
      log_path_);
  auto accepting = [&] {
    auto r = run_command({bin + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-t", "2"},
                         std::chrono::seconds(5));
    return r.status == 0;
  };
  bool ready = wait_until([&] { return !postmaster_.running() || accepting(); }, timeout,
                          std::chrono::milliseconds(100));
  if (!ready || !postmaster_.running()) {
    throw std::runtime_error("replica did not start on port " + std::to_string(port_) + ": " + log());
  }
}

void PostgresReplica::stop(std::chrono::seconds timeout) {
  if (!postmaster_.running()) return;
  postmaster_.signal(SIGINT);
  if (postmaster_.wait(timeout) < 0) postmaster_.kill_and_reap();
}

bool PostgresReplica::running() { return postmaster_.running(); }

bool PostgresReplica::wait_streaming(std::chrono::milliseconds timeout) {
  return wait_until([&] { return query("SELECT status FROM pg_stat_wal_receiver").value_or("") == "streaming"; },
                    timeout, std::chrono::milliseconds(100));
}

std::optional<std::string> PostgresReplica::query(const std::string& sql, const std::string& dbname) {
  auto r = run_command({PostgresInstance::bin_dir() + "/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
                        "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", "-d", dbname, "-c", sql},
                       std::chrono::seconds(15));
  if (r.status != 0) {
    write_file(dir_ + "/psql-errors.log",
               read_file(dir_ + "/psql-errors.log") + "psql failed for: " + sql + "\n" + r.output);
    return std::nullopt;
  }
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r')) r.output.pop_back();
  return r.output;
}

}  // namespace hasup::testbed
