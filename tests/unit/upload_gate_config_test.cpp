// ha-upload-gate's config: defaults, every value checked with file:line, the
// API key file's owner and mode, unknown keys refused; and the write rules.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "components/upload-gate/config.hpp"
#include "components/upload-gate/write_rules.hpp"

namespace hasup::upload_gate {
namespace {

namespace fs = std::filesystem;

class GateConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gate-config-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "resources");
    key_ = (dir_ / "key").string();
    std::ofstream(key_) << "abcdef123456\n";
    chmod(key_.c_str(), 0600);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string minimal(const std::string& extra = "") {
    return "folder = { id = \"resources\"; path = \"" + (dir_ / "resources").string() +
           "\"; };\nsyncthing = { api_url = \"http://127.0.0.1:8384\"; api_key_file = \"" + key_ + "\"; };\n" + extra;
  }
  static bool has_error(const LoadResult& r, const std::string& part) {
    for (const auto& e : r.errors)
      if (e.find(part) != std::string::npos) return true;
    return false;
  }

  fs::path dir_;
  std::string key_;
};

TEST_F(GateConfigTest, MinimalFileGetsTheSafeDefaults) {
  auto r = load_config_text(minimal(), "gate.conf");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0]);
  const auto& c = *r.config;
  EXPECT_TRUE(c.quorum.all_connected);
  EXPECT_EQ(c.quorum.min_peers, 1);
  EXPECT_EQ(c.timeout.count(), 10000);
  EXPECT_EQ(c.on_timeout, OnTimeout::fail);
  EXPECT_EQ(c.durability, Durability::strict) << "a gate on its own refuses what it cannot copy";
  EXPECT_EQ(c.api_key, "abcdef123456");
  EXPECT_EQ(c.syncthing_port, 8384);
  EXPECT_TRUE(is_gated_write(c.rules, "PUT", "/api/v3.1/blueprints/x"));
  EXPECT_TRUE(is_gated_write(c.rules, "DELETE", "/anything"));
  EXPECT_FALSE(is_gated_write(c.rules, "GET", "/api/v3.1/blueprints/x"));
  EXPECT_FALSE(is_gated_write(c.rules, "HEAD", "/"));
}

TEST_F(GateConfigTest, MetricsOnlyWhenAskedAndOnlyOnLoopback) {
  auto none = load_config_text(minimal(), "gate.conf");
  ASSERT_TRUE(none.config);
  EXPECT_EQ(none.config->metrics_port, 0) << "no metrics group: no metrics listener";
  auto on = load_config_text(minimal("metrics = { address = \"127.0.0.1\"; port = 8101; };\n"), "gate.conf");
  ASSERT_TRUE(on.config) << (on.errors.empty() ? "" : on.errors[0]);
  EXPECT_EQ(on.config->metrics_port, 8101);
  auto open = load_config_text(minimal("metrics = { address = \"0.0.0.0\"; port = 8101; };\n"), "gate.conf");
  EXPECT_FALSE(open.config);
  EXPECT_TRUE(has_error(open, "metrics.address '0.0.0.0' must be a loopback address"));
  auto stray = load_config_text(minimal("metrics = { address = \"127.0.0.1\"; port = 8101; path = \"/m\"; };\n"),
                                "gate.conf");
  EXPECT_FALSE(stray.config);
}

TEST_F(GateConfigTest, EveryValueIsReadAndQuorumMayBeANumber) {
  auto r = load_config_text(minimal(R"(
listen = { address = "127.0.0.1"; port = 9000; };
upstream = { address = "127.0.0.1"; port = 9001; };
rules = ( { methods = ["PUT", "DELETE"]; path_prefix = "/api/v3.1/blueprints/"; } );
replication = { quorum = 2; min_peers = 1; timeout_ms = 2500; min_rate_kib_s = 2048; max_timeout_ms = 90000;
                on_timeout = "warn"; durability = "available"; durability_file = "/run/gate-test/rule";
                poll_interval_ms = 100; };
limits = { header_bytes = 8192; header_timeout_ms = 3000; max_connections = 64; held_response_bytes = 65536; };
threads = 4;
)"),
                            "gate.conf");
  ASSERT_TRUE(r.config) << r.errors[0];
  const auto& c = *r.config;
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_EQ(c.upstream_port, 9001);
  EXPECT_FALSE(c.quorum.all_connected);
  EXPECT_EQ(c.quorum.count, 2);
  EXPECT_EQ(c.on_timeout, OnTimeout::warn);
  EXPECT_EQ(c.durability, Durability::available);
  EXPECT_EQ(c.durability_file, "/run/gate-test/rule");
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.min_rate_kib_s, 2048u);
  EXPECT_EQ(c.max_timeout, std::chrono::milliseconds(90000));
  EXPECT_EQ(c.limits.header_bytes, 8192u);
  EXPECT_EQ(c.limits.max_connections, 64u);
  EXPECT_EQ(c.threads, 4);
  EXPECT_TRUE(is_gated_write(c.rules, "PUT", "/api/v3.1/blueprints/bp1?x=1"));
  EXPECT_FALSE(is_gated_write(c.rules, "POST", "/api/v3.1/blueprints/bp1"));
  EXPECT_FALSE(is_gated_write(c.rules, "PUT", "/api/v3.1/deployments/d1"));
}

TEST_F(GateConfigTest, EveryErrorAtOnceWithItsLine) {
  auto r = load_config_text(minimal(R"(
listen = { address = "not-an-ip"; port = 70000; };
replication = { quorum = "most"; timeout_ms = 5; on_timeout = "shrug"; durability = "mostly";
                durability_file = "run/rule"; };
limits = { max_connections = 0; };
threads = "many";
colour = "blue";
)"),
                            "gate.conf");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(r, "gate.conf:4: listen.address 'not-an-ip' is not an IP address"));
  EXPECT_TRUE(has_error(r, "listen.port = 70000 is out of range 1..65535"));
  EXPECT_TRUE(has_error(r, "replication.quorum 'most' must be \"all-connected\" or a number"));
  EXPECT_TRUE(has_error(r, "replication.timeout_ms = 5 is out of range"));
  EXPECT_TRUE(has_error(r, "on_timeout 'shrug'"));
  EXPECT_TRUE(has_error(r, "replication.durability 'mostly' must be \"strict\" or \"available\""));
  EXPECT_TRUE(has_error(r, "replication.durability_file 'run/rule' must be an absolute path to a file"));
  EXPECT_TRUE(has_error(r, "limits.max_connections = 0"));
  EXPECT_TRUE(has_error(r, "threads must be an integer"));
  EXPECT_TRUE(has_error(r, "unknown key 'colour'"));
  EXPECT_GE(r.errors.size(), 8u);
}

TEST_F(GateConfigTest, SyncthingOnlyOnLoopbackAndTheKeyFileGuarded) {
  auto remote = load_config_text(
      "folder = { id = \"r\"; path = \"" + (dir_ / "resources").string() +
          "\"; };\nsyncthing = { api_url = \"http://198.18.0.11:8384\"; api_key_file = \"" + key_ + "\"; };\n",
      "gate.conf");
  EXPECT_TRUE(has_error(remote, "must be http://127.0.0.1:PORT"));

  chmod(key_.c_str(), 0644);
  auto readable = load_config_text(minimal(), "gate.conf");
  EXPECT_TRUE(has_error(readable, "has mode 0644: must be 0600"));

  fs::remove(key_);
  auto missing = load_config_text(minimal(), "gate.conf");
  EXPECT_TRUE(has_error(missing, "cannot be read"));
}

TEST_F(GateConfigTest, RulesAndQuorumCrossChecks) {
  auto r = load_config_text(minimal(R"(
rules = ( { methods = ["put"]; path_prefix = "api"; } );
replication = { quorum = 1; min_peers = 2; };
upstream = { address = "127.0.0.1"; port = 8090; };
)"),
                            "gate.conf");
  EXPECT_TRUE(has_error(r, "method 'put' must be upper-case"));
  EXPECT_TRUE(has_error(r, "path_prefix must start with '/'"));
  EXPECT_TRUE(has_error(r, "replication.quorum = 1 is below replication.min_peers = 2"));
  EXPECT_TRUE(has_error(r, "the gate would call itself"));
}

TEST_F(GateConfigTest, MissingFolderAndSyntaxErrors) {
  auto no_folder = load_config_text("threads = 2;", "gate.conf");
  EXPECT_TRUE(has_error(no_folder, "folder = { id"));
  auto broken = load_config_text("threads = ;", "gate.conf");
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_EQ(broken.errors[0].rfind("gate.conf:1:", 0), 0u) << broken.errors[0];
  auto unreadable = load_config_file((dir_ / "nope.conf").string());
  EXPECT_TRUE(has_error(unreadable, "cannot be read"));
}

}  // namespace
}  // namespace hasup::upload_gate
