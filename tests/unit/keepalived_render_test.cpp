// keepalived.conf rendered from the real template in templates/.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "components/keepalived/render.hpp"

namespace hasup::keepalived {
namespace {

std::string real_template() {
  std::ifstream in(std::string(HA_SOURCE_DIR) + "/templates/keepalived.conf.mustache");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

VrrpModel model() {
  VrrpModel m;
  m.node_name = "n1";
  m.interface = "eth0";
  m.virtual_router_id = 51;
  m.priority = 150;
  m.advert_interval_ms = 100;
  m.self_address = "198.18.0.11";
  m.peers = {"198.18.0.12", "198.18.0.13"};
  m.vip = "198.18.0.100/24";
  m.track_file = "/run/ha-supervisor/vip-fault";
  m.notify_fifo = "/run/ha-supervisor/vrrp-notify.fifo";
  return m;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(KeepalivedRender, RendersVrrpv3UnicastWithTheTrackFile) {
  auto r = render(real_template(), model());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(contains(r.text, "vrrp_version 3"));
  EXPECT_TRUE(contains(r.text, "advert_int 0.1\n"));
  EXPECT_TRUE(contains(r.text, "virtual_router_id 51\n"));
  EXPECT_TRUE(contains(r.text, "priority 150\n"));
  EXPECT_TRUE(contains(r.text, "unicast_src_ip 198.18.0.11\n"));
  EXPECT_TRUE(contains(r.text, "    198.18.0.12\n    198.18.0.13\n"));
  EXPECT_TRUE(contains(r.text, "198.18.0.100/24 dev eth0")) << "no HTML escaping in a config file";
  EXPECT_TRUE(contains(r.text, "file \"/run/ha-supervisor/vip-fault\""));
  EXPECT_TRUE(contains(r.text, "vrrp_notify_fifo /run/ha-supervisor/vrrp-notify.fifo root root\n"));
  EXPECT_TRUE(contains(r.text, "fifo_write_vrrp_states_on_reload\n"));
  EXPECT_TRUE(contains(r.text, "weight 0"));
}

// VRRPv3 has no authentication: without the source check a forged advert
// from any host on the link makes the holder step down (tests/lab: c1's).
TEST(KeepalivedRender, OnlyTheRegisteredPeersAdvertsAreHeard) {
  auto r = render(real_template(), model());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(std::regex_search(r.text, std::regex(R"(vrrp_instance [^{]*\{[^}]*\n  check_unicast_src\n  unicast_peer \{)")))
      << r.text;
}

TEST(KeepalivedVrrpFilter, ReplacesItsTableWholeAndDropsVrrpFromAnyoneButThePeers) {
  auto r = render_vrrp_filter(model());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(contains(r.text, "table ip ha_supervisor_vrrp\ndelete table ip ha_supervisor_vrrp\n"
                               "table ip ha_supervisor_vrrp {\n")) << r.text;
  EXPECT_TRUE(contains(r.text, "type filter hook input priority filter - 10; policy accept;\n")) << r.text;
  EXPECT_TRUE(contains(r.text, "    ip protocol vrrp ip saddr != { 198.18.0.12, 198.18.0.13 } counter drop\n"))
      << r.text;
  auto alone = model();
  alone.peers.clear();
  EXPECT_TRUE(contains(render_vrrp_filter(alone).text, "    ip protocol vrrp counter drop\n"));
  for (std::string bad : {"db.example.com", "fe80::1", "198.18.0.12 } accept; #"}) {
    auto m = model();
    m.peers.push_back(bad);
    auto refused = render_vrrp_filter(m);
    EXPECT_EQ(refused.text, "") << bad;
    EXPECT_TRUE(contains(refused.error, "not an IPv4 address")) << refused.error;
  }
}

TEST(KeepalivedRender, AdvertIntervalInSeconds) {
  auto m = model();
  m.advert_interval_ms = 1000;
  EXPECT_TRUE(contains(render(real_template(), m).text, "advert_int 1\n"));
  m.advert_interval_ms = 250;
  EXPECT_TRUE(contains(render(real_template(), m).text, "advert_int 0.25\n"));
}

TEST(KeepalivedRender, NoPeersStillRendersAnEmptyPeerList) {
  auto m = model();
  m.peers.clear();
  auto r = render(real_template(), m);
  ASSERT_TRUE(r.error.empty());
  EXPECT_TRUE(std::regex_search(r.text, std::regex(R"(unicast_peer \{\s*\})"))) << r.text;
}

TEST(KeepalivedRender, RefusesValuesThatWouldBreakTheFile) {
  auto m = model();
  m.peers = {"198.18.0.12\n}\nvrrp_script evil {"};
  auto r = render(real_template(), m);
  EXPECT_TRUE(r.text.empty());
  EXPECT_TRUE(contains(r.error, "refusing peer address"));
  // Shown escaped (quoted_printable): the value that would break the file cannot forge a log line.
  EXPECT_TRUE(contains(r.error, "\"198.18.0.12\\x0a}\\x0avrrp_script evil {\"")) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  m = model();
  m.interface = "eth0 dev lo";
  EXPECT_FALSE(render(real_template(), m).error.empty());
  m.interface = "eth0\nfake";
  EXPECT_TRUE(contains(render(real_template(), m).error, "could break keepalived.conf: \"eth0\\x0afake\"")) << render(real_template(), m).error;
}

TEST(KeepalivedRender, TemplateErrorsAreReportedNotRendered) {
  auto r = render("{{#peers}} unclosed", model());
  EXPECT_TRUE(r.text.empty());
  EXPECT_TRUE(contains(r.error, "template"));
}

TEST(KeepalivedRender, SameModelSameText) {
  EXPECT_EQ(render(real_template(), model()).text, render(real_template(), model()).text);
}

}  // namespace
}  // namespace hasup::keepalived

namespace hasup::keepalived {
namespace {

TEST(KeepalivedRender, ThePreferenceTrackFileAddsItsWeightOnlyWhenSet) {
  auto m = model();
  auto plain = render(real_template(), m);
  ASSERT_EQ(plain.error, "");
  EXPECT_EQ(plain.text.find("ha_supervisor_preferred"), std::string::npos);
  m.preference_file = "/run/ha-supervisor/vip-db-primary";
  m.preference_weight = 20;
  auto preferred = render(real_template(), m);
  ASSERT_EQ(preferred.error, "");
  EXPECT_NE(preferred.text.find("track_file ha_supervisor_preferred {\n  file \"/run/ha-supervisor/vip-db-primary\"\n  weight 20\n"),
            std::string::npos) << preferred.text;
  EXPECT_NE(preferred.text.find("    ha_supervisor_fault\n    ha_supervisor_preferred\n  }"), std::string::npos)
      << preferred.text;
  m.preference_weight = 0;
  EXPECT_NE(render(real_template(), m).error, "");
}

// keepalived itself checks the supervisor's heartbeat: a stale one (a dead
// supervisor, one that cannot start) puts the instance in FAULT, whatever the
// track file last said.
TEST(KeepalivedRender, AStaleSupervisorHeartbeatPutsTheInstanceInFault) {
  auto m = model();
  auto without = render(real_template(), m);
  ASSERT_EQ(without.error, "");
  EXPECT_EQ(without.text.find("ha_supervisor_alive"), std::string::npos);
  m.heartbeat_file = "/run/ha-supervisor/alive";
  m.heartbeat_check = "/usr/local/lib/ha-supervisor/heartbeat-fresh";
  m.heartbeat_max_age_s = 10;
  auto with = render(real_template(), m);
  ASSERT_EQ(with.error, "");
  EXPECT_TRUE(contains(with.text, "vrrp_script ha_supervisor_alive {\n"
                                  "  script \"/usr/local/lib/ha-supervisor/heartbeat-fresh /run/ha-supervisor/alive 10\"\n"
                                  "  interval 1\n  timeout 1\n  fall 1\n  rise 1\n  weight 0\n  user nobody nogroup\n}"))
      << with.text;
  EXPECT_TRUE(std::regex_search(with.text, std::regex(R"(vrrp_instance [^{]*\{[\s\S]*  track_script \{\n    ha_supervisor_alive\n  \}\n\})")))
      << with.text;
  m.heartbeat_file = "/run/x\" }";
  EXPECT_NE(render(real_template(), m).error, "");
}

}  // namespace
}  // namespace hasup::keepalived
