// nginx.conf rendered from the real template in templates/, and, when nginx is
// installed, checked by nginx -t itself.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "components/nginx/render.hpp"

namespace hasup::nginx {
namespace {

std::string real_template() {
  std::ifstream in(std::string(HA_SOURCE_DIR) + "/templates/nginx.conf.mustache");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

NginxModel model(int servers) {
  NginxModel m;
  m.node_name = "n1";
  m.listen_port = 80;
  m.user = "www-data";
  m.runtime_dir = "/run/ha-nginx";
  m.log_dir = "/var/log/ha-nginx";
  m.resources_dir = "/opt/manager/resources";
  ServiceSet rest{"rest-service", "rest_service", {}};
  if (servers > 0) rest.servers.push_back({"198.18.0.11", 8100, "n1", "rest-n1"});
  if (servers > 1) rest.servers.push_back({"fd00::12", 8100, "n2", "rest-n2"});
  m.services = {rest};
  return m;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(NginxRender, TwoServersMakeAnUpstream) {
  auto r = render(real_template(), model(2));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(contains(r.text, "user www-data;\n"));
  EXPECT_TRUE(contains(r.text, "pid /run/ha-nginx/nginx.pid;"));
  EXPECT_TRUE(contains(r.text, "upstream rest_service {"));
  EXPECT_TRUE(contains(r.text, "server 198.18.0.11:8100 max_fails=1 fail_timeout=2s;"));
  EXPECT_TRUE(contains(r.text, "server [fd00::12]:8100 max_fails=1 fail_timeout=2s;"));
  EXPECT_TRUE(contains(r.text, "proxy_pass http://rest_service;"));
  // Shorter than the gate's idle close (10 s): nginx gives an idle connection up first.
  EXPECT_TRUE(contains(r.text, "keepalive_timeout 5s;"));
  EXPECT_TRUE(contains(r.text, "listen 80;"));
  EXPECT_TRUE(contains(r.text, "alias /opt/manager/resources/;"));
  EXPECT_TRUE(contains(r.text, "disable_symlinks on from=/opt/manager/resources;")) << "no link followed out";
  EXPECT_FALSE(contains(r.text, "no healthy REST service"));
}

TEST(NginxRender, RequestLimitsComeFromTheModel) {
  auto m = model(2);
  m.limits = {7, 70, 777};
  auto r = render(real_template(), m);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(contains(r.text, "limit_conn api_per_client 7;")) << r.text;
  EXPECT_TRUE(contains(r.text, "limit_conn api_total 70;"));
  EXPECT_TRUE(contains(r.text, "proxy_read_timeout 777s;"));
  // nginx's own 503 says why and when to come back.
  EXPECT_TRUE(contains(r.text, "error_page 503 = @too_many_requests;"));
  EXPECT_TRUE(contains(r.text, "add_header Retry-After 1 always;"));
}

TEST(NginxRender, TheLocalInstanceServesAndThePeersAreBackups) {
  auto m = model(2);
  m.local_node = "n1";
  auto r = render(real_template(), m);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(contains(r.text, "server 198.18.0.11:8100 max_fails=1 fail_timeout=2s;"));
  EXPECT_TRUE(contains(r.text, "server [fd00::12]:8100 max_fails=1 fail_timeout=2s backup;"));
  // This node's own instance not passing: every peer serves, none is a backup
  // (nginx needs a server that is not one).
  m.local_node = "n3";
  r = render(real_template(), m);
  EXPECT_TRUE(contains(r.text, "server 198.18.0.11:8100 max_fails=1 fail_timeout=2s;"));
  EXPECT_TRUE(contains(r.text, "server [fd00::12]:8100 max_fails=1 fail_timeout=2s;"));
  EXPECT_FALSE(contains(r.text, " backup;"));
}

TEST(NginxRender, ListenAddressIsOptionalAndBracketedForIpv6) {
  auto m = model(1);
  m.listen_address = "127.0.0.1";
  EXPECT_TRUE(contains(render(real_template(), m).text, "listen 127.0.0.1:80;"));
  m.listen_address = "::1";
  EXPECT_TRUE(contains(render(real_template(), m).text, "listen [::1]:80;"));
  m.listen_address = "1.2.3.4; include /etc/shadow";
  auto refused = render(real_template(), m);
  EXPECT_TRUE(refused.text.empty());
  EXPECT_TRUE(contains(refused.error, "listen address")) << refused.error;
}

TEST(NginxRender, NoServersAnswer503AndHaveNoUpstream) {
  auto r = render(real_template(), model(0));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(std::regex_search(r.text, std::regex(R"(\n\s*upstream\s)"))) << "nginx refuses an empty upstream";
  EXPECT_FALSE(contains(r.text, "proxy_pass"));
  EXPECT_TRUE(contains(r.text, R"(return 503 '{"error": "no healthy REST service registered in Consul", "node": "n1"}\n';)"));
  EXPECT_TRUE(contains(r.text, "default_type application/json;"));
}

TEST(NginxRender, NoUserNoUserDirective) {
  auto m = model(1);
  m.user.clear();
  auto r = render(real_template(), m);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(contains(r.text, "\nuser "));
}

TEST(NginxRender, ServicesAreListedAndSetUnderTheirKey) {
  auto r = render("{{#services}}{{name}}={{key}}:{{#has_servers}}yes{{/has_servers}}{{#no_servers}}no{{/no_servers}}|"
                  "{{/services}}{{#rest_service.servers}}{{endpoint}} {{node}} {{service_id}} {{port}},{{/rest_service.servers}}",
                  model(2));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.text, "rest-service=rest_service:yes|198.18.0.11:8100 n1 rest-n1 8100,[fd00::12]:8100 n2 rest-n2 8100,");
}

TEST(NginxRender, SameModelSameText) {
  EXPECT_EQ(render(real_template(), model(2)).text, render(real_template(), model(2)).text);
}

TEST(NginxRender, RefusesUnsafeValues) {
  auto m = model(2);
  m.services[0].servers[1].address = "1.2.3.4; include /etc/shadow";
  auto r = render(real_template(), m);
  EXPECT_TRUE(r.text.empty());
  EXPECT_TRUE(contains(r.error, "refusing to render server address")) << r.error;
  for (auto change : {+[](NginxModel& x) { x.node_name = "n1\"; return 200"; },
                      +[](NginxModel& x) { x.resources_dir = "/opt/r; autoindex on"; },
                      +[](NginxModel& x) { x.user = "root\n"; }, +[](NginxModel& x) { x.log_dir = "/var/log/$x"; },
                      +[](NginxModel& x) { x.services[0].servers[0].node = "n1}"; },
                      +[](NginxModel& x) { x.services[0].servers[0].port = 0; },
                      +[](NginxModel& x) { x.services[0].key = "rest.service"; },
                      +[](NginxModel& x) { x.services[0].key = "node_name"; }, +[](NginxModel& x) { x.listen_port = 70000; }}) {
    m = model(2);
    change(m);
    r = render(real_template(), m);
    EXPECT_TRUE(r.text.empty());
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  }
}

TEST(NginxRender, TemplateErrorsAreReportedNotRendered) {
  auto r = render("{{#rest_service.servers}} unclosed", model(1));
  EXPECT_TRUE(r.text.empty());
  EXPECT_TRUE(contains(r.error, "template"));
}

// nginx itself accepts the rendered file, with and without upstream servers.
class NginxAccepts : public testing::TestWithParam<int> {};

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_P(NginxAccepts, TheRenderedConfig) {
  if (access("/usr/sbin/nginx", X_OK) != 0) GTEST_SKIP() << "/usr/sbin/nginx not installed (apt-get install nginx)";
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/nginx-render-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path dir = pattern;
  auto m = model(GetParam());
  m.user.clear();  // as root nginx -t would want www-data to exist; not this test's point
  m.local_node = "n1";  // with 2 servers, n2's renders as a backup
  m.runtime_dir = (dir / "run").string();
  m.log_dir = (dir / "log").string();
  m.resources_dir = (dir / "resources").string();
  m.listen_port = free_port();
  for (const auto* d : {&m.runtime_dir, &m.log_dir, &m.resources_dir}) fs::create_directories(*d);
  auto r = render(real_template(), m);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const fs::path conf = dir / "nginx.conf";
  std::ofstream(conf) << r.text;
  const std::string command = "/usr/sbin/nginx -t -q -p " + dir.string() + " -e " + (dir / "error.log").string() +
                              " -c " + conf.string() + " 2>" + (dir / "stderr").string();
  const int status = std::system(command.c_str());
  std::ifstream err(dir / "stderr");
  std::stringstream why;
  why << err.rdbuf();
  EXPECT_EQ(status, 0) << why.str() << "\n" << r.text;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(NginxRender, NginxAccepts, testing::Values(0, 2));

}  // namespace
}  // namespace hasup::nginx

namespace hasup::nginx {
namespace {

TEST(NginxRenderStatusPage, PublishedOnlyWithAUsersFileBehindBasicAuthGetOnly) {
  auto off = render(real_template(), model(1));
  ASSERT_TRUE(off.error.empty()) << off.error;
  EXPECT_FALSE(contains(off.text, "ha-status")) << "not published by default";

  NginxModel m = model(1);
  m.status_page_users_file = "/etc/ha-supervisor/status-page.htpasswd";
  m.status_page_api_host = "127.0.0.1";
  m.status_page_api_port = 8801;
  auto on = render(real_template(), m);
  ASSERT_TRUE(on.error.empty()) << on.error;
  EXPECT_TRUE(contains(on.text, "location ~ ^/ha-status/(ui|cluster|events|incidents)$ {\n"
                                "            auth_basic \"ha-supervisor status\";\n"
                                "            auth_basic_user_file /etc/ha-supervisor/status-page.htpasswd;\n"
                                "            limit_except GET { deny all; }\n"
                                "            proxy_pass http://127.0.0.1:8801/$1$is_args$args;\n"))
      << on.text;

  m.status_page_api_host = "::1";
  auto v6 = render(real_template(), m);
  ASSERT_TRUE(v6.error.empty()) << v6.error;
  EXPECT_TRUE(contains(v6.text, "proxy_pass http://[::1]:8801/$1$is_args$args;"));

  m.status_page_users_file = "/etc/x; include /etc/shadow";
  EXPECT_NE(render(real_template(), m).error.find("refusing to render status page users file"), std::string::npos);
}

}  // namespace
}  // namespace hasup::nginx
