// nginx templating through Consul, end to end with real parts: Consul 1.8.7,
// systemd 252 as PID 1 of a namespace (sharing this host's loopback), the
// ha-nginx unit and the template from the repository, nginx 1.22 and the
// supervisor, which watches Consul, renders, validates with `nginx -t` and
// reloads over D-Bus. REST instances are HTTP backends on loopback whose
// Consul checks the test passes and fails (tests/testbed/nginx_stack.hpp).
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "tests/testbed/http_backend.hpp"
#include "tests/testbed/nginx_stack.hpp"
#include "tests/testbed/process.hpp"
#include "tests/testbed/request_stream.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

class NginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NginxStack::unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    b1 = std::make_unique<HttpBackend>("b1");
    b2 = std::make_unique<HttpBackend>("b2");
    stack = std::make_unique<NginxStack>("nginx-it");
    stack->start_consul();
    // Registered before the supervisor starts: its first config has both.
    stack->register_instance("b1", "127.0.0.1", b1->port());
    stack->register_instance("b2", "127.0.0.1", b2->port());
    stack->start();
  }
  void TearDown() override {
    if (HasFailure() && stack) std::cerr << stack->logs() << "\n";
  }

  // Which backends answer through nginx over `window`.
  std::map<std::string, std::uint64_t> backends_seen(RequestStream& stream, std::chrono::milliseconds window) {
    stream.reset_backends();
    std::this_thread::sleep_for(window);
    return stream.reset_backends().by_backend;
  }

  // True when every GET of `target` through nginx for `window` answers
  // `status`; `last` is the newest answer.
  bool every_answer_for(std::chrono::milliseconds window, const std::string& target, int status, http::Outcome& last) {
    auto end = std::chrono::steady_clock::now() + window;
    do {
      last = stack->get(target);
      if (last.response.status != status) return false;
    } while (std::chrono::steady_clock::now() < end);
    return true;
  }

  std::unique_ptr<HttpBackend> b1, b2;
  std::unique_ptr<NginxStack> stack;
};

TEST_F(NginxTest, AFailedInstanceStopsGettingTrafficWithNoFailedRequestAcrossTheReload) {
  RequestStream stream(stack->nginx_port(), "/api/v3.1/blueprints");
  ASSERT_TRUE(eventually([&] { return backends_seen(stream, 200ms).size() == 2; }, 10s)) << "both backends in turn";
  auto reloads = stack->reloads();

  stack->set_passing("b2", false);
  // Reloaded: nginx has the signal. Its master lets the old worker accept for
  // another 100 ms (longer on a busy machine) before telling it to quit, so
  // the failed instance may still answer briefly; then never again.
  ASSERT_TRUE(eventually([&] { return stack->reloads() > reloads; }, 5s));
  ASSERT_TRUE(eventually([&] { return backends_seen(stream, 300ms).count("b2") == 0; }, 5s))
      << "nginx still routes to the failed instance 5 s after the reload";
  auto seen = backends_seen(stream, 500ms);
  EXPECT_EQ(seen.count("b2"), 0u) << "nginx still routes to the failed instance";
  EXPECT_GT(seen["b1"], 0u);
  // And back: the instance passes again and gets traffic again.
  std::this_thread::sleep_for(1100ms);  // past the reload interval
  stack->set_passing("b2", true);
  EXPECT_TRUE(eventually([&] { return backends_seen(stream, 200ms).count("b2") == 1; }, 5s));

  auto tally = stream.snapshot();
  stream.stop();
  EXPECT_GT(tally.total, 100u);
  EXPECT_EQ(tally.failures, 0u) << "failed requests across two reloads, last: "
                                << (tally.last_failures.empty() ? "" : tally.last_failures.back());
  EXPECT_GE(stack->reloads(), 2u);
}

TEST_F(NginxTest, NoInstanceToRouteToAnswers503WithAClearErrorAndRecovers) {
  stack->deregister_instance("b1");
  stack->deregister_instance("b2");
  // After a reload nginx lets the old worker take connections for 100 ms or
  // more: the new config counts once every answer for 300 ms is the new one.
  http::Outcome o;
  ASSERT_TRUE(eventually([&] { return every_answer_for(300ms, "/api/v3.1/status", 503, o); }, 5s));
  EXPECT_TRUE(contains(o.response.body, "no healthy REST service registered in Consul"));
  EXPECT_TRUE(contains(o.response.header("content-type"), "application/json"));
  std::this_thread::sleep_for(1100ms);
  stack->register_instance("b1", "127.0.0.1", b1->port());
  EXPECT_TRUE(eventually([&] { return stack->get("/api/x").response.header("x-backend") == "b1"; }, 5s));
}

// A request traced to its node from the access log alone: which instance
// answered, with what, and how long nginx and the instance took.
TEST_F(NginxTest, TheAccessLogNamesTheInstanceThatAnsweredAndTheTimes) {
  auto o = stack->get("/api/v3.1/blueprints/traced");
  ASSERT_EQ(o.response.status, 200) << o.error;
  const std::string backend = o.response.header("x-backend");
  const int port = backend == "b1" ? b1->port() : b2->port();
  std::string line;
  ASSERT_TRUE(eventually(
      [&] {
        std::istringstream log(stack->access_log());
        for (std::string l; std::getline(log, l);)
          if (l.find("/api/v3.1/blueprints/traced") != std::string::npos) line = l;
        return !line.empty();
      },
      5s))
      << stack->access_log();
  EXPECT_TRUE(contains(line, "upstream=127.0.0.1:" + std::to_string(port) + " upstream_status=200 request_time="));
  EXPECT_TRUE(contains(line, " upstream_time="));
}

// Every instance failing its checks at once, on live nodes (the database
// failing over fails every REST service's check): nginx keeps routing to them,
// with no reload, and they answer for themselves.
TEST_F(NginxTest, EveryInstanceFailingItsChecksOnLiveNodesStillGetsTheRequestsWithNoReload) {
  const auto generation = stack->generation();
  stack->set_passing("b1", false);
  stack->set_passing("b2", false);
  ASSERT_TRUE(eventually(
      [&] { return contains(stack->supervisor().log(), "no instance of rest-service passes its checks"); }, 5s))
      << stack->logs();
  std::this_thread::sleep_for(1200ms);  // past the debounce and the reload interval
  EXPECT_EQ(stack->generation(), generation) << "a reload for the same servers";
  for (int i = 0; i < 10; ++i) {
    auto o = stack->get("/api/x");
    ASSERT_TRUE(o.ok) << o.error;
    EXPECT_NE(o.response.header("x-backend"), "") << o.response.status << " " << o.response.body;
  }
}

TEST_F(NginxTest, AMaliciousRegistrationIsRefusedAndNeverReachesNginx) {
  auto generation = stack->generation();
  stack->register_instance("evil", "1.2.3.4; include /etc/shadow", 80);
  ASSERT_TRUE(eventually(
      [&] {
        auto s = stack->nginx_status();
        return s && !(*s)["rejected_instances"].empty();
      },
      5s));
  auto status = stack->nginx_status();
  EXPECT_TRUE(contains((*status)["rejected_instances"][0].get<std::string>(), "evil"));
  EXPECT_TRUE(contains(stack->supervisor().log(), "refused an instance of rest-service from Consul"));
  // Nothing changed for nginx: same generation, same file, no trace of the value.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(stack->generation(), generation);
  EXPECT_FALSE(contains(read_file(stack->conf_path()), "shadow"));
  EXPECT_FALSE(contains(read_file(stack->conf_path()), "1.2.3.4"));
  EXPECT_EQ(stack->get("/api/x").response.status, 200);
}

TEST_F(NginxTest, ATemplateThatRendersInvalidConfigKeepsTheOldConfigServing) {
  auto generation = stack->generation();
  std::string good = read_file(stack->conf_path());
  // Valid mustache, invalid nginx: `nginx -t` must catch it before nginx does.
  std::string broken = read_file(stack->template_path());
  broken.replace(broken.find("events {"), 8, "no_such_directive on;\nevents {");
  write_file(stack->template_path(), broken);
  stack->supervisor().signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] {
        auto s = stack->nginx_status();
        return s && !(*s)["refused_config"].get<std::string>().empty();
      },
      5s));
  auto status = stack->nginx_status();
  EXPECT_TRUE(contains((*status)["refused_config"].get<std::string>(), "no_such_directive"));
  EXPECT_EQ(stack->generation(), generation);
  EXPECT_EQ(read_file(stack->conf_path()), good);
  EXPECT_EQ(stack->get("/api/x").response.status, 200);
  // A health change is rendered with the same broken template: still refused, still serving.
  stack->set_passing("b2", false);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(stack->generation(), generation);
  EXPECT_EQ(stack->get("/api/x").response.status, 200);
  // Fixed template: the pending change goes out.
  write_file(stack->template_path(), read_file(HA_SOURCE_DIR "/templates/nginx.conf.mustache"));
  stack->supervisor().signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return stack->generation() > generation; }, 5s));
  EXPECT_TRUE(eventually(
      [&] {
        for (int i = 0; i < 10; ++i)
          if (stack->get("/api/x").response.header("x-backend") != "b1") return false;
        return true;
      },
      3s));
}

TEST_F(NginxTest, AFlapStormCausesABoundedNumberOfReloads) {
  auto reloads_before = stack->reloads();
  // 50 flaps in 5 s: b2 fails and recovers every 100 ms, ending passing.
  for (int flap = 0; flap < 50; ++flap) {
    stack->set_passing("b2", flap % 2 == 1);
    std::this_thread::sleep_for(100ms);
  }
  // Settled: both instances get traffic again.
  ASSERT_TRUE(eventually(
      [&] {
        auto s = stack->nginx_status();
        return s && (*s)["upstreams"]["rest-service"]["passing"].size() == 2 && stack->get("/nginx-health").ok;
      },
      5s));
  std::this_thread::sleep_for(1500ms);
  auto reloads = stack->reloads() - reloads_before;
  std::cout << "reloads during a 50-flap storm of 5 s: " << reloads << " (reload interval 1000 ms)\n";
  // One per reload interval during the storm, plus the one after it.
  EXPECT_LE(reloads, 7u);
  EXPECT_GE(reloads, 1u);
  RequestStream stream(stack->nginx_port(), "/api/x");
  EXPECT_TRUE(eventually([&] { return backends_seen(stream, 200ms).size() == 2; }, 5s));
}

// /resources/ serves the uploaded files, and nothing a symbolic link below the
// folder points at (a link a local user made, or one replication brought).
TEST_F(NginxTest, ResourcesAreServedButNoSymbolicLinkIsFollowedOutOfTheFolder) {
  namespace fs = std::filesystem;
  const std::string resources = stack->resources_dir();
  const std::string outside = resources + "-outside";
  fs::create_directories(resources + "/blueprints/bp");
  fs::create_directories(outside);
  write_file(resources + "/blueprints/bp/archive", "uploaded bytes");
  write_file(outside + "/secret", "not for the network");
  fs::create_symlink(outside + "/secret", resources + "/blueprints/bp/leak");
  fs::create_directory_symlink(outside, resources + "/blueprints/linked");
  auto served = stack->get("/resources/blueprints/bp/archive");
  EXPECT_EQ(served.response.status, 200) << served.response.body;
  EXPECT_EQ(served.response.body, "uploaded bytes");
  for (const char* target : {"/resources/blueprints/bp/leak", "/resources/blueprints/linked/secret"}) {
    auto refused = stack->get(target);
    // 403 for a link (ELOOP), 404 for a path through one (ENOTDIR): never the file.
    EXPECT_TRUE(refused.response.status == 403 || refused.response.status == 404)
        << target << ": " << refused.response.status << " " << refused.response.body;
    EXPECT_FALSE(contains(refused.response.body, "not for the network")) << target;
  }
  fs::remove_all(outside);
}

// Two uploads in progress from 127.0.0.1 are all nginx relays for it
// (nginx.max_requests_per_client = 2): the third request gets nginx's own 503,
// which says why and when to come back; once they end, it is served again.
TEST(NginxLimitsTest, OneAddressGetsAtMostItsShareOfRequestsInProgress) {
  if (auto why = NginxStack::unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  HttpBackend backend("b1");
  NginxStack stack("nginx-limits", NginxStackOptions{.max_requests_per_client = 2});
  stack.start_consul();
  stack.register_instance("b1", "127.0.0.1", backend.port());
  stack.start();
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> uploads;
  for (int i = 0; i < 2; ++i) {
    uploads.push_back(std::make_unique<boost::asio::ip::tcp::socket>(io));
    uploads.back()->connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(stack.nginx_port())});
    boost::asio::write(*uploads.back(), boost::asio::buffer(std::string(
        "PUT /api/v3.1/blueprints/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nsome")));
  }
  http::Outcome refused;
  bool limited = eventually([&] {
    refused = stack.get("/api/v3.1/blueprints");
    return refused.ok && refused.response.status == 503;
  }, 10s);
  EXPECT_TRUE(limited) << refused.error << " " << refused.response.status << " " << refused.response.body;
  EXPECT_TRUE(contains(refused.response.body, "too many requests in progress from this address"));
  EXPECT_EQ(refused.response.header("retry-after"), "1");
  uploads.clear();
  http::Outcome served;
  EXPECT_TRUE(eventually([&] {
    served = stack.get("/api/v3.1/blueprints");
    return served.ok && served.response.status == 200;
  }, 10s)) << served.response.body;
}

// The supervisor wrote nginx.conf and died before the reload: the file is
// what it renders, nginx runs the config before it. Made by hand here: nginx
// is reloaded on a config without b2, then the file the supervisor renders
// (both instances, as generation 2 in its own header) is written back as if
// by a supervisor that was killed right after. The restarted supervisor finds
// the file as it would render it; only the file's mtime, newer than the
// unit's StateChangeTimestamp, says that nginx never read it.
TEST_F(NginxTest, ASupervisorKilledBetweenWriteAndReloadIsCaughtUpByTheNextOne) {
  RequestStream stream(stack->nginx_port(), "/api/x");
  ASSERT_TRUE(eventually([&] { return backends_seen(stream, 200ms).size() == 2; }, 10s)) << "both backends in turn";
  stack->supervisor().kill();

  const std::string rendered = read_file(stack->conf_path());
  const std::string b2_endpoint = "127.0.0.1:" + std::to_string(b2->port());
  std::string older;
  std::stringstream lines(rendered);
  for (std::string line; std::getline(lines, line);)
    if (line.find(b2_endpoint) == std::string::npos) older += line + "\n";
  ASSERT_NE(older, rendered);
  write_file(stack->conf_path(), older);
  std::string out;
  ASSERT_EQ(stack->node().busctl({"call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "ReloadUnit", "ss", "ha-nginx.service", "replace"},
                                 &out),
            0)
      << out;
  ASSERT_TRUE(eventually([&] { return backends_seen(stream, 300ms).count("b2") == 0; }, 5s))
      << "nginx did not take the older config";

  std::string newer = rendered;
  const std::string first_generation = "nginx config: generation 1,";
  ASSERT_NE(newer.find(first_generation), std::string::npos) << newer.substr(0, 200);
  newer.replace(newer.find(first_generation), first_generation.size(), "nginx config: generation 2,");
  write_file(stack->conf_path(), newer);
  EXPECT_EQ(backends_seen(stream, 300ms).count("b2"), 0u) << "the file alone changes nothing for nginx";

  stack->supervisor().start();
  EXPECT_TRUE(eventually([&] { return backends_seen(stream, 200ms).count("b2") == 1; }, 10s))
      << "nginx still runs the older config\n" << stack->logs();
  EXPECT_TRUE(contains(stack->supervisor().log(),
                       "nginx: the file was written after nginx last (re)loaded (the supervisor stopped between write "
                       "and reload?): reloading"));
  auto status = stack->nginx_status();
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["older_file_reloads"], 1) << status->dump();
  EXPECT_EQ((*status)["generation"], 2) << "the file's generation, not a new one";
  EXPECT_EQ(read_file(stack->conf_path()).substr(0, 200), newer.substr(0, 200));
  // Caught up once: nginx's state change is now newer than the file.
  const auto reloads = stack->reloads();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(stack->reloads(), reloads);
  auto tally = stream.snapshot();
  stream.stop();
  EXPECT_EQ(tally.failures, 0u) << (tally.last_failures.empty() ? "" : tally.last_failures.back());
}

TEST_F(NginxTest, NginxStoppedBehindTheSupervisorsBackIsStartedAgain) {
  std::string out;
  ASSERT_EQ(stack->node().busctl({"call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "StopUnit", "ss", "ha-nginx.service", "replace"},
                                 &out),
            0)
      << out;
  // StopUnit returns once the job is queued: the old nginx may still answer for a
  // moment, so the restart is awaited in the log first, then the answer checked.
  EXPECT_TRUE(eventually([&] { return contains(stack->supervisor().log(), "nginx: ha-nginx.service started"); }, 10s))
      << stack->supervisor().log();
  EXPECT_TRUE(eventually([&] { return stack->get("/nginx-health").response.status == 200; }, 10s));
}

}  // namespace
}  // namespace hasup::testbed
