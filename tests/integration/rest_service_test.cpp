// The REST service stand-in (components/rest-service) as a process, against a
// real PostgreSQL 15: an upload is bytes on disk plus a committed row and comes
// back byte for byte; bad ids, paths and methods are refused; a large upload
// streams to disk in bounded memory; the service follows its database down and
// back up without a restart; the install script writes what systemd runs.
#include <gtest/gtest.h>

#include "tests/testbed/chunk_extension_flood.hpp"
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "supervisor/http/client.hpp"
#include "tests/testbed/postgres_instance.hpp"
#include "tests/testbed/process.hpp"
#include "tests/testbed/silent_listener.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

constexpr std::size_t kMiB = 1024 * 1024;

// build/tests/integration_tests -> build
fs::path build_dir() { return fs::read_symlink("/proc/self/exe").parent_path().parent_path(); }

std::string standin_binary() {
  if (const char* path = std::getenv("REST_STANDIN_BIN")) return path;
  return (build_dir() / "components/rest-service/rest-standin").string();
}

// The source tree this build was configured from, as CMake's cache names it.
fs::path source_dir() {
  std::istringstream cache(read_file((build_dir() / "CMakeCache.txt").string()));
  const std::string key = "CMAKE_HOME_DIRECTORY:INTERNAL=";
  for (std::string line; std::getline(cache, line);) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return build_dir().parent_path();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937_64 generator(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    auto value = generator();
    std::memcpy(out.data() + i, &value, std::min<std::size_t>(8, size - i));
  }
  return out;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Computed apart from the stand-in: coreutils' sha256sum.
std::string sha256_of_file(const std::string& path) {
  auto r = run_command({"/usr/bin/sha256sum", path});
  return r.status == 0 ? r.output.substr(0, 64) : "sha256sum failed: " + r.output;
}

// A field of /proc/PID/status in kB (VmRSS: resident now, VmHWM: peak resident).
long proc_status_kb(pid_t pid, const std::string& field) {
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

std::vector<std::string> folder_entries(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

json body_json(const http::Outcome& o) { return json::parse(o.response.body, nullptr, false); }

// HTTP written by hand: for malformed requests, chunked bodies and uploads
// sent piece by piece. Blocking socket with send and receive timeouts.
class RawConnection {
 public:
  explicit RawConnection(unsigned short port) : socket_(io_) {
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) throw std::runtime_error("connect: " + ec.message());
    timeval timeout{15, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }

  bool send(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    return !ec;
  }

  // Something came back (or the connection broke).
  bool answered() {
    boost::system::error_code ec;
    return socket_.available(ec) > 0 || ec;
  }

  // Every byte until the stand-in closes (or the receive timeout).
  std::string read_all() {
    std::string got;
    char buf[4096];
    boost::system::error_code ec;
    for (;;) {
      std::size_t n = socket_.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
      if (ec) break;
    }
    return got;
  }

  // Status 0 when no response could be read.
  std::pair<int, json> read_response() {
    boost::beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    boost::system::error_code ec;
    bhttp::read(socket_, buffer, response, ec);
    if (ec) return {0, json{{"read_error", ec.message()}}};
    return {response.result_int(), json::parse(response.body(), nullptr, false)};
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
};

std::string put_header(const std::string& id, std::size_t length) {
  return "PUT /api/v3.1/blueprints/" + id +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n" +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

// A file holding the conninfo, for --db-file (which SIGHUP reads again).
struct DbFile {
  std::string path;
};

// One rest-standin process on a free port, with its own resources folder.
class Standin {
 public:
  explicit Standin(const std::string& conninfo, const std::vector<std::string>& extra = {})
      : Standin(std::vector<std::string>{"--db", conninfo}, extra) {}
  Standin(const DbFile& file, const std::vector<std::string>& extra = {})
      : Standin(std::vector<std::string>{"--db-file", file.path}, extra) {}

  ~Standin() {
    process_.signal(SIGTERM);
    process_.wait(5s);
    process_.kill_and_reap();
    remove_tree(dir_);
  }

  // Answering HTTP at all (any status): it may well be 503 while the database is down.
  bool wait_answering(std::chrono::milliseconds timeout = 10s) {
    return wait_until([&] { return !process_.running() || call(http::Method::get, "/api/v3.1/status", {}, 3s).ok; },
                      timeout, 50ms) &&
           process_.running();
  }

  int status_code() {
    auto o = call(http::Method::get, "/api/v3.1/status", {}, 5s);
    return o.ok ? o.response.status : 0;
  }

  http::Outcome call(http::Method method, const std::string& target, std::string body = {},
                     std::chrono::milliseconds timeout = 10s) {
    http::Request request;
    request.method = method;
    request.target = target;
    request.body = std::move(body);
    if (method == http::Method::put) request.content_type = "application/octet-stream";
    http::Policy policy;
    policy.timeout = timeout;
    policy.body_limit = 128 * kMiB;
    return http::request_sync({"127.0.0.1", port_}, std::move(request), policy);
  }

  http::Outcome put(const std::string& id, const std::string& bytes) {
    return call(http::Method::put, "/api/v3.1/blueprints/" + id, bytes, 30s);
  }

  std::string folder(const std::string& id) const { return resources_ + "/blueprints/" + id; }
  std::string archive(const std::string& id) const { return folder(id) + "/archive"; }
  const std::string& resources() const { return resources_; }
  const std::string& dir() const { return dir_; }
  unsigned short port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }
  std::string log() const { return read_file(dir_ + "/standin.log"); }
  void signal(int number) { process_.signal(number); }

 private:
  Standin(const std::vector<std::string>& db_option, const std::vector<std::string>& extra) {
    dir_ = make_temp_dir("standin");
    resources_ = dir_ + "/resources";
    port_ = free_port();
    std::vector<std::string> argv = {standin_binary(), "--listen", "127.0.0.1", "--port", std::to_string(port_),
                                     "--resources", resources_};
    argv.insert(argv.end(), db_option.begin(), db_option.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = Process::spawn(argv, dir_ + "/standin.log");
  }

  std::string dir_;
  std::string resources_;
  unsigned short port_ = 0;
  Process process_;
};

class RestServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = PostgresInstance::unavailable_reason();
    if (!skip_reason_.empty()) return;
    try {
      postgres_ = std::make_unique<PostgresInstance>("standin-pg");
      postgres_->start();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }

  static void TearDownTestSuite() { postgres_.reset(); }

  void SetUp() override {
    if (access(standin_binary().c_str(), X_OK) != 0) {
      GTEST_SKIP() << "rest-standin not built at " << standin_binary() << ": build first (ninja rest-standin)";
    }
    if (!skip_reason_.empty()) GTEST_SKIP() << "no PostgreSQL for the stand-in: " << skip_reason_;
    ASSERT_TRUE(start_error_.empty()) << start_error_;
    postgres_->start();  // a test that stopped it and failed halfway leaves it down
  }

  void TearDown() override {
    if (HasFailure() && standin_) std::cerr << "--- rest-standin log ---\n" << standin_->log() << "---\n";
    standin_.reset();
    if (!db_file_dir_.empty()) remove_tree(db_file_dir_);
  }

  PostgresInstance& pg() { return *postgres_; }

  Standin& start_standin(const std::vector<std::string>& extra = {}) {
    standin_ = std::make_unique<Standin>(pg().conninfo(), extra);
    EXPECT_TRUE(standin_->wait_answering()) << standin_->log();
    EXPECT_TRUE(wait_until([&] { return standin_->status_code() == 200; }, 15s)) << standin_->log();
    return *standin_;
  }

  std::string row(const std::string& id, const std::string& dbname = "manager") {
    return pg()
        .query("SELECT sha256 || ' ' || size FROM standin_blueprints WHERE id = '" + id + "'", dbname)
        .value_or("query failed");
  }

  // Writes (or rewrites) the --db-file, in place as an editor would.
  DbFile write_db_file(const std::string& conninfo) {
    if (db_file_dir_.empty()) db_file_dir_ = make_temp_dir("standin-db-file");
    write_bytes(db_file_dir_ + "/db", conninfo + "\n");
    return DbFile{db_file_dir_ + "/db"};
  }

  // The stand-in's sessions, told by the application_name its conninfo gives:
  // "user:count" per user, comma-separated ("" when none).
  std::string sessions_by_user(const std::string& application_name) {
    return pg()
        .query("SELECT coalesce(string_agg(usename || ':' || n, ',' ORDER BY usename), '') FROM (SELECT usename, "
               "count(*) AS n FROM pg_stat_activity WHERE application_name = '" +
               application_name + "' GROUP BY usename) s")
        .value_or("query failed");
  }

  // Has the server end the sessions `condition` picks in pg_stat_activity, and
  // waits until they are gone.
  bool terminate_sessions(const std::string& condition) {
    const std::string picked = "FROM pg_stat_activity WHERE " + condition;
    if (!pg().query("SELECT count(pg_terminate_backend(pid)) " + picked)) return false;
    return wait_until([&] { return pg().query("SELECT count(*) " + picked) == "0"; }, 10s);
  }

  static std::unique_ptr<PostgresInstance> postgres_;
  static std::string skip_reason_;
  static std::string start_error_;
  std::unique_ptr<Standin> standin_;
  std::string db_file_dir_;
};

std::unique_ptr<PostgresInstance> RestServiceTest::postgres_;
std::string RestServiceTest::skip_reason_;
std::string RestServiceTest::start_error_;

TEST_F(RestServiceTest, UploadIsStoredOnDiskAndInPostgresAndComesBackByteForByte) {
  auto& s = start_standin();
  const std::string id = "bp-round.trip_1";
  auto bytes = random_bytes(3 * kMiB + 17, 1);
  write_bytes(s.dir() + "/expected", bytes);
  auto expected_sha = sha256_of_file(s.dir() + "/expected");

  auto put = s.put(id, bytes);
  ASSERT_TRUE(put.ok) << put.error;
  ASSERT_EQ(put.response.status, 201) << put.response.body;
  auto created = body_json(put);
  EXPECT_EQ(created["id"], id);
  EXPECT_EQ(created["sha256"], expected_sha);
  EXPECT_EQ(created["size"], bytes.size());

  // Durable in both places before the 201: the file where Cloudify keeps it, the row committed.
  EXPECT_EQ(sha256_of_file(s.archive(id)), expected_sha);
  EXPECT_EQ(folder_entries(s.folder(id)), std::vector<std::string>{"archive"}) << "no temp file left behind";
  EXPECT_EQ(row(id), expected_sha + " " + std::to_string(bytes.size()));

  auto got = s.call(http::Method::get, "/api/v3.1/blueprints/" + id);
  ASSERT_EQ(got.response.status, 200) << got.response.body;
  EXPECT_EQ(body_json(got)["sha256"], expected_sha);
  EXPECT_EQ(body_json(got)["size"], bytes.size());
  EXPECT_EQ(body_json(got)["created_at"], created["created_at"]);

  auto archive = s.call(http::Method::get, "/api/v3.1/blueprints/" + id + "/archive");
  ASSERT_EQ(archive.response.status, 200) << archive.error;
  EXPECT_EQ(archive.response.header("content-type"), "application/octet-stream");
  EXPECT_EQ(archive.response.header("x-blueprint-sha256"), expected_sha);
  ASSERT_EQ(archive.response.body.size(), bytes.size());
  EXPECT_TRUE(archive.response.body == bytes) << "archive bytes differ from the upload";
  write_bytes(s.dir() + "/downloaded", archive.response.body);
  EXPECT_EQ(sha256_of_file(s.dir() + "/downloaded"), expected_sha);

  // A second upload of the id replaces bytes and row.
  auto replacement = random_bytes(1000, 2);
  write_bytes(s.dir() + "/replacement", replacement);
  auto replaced = s.put(id, replacement);
  ASSERT_EQ(replaced.response.status, 201) << replaced.response.body;
  EXPECT_EQ(row(id), sha256_of_file(s.dir() + "/replacement") + " 1000");
  EXPECT_EQ(sha256_of_file(s.archive(id)), sha256_of_file(s.dir() + "/replacement"));
  EXPECT_EQ(folder_entries(s.folder(id)), std::vector<std::string>{"archive"});

  auto deleted = s.call(http::Method::del, "/api/v3.1/blueprints/" + id);
  EXPECT_EQ(deleted.response.status, 204) << deleted.response.body;
  EXPECT_EQ(row(id), "");
  EXPECT_FALSE(fs::exists(s.folder(id)));
  EXPECT_EQ(s.call(http::Method::get, "/api/v3.1/blueprints/" + id).response.status, 404);
  EXPECT_EQ(s.call(http::Method::get, "/api/v3.1/blueprints/" + id + "/archive").response.status, 404);
  auto again = s.call(http::Method::del, "/api/v3.1/blueprints/" + id);
  EXPECT_EQ(again.response.status, 404);
  EXPECT_TRUE(body_json(again).contains("error")) << again.response.body;

  // One log line per request: method, path, status, bytes, ms.
  EXPECT_TRUE(contains(s.log(), "PUT /api/v3.1/blueprints/" + id + " 201 in=" + std::to_string(bytes.size())))
      << s.log();
}

// A symbolic link in the resources folder (a local user's, or one that file
// replication brought from a peer) never takes a REST call outside it: no read
// of a file there, no write into it, no delete of what it holds.
TEST_F(RestServiceTest, ASymbolicLinkNeverTakesARestCallOutsideTheResourcesFolder) {
  auto& s = start_standin();
  const std::string outside = s.dir() + "/outside";
  fs::create_directories(outside);
  write_bytes(outside + "/keep-me", "precious");
  write_bytes(outside + "/archive", "secret outside the folder");
  const auto untouched = [&] {
    return folder_entries(outside) == std::vector<std::string>{"archive", "keep-me"} &&
           read_file(outside + "/archive") == "secret outside the folder" && read_file(outside + "/keep-me") == "precious";
  };
  // A blueprint whose folder is then swapped for a link to the outside folder.
  ASSERT_EQ(s.put("linked", "real bytes").response.status, 201);
  fs::remove_all(s.folder("linked"));
  fs::create_directory_symlink(outside, s.folder("linked"));
  auto got = s.call(http::Method::get, "/api/v3.1/blueprints/linked/archive");
  EXPECT_EQ(got.response.status, 500) << got.response.body;
  EXPECT_EQ(got.response.body.find("secret outside"), std::string::npos) << "the link was followed";
  EXPECT_TRUE(contains(got.response.body, "symbolic link")) << got.response.body;
  auto put = s.put("linked", "an attacker's bytes");
  EXPECT_NE(put.response.status, 201) << put.response.body;
  auto deleted = s.call(http::Method::del, "/api/v3.1/blueprints/linked");
  EXPECT_NE(deleted.response.status, 204) << "the link's target was emptied: " << deleted.response.body;
  EXPECT_TRUE(untouched()) << "a REST call reached outside the resources folder";
  EXPECT_TRUE(fs::is_symlink(s.folder("linked"))) << "the link itself is left for the operator to see";

  // The archive alone a link, inside a real folder: never read, and a delete
  // removes the link, not its target.
  ASSERT_EQ(s.put("inner", "inner bytes").response.status, 201);
  fs::remove(s.archive("inner"));
  fs::create_symlink(outside + "/archive", s.archive("inner"));
  auto inner = s.call(http::Method::get, "/api/v3.1/blueprints/inner/archive");
  EXPECT_EQ(inner.response.status, 500) << inner.response.body;
  EXPECT_EQ(inner.response.body.find("secret outside"), std::string::npos) << "the link was followed";
  EXPECT_EQ(s.call(http::Method::del, "/api/v3.1/blueprints/inner").response.status, 204);
  EXPECT_FALSE(fs::exists(s.folder("inner")));
  // A link to a folder, inside a blueprint's folder: a delete takes the link only.
  ASSERT_EQ(s.put("nested", "nested bytes").response.status, 201);
  fs::create_directory_symlink(outside, s.folder("nested") + "/extra");
  EXPECT_EQ(s.call(http::Method::del, "/api/v3.1/blueprints/nested").response.status, 204);
  EXPECT_FALSE(fs::exists(s.folder("nested")));
  EXPECT_TRUE(untouched()) << "a REST call reached outside the resources folder";
  EXPECT_TRUE(s.running());
}

TEST_F(RestServiceTest, BadIdsUnknownPathsWrongMethodsAndMalformedRequestsAreRefused) {
  auto& s = start_standin();
  auto expect_error = [&](http::Method method, const std::string& target, int status, const std::string& body = {}) {
    auto o = s.call(method, target, body);
    EXPECT_TRUE(o.ok) << target << ": " << o.error;
    EXPECT_EQ(o.response.status, status) << target << ": " << o.response.body;
    auto doc = body_json(o);
    EXPECT_TRUE(doc.is_object() && doc.contains("error")) << target << ": " << o.response.body;
    EXPECT_EQ(o.response.header("content-type"), "application/json") << target;
    return o;
  };
  for (const std::string& id : std::vector<std::string>{"../etc", "a%2F..%2Fb", "..", ".hidden", "-x", "_x", "a..b",
                                                        "a%2Fb", "a%zz", "%2E%2E", "a%00b", std::string(129, 'a')}) {
    expect_error(http::Method::get, "/api/v3.1/blueprints/" + id, 400);
    expect_error(http::Method::get, "/api/v3.1/blueprints/" + id + "/archive", 400);
    expect_error(http::Method::del, "/api/v3.1/blueprints/" + id, 400);
    expect_error(http::Method::put, "/api/v3.1/blueprints/" + id, 400, "payload");
  }
  // Nothing was written anywhere for them, inside the resources folder or out of it.
  EXPECT_EQ(folder_entries(s.resources() + "/blueprints"), std::vector<std::string>{});
  EXPECT_EQ(folder_entries(s.resources()), std::vector<std::string>{"blueprints"});
  EXPECT_EQ(pg().query("SELECT count(*) FROM standin_blueprints WHERE id LIKE '%.%' OR id LIKE '%/%'"), "0");
  // The longest valid id is only unknown.
  expect_error(http::Method::get, "/api/v3.1/blueprints/" + std::string(128, 'a'), 404);

  expect_error(http::Method::get, "/api/v3.1/blueprints/nope", 404);
  expect_error(http::Method::get, "/api/v3.1/blueprints/nope/archive", 404);
  expect_error(http::Method::del, "/api/v3.1/blueprints/nope", 404);
  expect_error(http::Method::get, "/api/v3.1/blueprints/nope/other", 404);
  expect_error(http::Method::get, "/api/v3.1/blueprints", 404);
  expect_error(http::Method::get, "/api/v3.1/nothing", 404);
  expect_error(http::Method::get, "/api/v3.2/status", 404);
  expect_error(http::Method::get, "/", 404);

  auto post = expect_error(http::Method::post, "/api/v3.1/blueprints/x", 405, "payload");
  EXPECT_EQ(post.response.header("allow"), "GET, PUT, DELETE");
  EXPECT_EQ(expect_error(http::Method::put, "/api/v3.1/status", 405, "x").response.header("allow"), "GET");
  EXPECT_EQ(expect_error(http::Method::del, "/api/v3.1/blueprints/x/archive", 405).response.header("allow"), "GET");
  expect_error(http::Method::put, "/api/v3.1/blueprints/empty", 400);  // no body: no archive

  const std::vector<std::string> malformed = {
      "GARBAGE\r\n\r\n", "GET /api/v3.1/status HTTP/1.1\r\nNo colon here\r\n\r\n",
      "PUT /api/v3.1/blueprints/x HTTP/1.1\r\nContent-Length: many\r\n\r\n", "GET /api/v3.1/status HTTP/9.9\r\n\r\n"};
  for (const auto& request : malformed) {
    RawConnection raw(s.port());
    ASSERT_TRUE(raw.send(request));
    auto [status, doc] = raw.read_response();
    EXPECT_EQ(status, 400) << request << doc.dump();
    EXPECT_TRUE(doc.contains("error")) << request << doc.dump();
  }
  // Still serving after all that.
  EXPECT_EQ(s.status_code(), 200);
}

// A chunk size line that never ends (32 MiB of chunk extension): refused with
// a 400 once the read buffer's cap is reached, not buffered whole.
TEST_F(RestServiceTest, AnEndlessChunkExtensionIsRefusedNotBuffered) {
  auto& s = start_standin();
  auto out = flood_chunk_extension(s.port(), "/api/v3.1/blueprints/flood", 32u << 20);
  EXPECT_TRUE(refused_the_flood(out)) << "written all: " << out.written_all << ", timed out: " << out.timed_out
                                      << ", answer: " << out.answer.substr(0, 300);
  EXPECT_LT(proc_status_kb(s.pid(), "VmHWM"), 64 * 1024) << "the stand-in's peak memory";
  EXPECT_EQ(s.status_code(), 200) << "still serving";
}

TEST_F(RestServiceTest, LargeUploadStreamsToDiskInBoundedMemory) {
  auto& s = start_standin();
  const std::size_t size = 50 * kMiB;
  auto bytes = random_bytes(size, 3);
  write_bytes(s.dir() + "/expected", bytes);
  auto expected_sha = sha256_of_file(s.dir() + "/expected");

  // Sent a MiB at a time, sampling the stand-in's resident memory in between.
  RawConnection raw(s.port());
  ASSERT_TRUE(raw.send(put_header("big", size)));
  long peak_sampled_kb = 0;
  for (std::size_t offset = 0; offset < size; offset += kMiB) {
    ASSERT_TRUE(raw.send(bytes.substr(offset, kMiB))) << "send failed at " << offset;
    peak_sampled_kb = std::max(peak_sampled_kb, proc_status_kb(s.pid(), "VmRSS"));
  }
  auto [status, doc] = raw.read_response();
  ASSERT_EQ(status, 201) << doc.dump();
  long high_water_kb = proc_status_kb(s.pid(), "VmHWM");
  std::cerr << "rest-standin resident memory during a 50 MiB upload: sampled peak " << peak_sampled_kb / 1024
            << " MiB, high-water mark " << high_water_kb / 1024 << " MiB\n";
  EXPECT_GT(peak_sampled_kb, 0);
  EXPECT_LT(peak_sampled_kb, 30 * 1024);
  EXPECT_LT(high_water_kb, 30 * 1024) << "the body was held in memory, not streamed";

  EXPECT_EQ(doc["sha256"], expected_sha);
  EXPECT_EQ(doc["size"], size);
  EXPECT_EQ(sha256_of_file(s.archive("big")), expected_sha);
  EXPECT_EQ(row("big"), expected_sha + " " + std::to_string(size));

  auto archive = s.call(http::Method::get, "/api/v3.1/blueprints/big/archive", {}, 60s);
  ASSERT_TRUE(archive.ok) << archive.error;
  ASSERT_EQ(archive.response.status, 200);
  EXPECT_TRUE(archive.response.body == bytes) << "downloaded archive differs";
  EXPECT_LT(proc_status_kb(s.pid(), "VmHWM"), 30 * 1024) << "the download was held in memory";
}

TEST_F(RestServiceTest, BodyOverTheLimitIsRefusedWith413AndLeavesNothing) {
  auto& s = start_standin({"--max-body", std::to_string(kMiB)});
  // Content-Length over the limit: refused from the header, before the body is read.
  auto over = s.put("too-big", random_bytes(2 * kMiB, 4));
  ASSERT_TRUE(over.ok) << over.error;
  EXPECT_EQ(over.response.status, 413) << over.response.body;
  EXPECT_TRUE(body_json(over).contains("error"));

  // A chunked body has no length up front: refused once it passes the limit.
  RawConnection raw(s.port());
  ASSERT_TRUE(
      raw.send("PUT /api/v3.1/blueprints/too-big-chunked HTTP/1.1\r\nHost: x\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"));
  auto chunk = random_bytes(256 * 1024, 5);
  for (int i = 0; i < 6; ++i) {
    std::ostringstream piece;
    piece << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
    if (!raw.send(piece.str())) break;  // refused already
  }
  raw.send("0\r\n\r\n");
  auto [status, doc] = raw.read_response();
  EXPECT_EQ(status, 413) << doc.dump();

  EXPECT_FALSE(fs::exists(s.folder("too-big")));
  EXPECT_FALSE(fs::exists(s.folder("too-big-chunked")));
  EXPECT_EQ(row("too-big"), "");
  EXPECT_EQ(row("too-big-chunked"), "");

  // Exactly the limit is fine.
  auto at_limit = s.put("at-limit", random_bytes(kMiB, 6));
  EXPECT_EQ(at_limit.response.status, 201) << at_limit.response.body;
  EXPECT_EQ(body_json(at_limit)["size"], kMiB);
}

// An upload that trickles, 10 bytes every 100 ms: each read is quick, so the
// idle timeout never fires. Against a floor of 1000 bytes/s after a 1 s grace
// it gets a 408 within seconds, and leaves no file and no row.
TEST_F(RestServiceTest, AnUploadSlowerThanTheMinimumRateGets408AndLeavesNothing) {
  auto& s = start_standin({"--body-grace-ms", "1000", "--body-min-rate", "1000"});
  RawConnection raw(s.port());
  ASSERT_TRUE(raw.send(put_header("trickle", 100000)));
  auto began = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - began < 20s && !raw.answered()) {
    if (!raw.send(std::string(10, 'x'))) break;
    std::this_thread::sleep_for(100ms);
  }
  auto answered_after = std::chrono::steady_clock::now() - began;
  auto [status, doc] = raw.read_response();
  EXPECT_EQ(status, 408) << doc.dump();
  EXPECT_NE(doc.value("error", "").find("request body slower than 1000 bytes/s"), std::string::npos) << doc.dump();
  EXPECT_LT(answered_after, 10s);
  EXPECT_FALSE(fs::exists(s.folder("trickle")));
  EXPECT_EQ(row("trickle"), "");
  EXPECT_EQ(s.status_code(), 200) << "still serving";
}

// Beyond its connection limit the stand-in answers 503 with Retry-After; it
// closed such connections without a word before, which the gate in front
// reported as 502 "may have been applied".
TEST_F(RestServiceTest, ConnectionsBeyondTheLimitGet503WithRetryAfter) {
  auto& s = start_standin({"--max-connections", "3"});
  // The harness's readiness probe may still count as open for a moment: a
  // held connection refused then (answered 503 and closed) is opened again,
  // or every probe after it fits under the limit (a clean-clone CI run saw
  // that: one held connection refused, 15 s of probes answered 200).
  std::vector<std::unique_ptr<RawConnection>> held;
  std::string refused;
  bool limited = wait_until(
      [&] {
        std::erase_if(held, [](const auto& c) { return c->answered(); });
        while (held.size() < 3) held.push_back(std::make_unique<RawConnection>(s.port()));
        RawConnection probe(s.port());
        probe.send("GET /api/v3.1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        refused = probe.read_all();
        return refused.rfind("HTTP/1.1 503", 0) == 0;
      },
      15s, 100ms);
  EXPECT_TRUE(limited) << refused;
  EXPECT_NE(refused.find("too many open connections (3, max_connections)"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  held.clear();
  EXPECT_TRUE(wait_until([&] { return s.status_code() == 200; }, 10s)) << "serving again once they closed";
}

TEST_F(RestServiceTest, ConcurrentUploadsOfOneIdEndWithFileAndRowInAgreement) {
  auto& s = start_standin();
  std::vector<std::thread> clients;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      auto o =
          s.put("contended", random_bytes(512 * 1024 + static_cast<std::size_t>(i), 100 + static_cast<unsigned>(i)));
      if (o.ok && o.response.status == 201) ++created;
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(created.load(), 8);
  auto on_disk = sha256_of_file(s.archive("contended"));
  auto size_on_disk = fs::file_size(s.archive("contended"));
  EXPECT_EQ(row("contended"), on_disk + " " + std::to_string(size_on_disk)) << "file and row disagree";
  EXPECT_EQ(folder_entries(s.folder("contended")), std::vector<std::string>{"archive"});
  auto got = s.call(http::Method::get, "/api/v3.1/blueprints/contended");
  EXPECT_EQ(body_json(got)["sha256"], on_disk);
}

TEST_F(RestServiceTest, DatabaseDownGives503LeavesNothingAndRecoversWithoutRestart) {
  auto& s = start_standin();
  const pid_t pid = s.pid();
  auto original = random_bytes(256 * 1024, 7);
  write_bytes(s.dir() + "/original", original);
  const auto original_sha = sha256_of_file(s.dir() + "/original");
  ASSERT_EQ(s.put("kept", original).response.status, 201);

  // The database goes away in the middle of a replacing upload: the previous
  // archive stays in place and the answer is 503.
  const std::size_t size = 4 * kMiB;
  auto replacement = random_bytes(size, 8);
  {
    RawConnection raw(s.port());
    ASSERT_TRUE(raw.send(put_header("kept", size) + replacement.substr(0, kMiB)));
    ASSERT_TRUE(wait_until([&] { return folder_entries(s.folder("kept")).size() == 2; }, 10s))
        << "the upload's temp file never appeared";
    pg().stop();
    ASSERT_TRUE(raw.send(replacement.substr(kMiB)));
    auto [status, doc] = raw.read_response();
    EXPECT_EQ(status, 503) << doc.dump();
    EXPECT_TRUE(contains(doc.value("error", ""), "database")) << doc.dump();
  }
  EXPECT_EQ(folder_entries(s.folder("kept")), std::vector<std::string>{"archive"});
  EXPECT_EQ(sha256_of_file(s.archive("kept")), original_sha) << "the previous archive was not put back";

  ASSERT_TRUE(wait_until([&] { return s.status_code() == 503; }, 10s));
  auto status = s.call(http::Method::get, "/api/v3.1/status");
  EXPECT_EQ(body_json(status)["db"], "unreachable") << status.response.body;
  EXPECT_TRUE(body_json(status).contains("error")) << status.response.body;

  // New uploads are refused before a byte is stored; reads say why too.
  auto refused = s.put("while-down", random_bytes(2 * kMiB, 9));
  ASSERT_TRUE(refused.ok) << refused.error;
  EXPECT_EQ(refused.response.status, 503) << refused.response.body;
  EXPECT_FALSE(fs::exists(s.folder("while-down")));
  EXPECT_EQ(s.call(http::Method::get, "/api/v3.1/blueprints/kept").response.status, 503);
  EXPECT_EQ(s.call(http::Method::del, "/api/v3.1/blueprints/kept").response.status, 503);
  EXPECT_TRUE(fs::exists(s.archive("kept"))) << "a refused DELETE removed the file";

  pg().start();
  EXPECT_TRUE(wait_until([&] { return s.status_code() == 200; }, 20s)) << s.log();
  EXPECT_EQ(s.pid(), pid);
  EXPECT_TRUE(s.running()) << "the stand-in was restarted or died";
  EXPECT_EQ(row("kept"), original_sha + " " + std::to_string(original.size()));
  EXPECT_EQ(row("while-down"), "");
  auto after = s.put("while-down", random_bytes(1000, 10));
  EXPECT_EQ(after.response.status, 201) << after.response.body;
  EXPECT_EQ(s.call(http::Method::get, "/api/v3.1/blueprints/kept").response.status, 200);
}

// After a failed connect, status checks answer with that failure for the
// reconnect pause instead of connecting again; a write does not. The upload
// gate releases the writes it held through a switchover the moment the new
// primary takes them: answered with a failure cached while both primaries
// were down, they were 503s for nothing (a lab_switchover run, 8 of 600).
TEST_F(RestServiceTest, AWriteConnectsWithinTheReconnectPauseWhereAStatusCheckAnswersWithItsFailure) {
  standin_ = std::make_unique<Standin>(pg().conninfo(),
                                       std::vector<std::string>{"--threads", "1", "--reconnect-pause-ms", "600000"});
  auto& s = *standin_;
  ASSERT_TRUE(s.wait_answering()) << s.log();
  ASSERT_TRUE(wait_until([&] { return s.status_code() == 200; }, 15s)) << s.log();
  pg().stop();
  // The kept connection is gone and connecting again fails: the pause starts.
  EXPECT_EQ(s.status_code(), 503);
  EXPECT_EQ(s.status_code(), 503);
  pg().start();
  EXPECT_EQ(s.status_code(), 503) << "within the pause a status check answers with the failure: " << s.log();
  auto put = s.put("written-within-the-pause", "hello");
  EXPECT_EQ(put.response.status, 201) << put.response.body << "\n" << s.log();
  write_bytes(s.dir() + "/sent", "hello");
  EXPECT_EQ(row("written-within-the-pause"), sha256_of_file(s.dir() + "/sent") + " 5");
  EXPECT_EQ(s.status_code(), 200) << "the write's connection serves the next check";
}

// A host that takes connections and never answers (a crashed node's address
// behaves so until its timeout) listed before the primary: no connection
// waits for it, neither the first nor those made again after the database
// restarted. The silent host's connect_timeout is 10 s and a request is given
// 5 s, so trying the hosts in turn cannot pass; the race takes milliseconds.
TEST_F(RestServiceTest, ASilentHostBeforeThePrimaryDelaysNoConnection) {
  testbed::SilentListener silent;
  const std::string conninfo = "host=127.0.0.1,127.0.0.1 port=" + std::to_string(silent.port()) + "," +
                               std::to_string(pg().port()) +
                               " dbname=manager user=manager connect_timeout=10 target_session_attrs=read-write";
  standin_ = std::make_unique<Standin>(conninfo, std::vector<std::string>{"--threads", "1"});
  ASSERT_TRUE(standin_->wait_answering()) << standin_->log();
  auto status = [&] { return standin_->call(http::Method::get, "/api/v3.1/status", {}, 5s); };
  auto first = status();
  ASSERT_TRUE(first.ok) << first.error << "\n" << standin_->log();
  EXPECT_EQ(first.response.status, 200) << first.response.body;
  pg().stop();
  pg().start();
  // The kept connection is gone: the next request connects again.
  auto again = status();
  ASSERT_TRUE(again.ok) << again.error << "\n" << standin_->log();
  EXPECT_EQ(again.response.status, 200) << again.response.body;
  EXPECT_GE(silent.take_connections(), 2)
      << "the silent host was not tried each time: the conninfo is not what this test means";
}

TEST_F(RestServiceTest, StartsWhileTheDatabaseIsDownAndCreatesItsTableLater) {
  ASSERT_TRUE(pg().query("CREATE DATABASE late OWNER manager", "postgres")) << pg().log();
  pg().stop();
  standin_ = std::make_unique<Standin>(pg().conninfo("late"));
  auto& s = *standin_;
  ASSERT_TRUE(s.wait_answering()) << "it must start without its database: " << s.log();
  auto status = s.call(http::Method::get, "/api/v3.1/status");
  EXPECT_EQ(status.response.status, 503) << status.response.body;
  EXPECT_EQ(body_json(status)["db"], "unreachable") << status.response.body;

  pg().start();
  ASSERT_TRUE(wait_until([&] { return s.status_code() == 200; }, 20s)) << s.log();
  EXPECT_EQ(pg().query("SELECT count(*) FROM standin_blueprints", "late"), "0");
  EXPECT_EQ(s.put("first", "hello").response.status, 201);
  EXPECT_EQ(pg().query("SELECT id FROM standin_blueprints", "late"), "first");
}

// `clients` reads of one blueprint at once, each on its own connection, so
// that they spread over the stand-in's request threads: how many were not 200.
int failed_reads_at_once(Standin& s, const std::string& id, int clients) {
  std::atomic<int> failed{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < clients; ++i) {
    readers.emplace_back([&] {
      auto o = s.call(http::Method::get, "/api/v3.1/blueprints/" + id);
      if (!o.ok || o.response.status != 200) ++failed;
    });
  }
  for (auto& r : readers) r.join();
  return failed.load();
}

// A password rotation as the supervisor makes it: --db-file rewritten for
// another role, the unit reloaded (SIGHUP), the old role then retired. Every
// connection moves to the new role at its next use, by itself (not only once
// the server ends the old session), and no request fails on the way.
TEST_F(RestServiceTest, ASighupSwitchesEveryConnectionToTheRewrittenDbFileWithoutAFailedRequest) {
  const std::string app = "standin-rotation";
  // Login roles acting as `manager` (ALTER ROLE ... SET role), so that the
  // tables are manager's whichever role created them: as with the real
  // rotation, which changes who logs in and not who owns what.
  ASSERT_TRUE(pg().query("DROP DATABASE IF EXISTS rotation WITH (FORCE)", "postgres")) << pg().log();
  for (const std::string role : {"rot_a", "rot_b", "rot_c"}) {
    ASSERT_TRUE(pg().query("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role + " LOGIN PASSWORD 'pw-" + role +
                               "'; GRANT manager TO " + role + "; ALTER ROLE " + role + " SET role = 'manager'",
                           "postgres"))
        << pg().log();
  }
  ASSERT_TRUE(pg().query("CREATE DATABASE rotation OWNER manager", "postgres")) << pg().log();
  auto conninfo_as = [&](const std::string& role) {
    return "host=127.0.0.1 port=" + std::to_string(pg().port()) + " dbname=rotation user=" + role +
           " password=pw-" + role + " connect_timeout=2 application_name=" + app;
  };
  const auto db_file = write_db_file(conninfo_as("rot_a"));
  standin_ = std::make_unique<Standin>(db_file, std::vector<std::string>{"--threads", "4"});
  auto& s = *standin_;
  ASSERT_TRUE(s.wait_answering()) << s.log();
  ASSERT_TRUE(wait_until([&] { return s.status_code() == 200; }, 15s)) << s.log();
  ASSERT_EQ(s.put("before", "bytes before the rotation").response.status, 201);
  EXPECT_EQ(pg().query("SELECT tableowner FROM pg_tables WHERE tablename = 'standin_blueprints'", "rotation"),
            "manager");
  // Every request thread holds a connection as rot_a: the rotation meets them all.
  auto all_sessions_as = [&](const std::string& expected, const std::string& id) {
    return wait_until([&] { return failed_reads_at_once(s, id, 8) == 0 && sessions_by_user(app) == expected; }, 15s);
  };
  ASSERT_TRUE(all_sessions_as("rot_a:4", "before")) << sessions_by_user(app);

  write_db_file(conninfo_as("rot_b"));
  s.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        return contains(s.log(), "database: connection string reloaded from " + db_file.path +
                                     " (generation 2): each connection switches to it at its next use");
      },
      10s))
      << s.log();
  // Retired at once, before any connection was used again: the idle ones are
  // cut under the stand-in, and rot_a can no longer log in.
  ASSERT_TRUE(pg().query("ALTER ROLE rot_a NOLOGIN PASSWORD NULL", "postgres"));
  ASSERT_TRUE(terminate_sessions("usename = 'rot_a'"));
  for (int i = 0; i < 6; ++i) {
    const auto id = "after-" + std::to_string(i);
    auto put = s.put(id, "bytes after the rotation " + std::to_string(i));
    EXPECT_EQ(put.response.status, 201) << id << ": " << put.response.body;
    auto got = s.call(http::Method::get, "/api/v3.1/blueprints/" + id);
    EXPECT_EQ(got.response.status, 200) << id << ": " << got.response.body;
  }
  EXPECT_EQ(failed_reads_at_once(s, "before", 8), 0);
  EXPECT_TRUE(all_sessions_as("rot_b:4", "after-0"))
      << "every thread connected again, as rot_b only: " << sessions_by_user(app);

  // Again, rot_b kept able to log in and its sessions left alone: the
  // connections leave it by themselves, and SIGHUP works more than once.
  write_db_file(conninfo_as("rot_c"));
  s.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return contains(s.log(), " (generation 3): "); }, 10s)) << s.log();
  EXPECT_TRUE(all_sessions_as("rot_c:4", "before"))
      << "connections left under the previous role: " << sessions_by_user(app);
  EXPECT_EQ(s.put("after-second", "bytes").response.status, 201);
  EXPECT_EQ(pg().query("SELECT count(*) FROM standin_blueprints", "rotation"), "8");
  EXPECT_FALSE(contains(s.log(), "pw-rot_")) << "a password was logged";
  EXPECT_TRUE(s.running());
}

// A SIGHUP while --db-file is broken (empty, not a conninfo, gone): said in the
// log without the content, and the conninfo in use is kept, even for the
// connections made again after the server ended the old ones.
TEST_F(RestServiceTest, ASighupWithABrokenDbFileKeepsTheConninfoInUse) {
  const std::string app = "standin-broken-reload";
  const auto db_file = write_db_file(pg().conninfo() + " application_name=" + app);
  standin_ = std::make_unique<Standin>(db_file);
  auto& s = *standin_;
  ASSERT_TRUE(s.wait_answering()) << s.log();
  ASSERT_TRUE(wait_until([&] { return s.status_code() == 200; }, 15s)) << s.log();
  ASSERT_EQ(s.put("kept-conninfo", "bytes").response.status, 201);
  const pid_t pid = s.pid();

  const std::string refused = "database: cannot reload the connection string (SIGHUP): '" + db_file.path + "' ";
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"", "is empty"},
      {"host=127.0.0.1 password=S3cret-rotated nonsense", "does not hold a connection string libpq can parse"},
      {"host=127.0.0.1 password=S3cret-rotated\nuser=x", "holds more than one line"}};
  for (const auto& [content, why] : broken) {
    write_bytes(db_file.path, content + "\n");
    s.signal(SIGHUP);
    EXPECT_TRUE(wait_until([&] { return contains(s.log(), refused + why + "; keeping the one in use"); }, 10s))
        << s.log();
  }
  fs::remove(db_file.path);
  s.signal(SIGHUP);
  EXPECT_TRUE(wait_until([&] { return contains(s.log(), refused + "is not a readable file"); }, 10s)) << s.log();
  EXPECT_FALSE(contains(s.log(), "S3cret")) << "the file's content was logged";
  EXPECT_FALSE(contains(s.log(), "reloaded from"));

  // Its sessions ended by the server: they come back with the kept conninfo.
  ASSERT_TRUE(terminate_sessions("application_name = '" + app + "'"));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s.put("kept-" + std::to_string(i), "bytes").response.status, 201);
    EXPECT_EQ(s.call(http::Method::get, "/api/v3.1/blueprints/kept-conninfo").response.status, 200);
  }
  EXPECT_TRUE(contains(sessions_by_user(app), "manager:")) << sessions_by_user(app);
  EXPECT_EQ(s.pid(), pid);
  EXPECT_TRUE(s.running());
}

TEST_F(RestServiceTest, ASighupWithTheConninfoOnTheCommandLineReloadsNothing) {
  auto& s = start_standin();
  s.signal(SIGHUP);
  EXPECT_TRUE(wait_until([&] { return contains(s.log(), "--db, not in a file: nothing to reload"); }, 10s)) << s.log();
  EXPECT_EQ(s.status_code(), 200);
  EXPECT_TRUE(s.running());
}

TEST(RestServiceInstall, InstallScriptWritesOptionsAndUnitThatSystemdAccepts) {
  const auto bin_dir = (build_dir() / "components/rest-service").string();
  if (access((bin_dir + "/rest-standin").c_str(), X_OK) != 0) GTEST_SKIP() << "rest-standin not built in " << bin_dir;
  const auto script = (source_dir() / "components/rest-service/install.sh").string();
  ASSERT_TRUE(fs::exists(script)) << script;
  const auto root = make_temp_dir("standin-install");
  // A password with characters that need quoting, to check the round trip.
  const std::string db =
      "host=127.0.0.1 port=5432 dbname=manager user=manager password='p\"$x`\\\\y' connect_timeout=2 "
      "target_session_attrs=read-write";
  const auto db_file = root + "/given-db";
  {
    std::ofstream out(db_file);
    out << db << "\n";
  }
  auto installed = run_command({"/bin/bash", script, "--root", root, "--bin-dir", bin_dir, "--db-file", db_file,
                                "--resources", "/opt/manager/resources", "--port", "8100", "--no-enable"});
  ASSERT_EQ(installed.status, 0) << installed.output;
  EXPECT_FALSE(contains(installed.output, "p\"$x")) << "the password is never printed";

  const auto binary = root + "/usr/local/bin/rest-standin";
  const auto options = root + "/etc/rest-standin/options";
  const auto unit = root + "/etc/systemd/system/rest-standin.service";
  EXPECT_EQ(access(binary.c_str(), X_OK), 0);
  EXPECT_TRUE(fs::is_directory(root + "/opt/manager/resources"));
  auto options_text = read_file(options);
  EXPECT_TRUE(contains(options_text, "PORT=\"8100\"")) << options_text;
  EXPECT_TRUE(contains(options_text, "RESOURCES=\"/opt/manager/resources\"")) << options_text;
  EXPECT_FALSE(contains(options_text, "password")) << "the options file holds no password: " << options_text;
  // The conninfo, whole, root only: the unit passes its path, never its content.
  const auto installed_db = root + "/etc/rest-standin/db";
  EXPECT_EQ(read_file(installed_db), db + "\n");
  EXPECT_EQ(fs::status(installed_db).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  auto unit_text = read_file(unit);
  EXPECT_TRUE(contains(unit_text, "Type=simple")) << unit_text;
  EXPECT_TRUE(contains(unit_text, "Restart=always")) << unit_text;
  EXPECT_TRUE(contains(unit_text, "EnvironmentFile=/etc/rest-standin/options")) << unit_text;
  EXPECT_TRUE(contains(unit_text, "\nExecReload=/bin/kill -HUP $MAINPID\n")) << "a reload re-reads the db file";
  EXPECT_TRUE(contains(unit_text,
                       "ExecStart=/usr/local/bin/rest-standin --listen ${LISTEN} --port ${PORT} "
                       "--resources ${RESOURCES} --max-body ${MAX_BODY} --db-file /etc/rest-standin/db\n"))
      << unit_text;

  // Read back as systemd does (each ${VAR} one argument): the installed binary
  // accepts the whole command line, the conninfo read from the file.
  auto checked = run_command({"/bin/sh", "-c",
                              ". \"$1\" && exec \"$2\" --check --listen \"$LISTEN\" --port \"$PORT\" --resources "
                              "\"$RESOURCES\" --max-body \"$MAX_BODY\" --db-file \"$3\"",
                              "sh", options, binary, installed_db});
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_EQ(checked.output, "ok\n");

  if (access("/usr/bin/systemd-analyze", X_OK) == 0) {
    auto verify = run_command({"/usr/bin/env", "SYSTEMD_UNIT_PATH=" + root + "/etc/systemd/system",
                               "/usr/bin/systemd-analyze", "verify", "--man=false", unit});
    std::istringstream lines(verify.output);
    for (std::string line; std::getline(lines, line);) {
      // The binary and the options file live under --root, not where the unit names them.
      if (line.empty() || contains(line, "not found") || contains(line, "No such file") ||
          contains(line, "executable path") || contains(line, "is not executable")) {
        continue;
      }
      ADD_FAILURE() << "systemd-analyze verify: " << line;
    }
  }

  // What the binary refuses is never written.
  const auto bad_root = make_temp_dir("standin-install-bad");
  auto bad = run_command({"/bin/bash", script, "--root", bad_root, "--bin-dir", bin_dir, "--db-file", db_file, "--port",
                          "70000", "--no-enable"});
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_TRUE(contains(bad.output, "--port")) << bad.output;
  EXPECT_FALSE(fs::exists(bad_root + "/etc/rest-standin/options"));
  EXPECT_FALSE(fs::exists(bad_root + "/etc/rest-standin/db"));
  remove_tree(bad_root);
  remove_tree(root);
}

// --db-file: the conninfo is read from the file; what is wrong with it is said
// without ever quoting it (it holds a password).
TEST(RestStandinOptions, TheConninfoFileIsReadAndNeverQuoted) {
  const auto bin_dir = (build_dir() / "components/rest-service").string();
  const auto binary = bin_dir + "/rest-standin";
  if (access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << "rest-standin not built in " << bin_dir;
  const auto dir = make_temp_dir("standin-dbfile");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  auto good = write("good", "host=127.0.0.1 dbname=manager user=manager password=S3cret-value\n");
  auto ok = run_command({binary, "--check", "--db-file", good});
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(ok.output, "ok\n");
  auto bad = write("bad", "host=127.0.0.1 password=S3cret-value nonsense\n");
  auto refused = run_command({binary, "--check", "--db-file", bad});
  EXPECT_NE(refused.status, 0);
  EXPECT_TRUE(contains(refused.output, "--db-file")) << refused.output;
  EXPECT_FALSE(contains(refused.output, "S3cret")) << "the content is never quoted: " << refused.output;
  auto missing = run_command({binary, "--check", "--db-file", dir + "/absent"});
  EXPECT_NE(missing.status, 0);
  EXPECT_TRUE(contains(missing.output, "not a readable file")) << missing.output;
  auto empty = run_command({binary, "--check", "--db-file", write("empty", "\n")});
  EXPECT_TRUE(contains(empty.output, "is empty")) << empty.output;
  auto both = run_command({binary, "--check", "--db-file", good, "--db", "host=x"});
  EXPECT_TRUE(contains(both.output, "give one, not both")) << both.output;
  auto none = run_command({binary, "--check"});
  EXPECT_TRUE(contains(none.output, "--db-file (or --db): required")) << none.output;
  remove_tree(dir);
}

TEST(RestStandinOptions, TheReconnectPauseIsANumberOfMillisecondsUpToTenMinutes) {
  const auto binary = (build_dir() / "components/rest-service/rest-standin").string();
  if (access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << "rest-standin not built at " << binary;
  auto ok = run_command({binary, "--check", "--db", "host=127.0.0.1", "--reconnect-pause-ms", "0"});
  EXPECT_EQ(ok.status, 0) << ok.output;
  for (const char* bad : {"600001", "300ms", "-1", ""}) {
    auto refused = run_command({binary, "--check", "--db", "host=127.0.0.1", "--reconnect-pause-ms", bad});
    EXPECT_NE(refused.status, 0) << bad;
    EXPECT_TRUE(contains(refused.output, "--reconnect-pause-ms: '" + std::string(bad) + "' is not between 0 and 600000"))
        << refused.output;
  }
}

}  // namespace
}  // namespace hasup::testbed
