// SystemdNode's network modes with a real service in the node: with
// NodeNetwork::host a server the node's systemd starts on 127.0.0.1 answers
// the test process; with the default (own network) the same server is alone
// in the node's namespace and the host cannot reach it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "supervisor/http/client.hpp"
#include "tests/testbed/process.hpp"
#include "tests/testbed/systemd_node.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

// A web server unit on 127.0.0.1:port, serving an empty directory of the node.
void add_web_unit(SystemdNode& node, unsigned short port) {
  std::filesystem::create_directories(node.dir() + "/www");
  write_file(node.dir() + "/www/index.html", "hello\n");
  node.add_unit("web.service", "[Service]\nWorkingDirectory=" + node.dir() +
                                   "/www\nExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 " +
                                   std::to_string(port) + "\n");
}

// StartUnit over the node's bus, no systemctl: the job is queued, not awaited.
void start_unit(SystemdNode& node, const std::string& unit) {
  std::string out;
  ASSERT_EQ(node.busctl({"call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                         "org.freedesktop.systemd1.Manager", "StartUnit", "ss", unit, "replace"},
                        &out),
            0)
      << out;
}

std::string active_state(SystemdNode& node, const std::string& unit) {
  std::string out;
  node.exec({"/bin/systemctl", "is-active", unit}, &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

http::Outcome get(unsigned short port) {
  http::Request request;
  request.target = "/index.html";
  return http::request_sync({"127.0.0.1", port}, request, http::Policy{});
}

class SystemdNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto why = SystemdNode::unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << "no systemd node here: " << why;
  }
};

TEST_F(SystemdNodeTest, HostNetworkServiceAnswersTheTestProcess) {
  SystemdNode node("sdnode", NodeNetwork::host);
  EXPECT_EQ(node.network(), NodeNetwork::host);
  const unsigned short port = free_port();
  add_web_unit(node, port);
  node.boot();
  start_unit(node, "web.service");

  http::Outcome last;
  bool answered = wait_until(
      [&] {
        last = get(port);
        return last.ok;
      },
      15s, 100ms);
  ASSERT_TRUE(answered) << last.error << "\nunit: " << active_state(node, "web.service") << "\nnode log:\n"
                        << node.log();
  EXPECT_EQ(last.response.status, 200);
  EXPECT_EQ(last.response.body, "hello\n");

  // The node's PID 1 went, and its server with it: the port is closed again.
  node.shutdown();
  EXPECT_FALSE(get(port).ok);
}

TEST_F(SystemdNodeTest, OwnNetworkIsIsolatedFromTheHost) {
  SystemdNode node;  // the default
  EXPECT_EQ(node.network(), NodeNetwork::own);
  const unsigned short port = free_port();
  add_web_unit(node, port);
  node.boot();
  start_unit(node, "web.service");

  // The server runs and answers inside the node (its systemd brought up the
  // node's own lo)...
  std::string out;
  const std::string probe = "import urllib.request,sys; "
                            "sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:" +
                            std::to_string(port) + "/index.html', timeout=2).status == 200 else 1)";
  bool inside = wait_until([&] { return node.exec({"/usr/bin/python3", "-c", probe}, &out) == 0; }, 15s, 100ms);
  ASSERT_TRUE(inside) << out << "\nunit: " << active_state(node, "web.service") << "\nnode log:\n" << node.log();

  // ...and the same address and port on the host has nothing behind it.
  http::Outcome outside = get(port);
  EXPECT_FALSE(outside.ok) << "host reached the node's server: status " << outside.response.status;
}

}  // namespace
}  // namespace hasup::testbed
