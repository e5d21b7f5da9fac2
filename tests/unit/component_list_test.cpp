// The components' two lists agree: the drivers the config enables
// (supervisor/loop/drivers.cpp) and the pure parts decide() and the status
// document iterate (supervisor/loop/components.cpp). A component added to
// one and not the other fails here, not in the lab.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "supervisor/api/status_json.hpp"
#include "supervisor/loop/components.hpp"
#include "supervisor/loop/drivers.hpp"

namespace hasup::loop {
namespace {

config::Config everything_enabled() {
  config::Config c;
  c.node.name = "n1";
  c.node.address = "198.18.0.11";
  c.vip.address = "198.18.0.100/24";
  c.nginx.enabled = true;
  c.db.backend = "patroni";
  c.files.enabled = true;
  c.dead_peers.enabled = true;
  c.members_only.enabled = true;
  c.broker.enabled = true;
  // Nothing is read from the machine's /etc: every file the drivers read at
  // construction is absent, which they report and go on.
  c.vip.template_path = c.nginx.template_path = c.nginx.conf_path = "/nonexistent/ha-supervisor-test";
  c.db.patroni_template = c.db.bootstrap_template = c.db.secrets_file = "/nonexistent/ha-supervisor-test";
  c.db.patroni_conf = c.db.bootstrap_sql = "/nonexistent/ha-supervisor-test";
  c.broker.template_path = c.broker.conf_path = c.broker.password_file = "/nonexistent/ha-supervisor-test";
  c.broker.cookie_fingerprint_file = "/nonexistent/ha-supervisor-test";
  return c;
}

std::vector<std::string> driver_names(const config::Config& config) {
  boost::asio::io_context io;
  consul::Client consul(io, {});
  cluster::Keys keys{"ha"};
  KvView kv;
  KnownNodes known;
  Units units(io, "", [] {});
  DriverContext ctx{io,    consul, config,     keys, kv, known, units, [] {}, [](Job) {},
                    [](const std::string&, const consul::Error&) {}, [](std::uint64_t) { return consul::ReadOptions{}; }};
  std::vector<std::string> names;
  for (const auto& driver : make_drivers(ctx)) names.push_back(driver->name());
  return names;
}

TEST(ComponentList, EveryEnabledDriverHasItsPureParts) {
  std::vector<std::string> parts;
  for (const auto& component : components()) parts.push_back(component.name);
  EXPECT_EQ(driver_names(everything_enabled()), parts);
}

TEST(ComponentList, TheStolonBackendIsTheSameDatabaseComponent) {
  auto config = everything_enabled();
  config.db.backend = "stolon";
  config.db.stolon_spec_template = "/nonexistent/ha-supervisor-test";
  std::vector<std::string> parts;
  for (const auto& component : components()) parts.push_back(component.name);
  EXPECT_EQ(driver_names(config), parts);
}

TEST(ComponentList, ADisabledComponentHasNoDriver) {
  auto config = everything_enabled();
  config.nginx.enabled = false;
  config.files.enabled = false;
  config.dead_peers.enabled = false;
  config.members_only.enabled = false;
  config.broker.enabled = false;
  // The pause's and the switchover's drivers run on every node: the pause is
  // the cluster's, and the gate holds writes whatever else runs.
  EXPECT_EQ(driver_names(config),
            (std::vector<std::string>{"pause", "vip", "db", "db_login", "cold_start", "switchover"}));
}

// The status document has a section for each enabled component, under the
// component list's name, and none for a disabled one.
TEST(ComponentList, TheStatusDocumentHasASectionPerEnabledComponent) {
  Snapshot s;
  s.self = "n1";
  s.vip.enabled = s.nginx.enabled = s.db.enabled = s.db_login.enabled = s.cold_start.enabled = s.files.enabled = s.dead_peers.enabled =
      s.members_only.enabled = s.broker.enabled = s.switchover.enabled = true;
  Plan plan;
  auto doc = api::cluster_document(s, plan);
  for (const auto& component : components())
    EXPECT_TRUE(doc["self"].contains(component.name)) << component.name;
  s.nginx.enabled = false;
  EXPECT_FALSE(api::cluster_document(s, plan)["self"].contains("nginx"));
}

}  // namespace
}  // namespace hasup::loop
