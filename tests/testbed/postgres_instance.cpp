#include "tests/testbed/postgres_instance.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>

namespace hasup::testbed {

namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";
constexpr const char* kSystemUser = "postgres";

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  std::vector<std::string> out = {kSetpriv, std::string("--reuid=") + kSystemUser,
                                  std::string("--regid=") + kSystemUser, "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void make_owned_dir(const std::string& path, mode_t mode) {
  std::filesystem::create_directories(path);
  passwd* user = getpwnam(kSystemUser);
  if (!user) throw std::runtime_error("no system user 'postgres'");
  if (chown(path.c_str(), user->pw_uid, user->pw_gid) != 0 || chmod(path.c_str(), mode) != 0) {
    throw std::runtime_error("cannot hand " + path + " to the postgres user");
  }
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  static std::atomic<int> counter{0};
  auto output_path = std::filesystem::temp_directory_path() /
                     ("hasup-cmd-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".out");
  CommandResult result;
  {
    auto process = Process::spawn(argv, output_path.string());
    result.status = process.wait(timeout);
  }  // a process still running at the timeout is killed here
  result.output = read_file(output_path.string());
  std::error_code ignored;
  std::filesystem::remove(output_path, ignored);
  return result;
}

PostgresInstance::PostgresInstance(const std::string& tag) {
  dir_ = make_temp_dir(tag);
  // The postgres user must reach its folders inside our (root-owned, 0700) temp dir.
  chmod(dir_.c_str(), 0711);
  data_dir_ = dir_ + "/data";
  socket_dir_ = dir_ + "/socket";
  log_path_ = dir_ + "/postgres.log";
}

PostgresInstance::~PostgresInstance() {
  try {
    stop();
  } catch (...) {
  }
  remove_tree(dir_);
}

std::string PostgresInstance::bin_dir() { return "/usr/lib/postgresql/15/bin"; }

std::string PostgresInstance::unavailable_reason() {
  for (const char* tool : {"initdb", "postgres", "psql", "pg_isready"}) {
    if (access((bin_dir() + "/" + tool).c_str(), X_OK) != 0) return bin_dir() + "/" + tool + " missing (postgresql-15)";
  }
  if (access(kSetpriv, X_OK) != 0) return std::string(kSetpriv) + " missing (util-linux)";
  if (!getpwnam(kSystemUser)) return "no system user 'postgres'";
  if (geteuid() != 0) return "not root: cannot run postgres as the postgres user";
  return {};
}

std::string PostgresInstance::log() const { return read_file(log_path_); }

std::string PostgresInstance::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname + " user=manager connect_timeout=2";
}

void PostgresInstance::init_cluster() {
  make_owned_dir(data_dir_, 0700);
  make_owned_dir(socket_dir_, 0755);
  auto initdb = run_command(as_postgres({bin_dir() + "/initdb", "-D", data_dir_, "-U", "postgres", "--auth=trust",
                                         "--no-sync", "--locale=C", "--encoding=UTF8", "--no-instructions"}),
                            std::chrono::seconds(60));
  write_file(dir_ + "/initdb.log", initdb.output);
  if (initdb.status != 0) throw std::runtime_error("initdb failed: " + initdb.output);
}

void PostgresInstance::start(std::chrono::seconds timeout) {
  if (running()) return;
  if (!initialized_) {
    init_cluster();
    port_ = free_port();
  }
  // Small and quick: tests need a real server, not a durable one (fsync off).
  postmaster_ = Process::spawn(
      as_postgres({bin_dir() + "/postgres", "-D", data_dir_, "-p", std::to_string(port_), "-k", socket_dir_, "-c",
                   "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c",
                   "max_connections=40", "-c", "logging_collector=off", "-c", "log_min_messages=warning"}),
      log_path_);
  bool ready = wait_until([&] { return !postmaster_.running() || accepting_connections(); }, timeout,
                          std::chrono::milliseconds(100));
  if (!ready || !postmaster_.running()) {
    throw std::runtime_error("postgres did not start on port " + std::to_string(port_) + ": " + log());
  }
  if (!initialized_) {
    auto created = query("CREATE ROLE manager LOGIN", "postgres");
    auto db = created ? query("CREATE DATABASE manager OWNER manager", "postgres") : std::nullopt;
    if (!db) throw std::runtime_error("cannot create role and database manager: " + log());
    initialized_ = true;
  }
}

void PostgresInstance::stop(std::chrono::seconds timeout) {
  if (!postmaster_.running()) return;
  postmaster_.signal(SIGINT);  // fast shutdown: end sessions, checkpoint, exit
  if (postmaster_.wait(timeout) < 0) postmaster_.kill_and_reap();
}

bool PostgresInstance::running() { return postmaster_.running(); }

bool PostgresInstance::accepting_connections() {
  auto r = run_command({bin_dir() + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-t", "2"},
                       std::chrono::seconds(5));
  return r.status == 0;
}

std::optional<std::string> PostgresInstance::query(const std::string& sql, const std::string& dbname) {
  auto r = run_command({bin_dir() + "/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                        std::to_string(port_), "-U", "postgres", "-d", dbname, "-c", sql},
                       std::chrono::seconds(15));
  if (r.status != 0) {
    std::string line = "psql failed (" + std::to_string(r.status) + ") for: " + sql + "\n" + r.output;
    write_file(dir_ + "/psql-errors.log", read_file(dir_ + "/psql-errors.log") + line);
    return std::nullopt;
  }
  return trim(r.output);
}

}  // namespace hasup::testbed
