// stolon's initial cluster spec: the template renders to JSON stolon accepts,
// and timings that stolon refuses, or that would fail over for nothing or too
// slowly, are named before anything is written.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "components/stolon/render.hpp"
#include "components/stolon/stolonctl.hpp"

namespace hasup::stolon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string spec_template() {
  std::ifstream in(std::string(HA_SOURCE_DIR) + "/templates/stolon-cluster-spec.json.mustache");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

json render_ok(const StolonSpecSettings& settings) {
  auto r = render_cluster_spec(spec_template(), settings);
  EXPECT_EQ(r.error, "");
  return json::parse(r.text);
}

TEST(StolonRender, DefaultsRenderTheFastSafeSpec) {
  auto spec = render_ok(StolonSpecSettings{});
  EXPECT_EQ(spec["initMode"], "new");
  EXPECT_EQ(spec["sleepInterval"], "250ms");
  EXPECT_EQ(spec["requestTimeout"], "500ms");
  EXPECT_EQ(spec["failInterval"], "1s");
  EXPECT_EQ(spec["convergenceTimeout"], "30s");
  EXPECT_EQ(spec["proxyCheckInterval"], "200ms");
  EXPECT_EQ(spec["proxyTimeout"], "600ms");
  EXPECT_EQ(spec["synchronousReplication"], true);
  EXPECT_EQ(spec["minSynchronousStandbys"], 1);
  EXPECT_EQ(spec["maxSynchronousStandbys"], 1);
  EXPECT_EQ(spec["maxStandbyLag"], 1048576);
  EXPECT_EQ(spec["usePgrewind"], true);
  EXPECT_TRUE(spec["pgParameters"].is_object());
  EXPECT_TRUE(spec["pgParameters"].empty());
  EXPECT_TRUE(spec["pgHBA"].is_null()) << "null: stolon's own entries only";
}

TEST(StolonRender, DefaultTimingsHaveNoProblems) {
  EXPECT_TRUE(stolon_timing_problems(StolonSpecSettings{}).empty());
  EXPECT_TRUE(stolon_spec_problems(StolonSpecSettings{}).empty());
}

TEST(StolonRender, ParametersAndHbaEntriesAreEscapedIntoValidJson) {
  StolonSpecSettings s;
  s.synchronous_replication = false;
  s.use_pg_rewind = false;
  s.pg_parameters = {{"max_connections", "200"},
                     {"log_line_prefix", "%m [%p] \"q\" \\ "},
                     {"pg_stat_statements.max", "5000"}};
  s.pg_hba = {"host manager manager 198.18.0.0/24 scram-sha-256", "host all all 127.0.0.1/32 md5"};
  auto spec = render_ok(s);
  EXPECT_EQ(spec["synchronousReplication"], false);
  EXPECT_EQ(spec["usePgrewind"], false);
  ASSERT_EQ(spec["pgParameters"].size(), 3u);
  EXPECT_EQ(spec["pgParameters"]["log_line_prefix"], "%m [%p] \"q\" \\ ");
  EXPECT_EQ(spec["pgParameters"]["pg_stat_statements.max"], "5000");
  ASSERT_TRUE(spec["pgHBA"].is_array());
  EXPECT_EQ(spec["pgHBA"][1], "host all all 127.0.0.1/32 md5");
}

TEST(StolonRender, OneParameterAndOneHbaEntryHaveNoTrailingComma) {
  StolonSpecSettings s;
  s.pg_parameters = {{"max_connections", "50"}};
  s.pg_hba = {"host all all 0.0.0.0/0 md5"};
  auto spec = render_ok(s);
  EXPECT_EQ(spec["pgParameters"]["max_connections"], "50");
  EXPECT_EQ(spec["pgHBA"].size(), 1u);
}

TEST(StolonRender, GoDurations) {
  EXPECT_EQ(go_duration(250ms), "250ms");
  EXPECT_EQ(go_duration(1000ms), "1s");
  EXPECT_EQ(go_duration(1500ms), "1500ms");
  EXPECT_EQ(go_duration(30s), "30s");
  EXPECT_EQ(go_duration(0ms), "0ms");
}

TEST(StolonTiming, ProxyCheckIntervalMustBeLessThanProxyTimeoutAsStolonDemands) {
  StolonSpecSettings s;
  s.proxy_check_interval = 600ms;
  s.proxy_timeout = 600ms;
  auto p = stolon_timing_problems(s);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(mentions(p, "must be less than proxyTimeout")) << p[0];
}

TEST(StolonTiming, OneLateProxyCheckMustNotDropConnections) {
  StolonSpecSettings s;
  s.proxy_check_interval = 400ms;
  s.proxy_timeout = 600ms;
  auto p = stolon_timing_problems(s);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(mentions(p, "at least twice proxyCheckInterval")) << p[0];
}

TEST(StolonTiming, FailIntervalMustCoverASlowKeeperLoop) {
  StolonSpecSettings s;
  s.request_timeout = 800ms;  // 250 + 800 >= 1000
  auto p = stolon_timing_problems(s);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(mentions(p, "failInterval (1s) must be greater than sleepInterval + requestTimeout (250ms + 800ms)"))
      << p[0];
  s.request_timeout = 750ms;  // equal is not enough
  EXPECT_EQ(stolon_timing_problems(s).size(), 1u);
  s.request_timeout = 700ms;
  EXPECT_TRUE(stolon_timing_problems(s).empty());
}

TEST(StolonTiming, RequestTimeoutOrSleepIntervalAboveFailIntervalIsAProblem) {
  StolonSpecSettings s;
  s.sleep_interval = 2s;
  s.proxy_timeout = 1s;  // keep the proxy budget out of it
  s.proxy_check_interval = 200ms;
  s.fail_interval = 4s;
  EXPECT_TRUE(stolon_timing_problems(s).empty());
  s.fail_interval = 1500ms;
  EXPECT_TRUE(mentions(stolon_timing_problems(s), "must be greater than sleepInterval + requestTimeout"));
}

TEST(StolonTiming, AProxyOnADeadNodeMustNotOutwaitTheKeeperDetection) {
  StolonSpecSettings s;
  s.proxy_timeout = 1s;  // the sentinel would wait 2 s for a dead proxy; the keeper is found dead in 1.25 s
  auto p = stolon_timing_problems(s);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(mentions(p, "2 x proxyTimeout (2s) must not exceed sleepInterval + failInterval (1250ms)")) << p[0];
}

TEST(StolonTiming, ZeroOrNegativeDurationsAreNamedEachAndNothingElse) {
  StolonSpecSettings s;
  s.sleep_interval = 0ms;
  s.fail_interval = -1ms;
  auto p = stolon_timing_problems(s);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(mentions(p, "sleepInterval must be greater than 0, not 0ms"));
  EXPECT_TRUE(mentions(p, "failInterval must be greater than 0, not -1ms"));
}

TEST(StolonTiming, SynchronousStandbyCountsStolonRefuses) {
  StolonSpecSettings s;
  s.min_synchronous_standbys = 0;
  s.max_synchronous_standbys = 0;
  auto p = stolon_timing_problems(s);
  EXPECT_TRUE(mentions(p, "minSynchronousStandbys must be at least 1"));
  EXPECT_TRUE(mentions(p, "maxSynchronousStandbys must be at least 1"));
  s.min_synchronous_standbys = 2;
  s.max_synchronous_standbys = 1;
  p = stolon_timing_problems(s);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(mentions(p, "must not be less than minSynchronousStandbys (2)"));
  s.max_synchronous_standbys = 70000;
  EXPECT_TRUE(mentions(stolon_timing_problems(s), "65535"));
}

TEST(StolonTiming, EveryProblemIsReportedAtOnce) {
  StolonSpecSettings s;
  s.proxy_check_interval = 700ms;
  s.proxy_timeout = 700ms;
  s.request_timeout = 2s;
  s.min_synchronous_standbys = 0;
  EXPECT_EQ(stolon_timing_problems(s).size(), 4u);
}

TEST(StolonRender, RefusesTimingProblemsAndWritesNothing) {
  StolonSpecSettings s;
  s.proxy_timeout = 100ms;
  auto r = render_cluster_spec(spec_template(), s);
  EXPECT_EQ(r.text, "");
  EXPECT_NE(r.error.find("must be less than proxyTimeout"), std::string::npos) << r.error;
}

TEST(StolonRender, RefusesParametersStolonManagesAndUnsafeText) {
  StolonSpecSettings s;
  s.pg_parameters = {{"port", "5432"}, {"Listen_Addresses", "*"}, {"bad name", "x"}, {"work_mem", "4MB\nport=1"}};
  s.pg_hba = {"host all all 0.0.0.0/0 md5\nhost all all ::/0 trust", " "};
  auto p = stolon_spec_problems(s);
  EXPECT_EQ(p.size(), 6u);
  EXPECT_TRUE(mentions(p, "pg parameter port is set by stolon itself"));
  EXPECT_TRUE(mentions(p, "pg parameter Listen_Addresses is set by stolon itself"));
  EXPECT_TRUE(mentions(p, "\"bad name\" is not a PostgreSQL parameter name"));
  EXPECT_TRUE(mentions(p, "pg parameter work_mem: the value holds a control character"));
  EXPECT_TRUE(mentions(p, "pg_hba entry 1 holds a newline"));
  EXPECT_TRUE(mentions(p, "pg_hba entry 2 is empty"));
  auto r = render_cluster_spec(spec_template(), s);
  EXPECT_EQ(r.text, "");
  EXPECT_NE(r.error.find("refusing the stolon cluster spec"), std::string::npos);
}

TEST(StolonRender, RefusesInvalidUtf8) {
  StolonSpecSettings s;
  s.pg_parameters = {{"application_name", std::string("caf\xe9")}};
  auto r = render_cluster_spec(spec_template(), s);
  EXPECT_EQ(r.text, "");
  EXPECT_NE(r.error.find("UTF-8"), std::string::npos) << r.error;
}

TEST(StolonRender, ATemplateThatIsNotJsonIsAnError) {
  auto r = render_cluster_spec("{ \"initMode\": \"new\", {{sleep_interval}} }", StolonSpecSettings{});
  EXPECT_EQ(r.text, "");
  EXPECT_NE(r.error.find("not a JSON object"), std::string::npos) << r.error;
}

TEST(StolonRender, ATemplateThatDropsOrAltersASettingIsAnError) {
  auto dropped = render_cluster_spec("{ \"initMode\": \"new\" }", StolonSpecSettings{});
  EXPECT_EQ(dropped.text, "");
  EXPECT_NE(dropped.error.find("has no "), std::string::npos) << dropped.error;
  std::string tmpl = spec_template();
  auto at = tmpl.find("{{fail_interval}}");
  ASSERT_NE(at, std::string::npos);
  tmpl.replace(at, std::string("{{fail_interval}}").size(), "{{sleep_interval}}");
  auto altered = render_cluster_spec(tmpl, StolonSpecSettings{});
  EXPECT_EQ(altered.text, "");
  EXPECT_NE(altered.error.find("failInterval = \"250ms\", expected \"1s\""), std::string::npos) << altered.error;
}

TEST(StolonRender, TemplateSyntaxErrorIsReported) {
  auto r = render_cluster_spec("{{#pg_hba}}", StolonSpecSettings{});
  EXPECT_EQ(r.text, "");
  EXPECT_NE(r.error.find("template:"), std::string::npos) << r.error;
}

TEST(StolonCommands, StoreKeysAndInitCommandLine) {
  StoreTarget t;
  t.cluster_name = "manager";
  t.consul_endpoint = "http://127.0.0.1:8500";
  EXPECT_EQ(store_path(t), "stolon/cluster/manager");
  EXPECT_EQ(clusterdata_key(t), "stolon/cluster/manager/clusterdata");
  t.store_prefix = "/custom/prefix/";
  EXPECT_EQ(clusterdata_key(t), "custom/prefix/manager/clusterdata") << "no leading slash in Consul keys";
  t.store_prefix = "stolon/cluster";
  auto argv = stolonctl_init_argv("/opt/stolon/bin/stolonctl", t, "/run/spec.json");
  std::vector<std::string> want = {"/opt/stolon/bin/stolonctl", "--cluster-name=manager", "--store-backend=consul",
                                   "--store-endpoints=http://127.0.0.1:8500", "--store-prefix=stolon/cluster",
                                   "init", "--yes", "--file=/run/spec.json"};
  EXPECT_EQ(argv, want);
  t.consul_endpoint = "https://127.0.0.1:8501";
  t.ca_file = "/etc/ssl/ha-consul-ca.pem";
  want = {"/opt/stolon/bin/stolonctl", "--cluster-name=manager", "--store-backend=consul",
          "--store-endpoints=https://127.0.0.1:8501", "--store-prefix=stolon/cluster",
          "--store-ca-file=/etc/ssl/ha-consul-ca.pem", "init", "--yes", "--file=/run/spec.json"};
  EXPECT_EQ(stolonctl_init_argv("/opt/stolon/bin/stolonctl", t, "/run/spec.json"), want)
      << "an HTTPS agent: its CA goes with the endpoint";
}

}  // namespace
}  // namespace hasup::stolon
