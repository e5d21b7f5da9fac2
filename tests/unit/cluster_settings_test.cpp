// The cluster's settings: the store's JSON laid over a node's file with the
// file's own checks, the operator's words typed, the copy on disk, and the
// keeper that says what changes (supervisor/config/cluster_settings.hpp,
// supervisor/loop/settings_keeper.hpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "supervisor/cli/settings_table.hpp"
#include "supervisor/config/cluster_settings.hpp"
#include "supervisor/config/schema.hpp"
#include "supervisor/loop/settings_keeper.hpp"
#include "tests/unit/temp_dir.hpp"

namespace hasup::config {
namespace {

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

Config node_file(const std::string& extra = "") {
  auto loaded = load_string("node: { name = \"n1\"; address = \"198.18.0.11\"; };\n" + extra, "ha-supervisor.conf");
  if (!loaded.config) throw std::runtime_error(loaded.errors.front().to_string());
  return *loaded.config;
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST(ClusterSettings, TakesClusterWideKeysOverTheFile) {
  const Config base = node_file("vip: { unfit_grace_ms = 4000; };");
  auto r = overlay_cluster_settings(base, R"({"vip.unfit_grace_ms": 2500, "db.probe_interval_ms": 1200})", "store");
  ASSERT_TRUE(r.config) << all_errors(r);
  EXPECT_EQ(r.config->vip.unfit_grace_ms, 2500);
  EXPECT_EQ(r.config->db.probe_interval_ms, 1200);
  EXPECT_EQ(r.config->node.name, "n1");  // the file's own keys stay
  EXPECT_EQ(r.config->consul.quorum_loss_timeout_ms, base.consul.quorum_loss_timeout_ms);
}

TEST(ClusterSettings, AnEmptyDocumentIsTheFile) {
  const Config base = node_file("vip: { unfit_grace_ms = 4000; };");
  auto r = overlay_cluster_settings(base, "{}", "store");
  ASSERT_TRUE(r.config) << all_errors(r);
  EXPECT_TRUE(diff(base, *r.config).live.empty());
  EXPECT_TRUE(diff(base, *r.config).needs_restart.empty());
}

TEST(ClusterSettings, RefusesNodeKeysUnknownKeysAndBadValuesAllAtOnce) {
  auto r = overlay_cluster_settings(node_file(),
                                    R"({"node.name": "n9", "vip.unfit_grace_msec": 1, "vip.election_grace_ms": "6s",
                                        "db.probe_interval_ms": 5, "loop.interval_ms": {"x": 1}})",
                                    "the cluster's settings (index 7)");
  EXPECT_FALSE(r.config);
  const std::string errors = all_errors(r);
  EXPECT_TRUE(contains(errors, "the cluster's settings (index 7): node.name: not a cluster-wide key"));
  EXPECT_TRUE(contains(errors, "vip.unfit_grace_msec\": unknown key; did you mean vip.unfit_grace_ms?"));
  EXPECT_TRUE(contains(errors, "vip.election_grace_ms: expected int, got string"));
  EXPECT_TRUE(contains(errors, "db.probe_interval_ms: out of range: allowed 100..60000, got 5"));
  EXPECT_TRUE(contains(errors, "loop.interval_ms: expected int, got JSON object"));
  EXPECT_EQ(r.errors.size(), 5u) << errors;
}

TEST(ClusterSettings, RefusesWhatIsNotAnObject) {
  for (const char* text : {"", "[1]", "not json", "\"x\"", "{\"vip.unfit_grace_ms\": 1"}) {
    auto r = overlay_cluster_settings(node_file(), text, "store");
    EXPECT_FALSE(r.config) << text;
    ASSERT_FALSE(r.errors.empty());
    EXPECT_TRUE(contains(r.errors.front().to_string(), "not a JSON object")) << text;
  }
}

TEST(ClusterSettings, RefusesAHugeInteger) {
  auto r = overlay_cluster_settings(node_file(), R"({"vip.unfit_grace_ms": 18446744073709551615})", "store");
  EXPECT_FALSE(r.config);
}

TEST(ClusterSettings, ChecksTheRulesBetweenKeysWithTheNodesFile) {
  // consul.check_ttl_ms >= 2 * loop.interval_ms: the file's TTL against the store's interval.
  auto r = overlay_cluster_settings(node_file("consul: { check_ttl_ms = 3000; };"), R"({"loop.interval_ms": 2000})",
                                    "store");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(contains(all_errors(r), "check_ttl_ms")) << all_errors(r);
  // The same interval with a TTL from the store too is fine.
  auto fine = overlay_cluster_settings(node_file("consul: { check_ttl_ms = 3000; };"),
                                       R"({"loop.interval_ms": 2000, "consul.check_ttl_ms": 4000})", "store");
  EXPECT_TRUE(fine.config) << all_errors(fine);
}

TEST(ClusterSettings, NoSecretAndNoPathIsClusterWide) {
  int cluster_wide = 0;
  for (const auto& key : all_keys()) {
    if (!key.cluster_wide) continue;
    ++cluster_wide;
    EXPECT_FALSE(key.secret) << key.path;
    EXPECT_FALSE(key.required) << key.path;
    EXPECT_EQ(key.group() == "node" || key.group() == "api", false) << key.path;
    EXPECT_FALSE(key.path.ends_with("_file")) << key.path;
    // A string with a format is a path, an address or a name: node-local.
    EXPECT_FALSE(key.type() == ValueType::string && key.format != nullptr) << key.path;
  }
  EXPECT_GT(cluster_wide, 20);
  // Keys that must change on every node at the same instant are not among them.
  for (const char* path : {"vip.advert_interval_ms", "vip.virtual_router_id", "vip.address", "db.ttl_s",
                           "db.synchronous", "broker.partition_handling", "consul.key_prefix"})
    EXPECT_FALSE(find_key(path)->cluster_wide) << path;
}

TEST(ClusterSettings, TypesWhatAnOperatorTyped) {
  EXPECT_EQ(typed_value("vip.unfit_grace_ms", "2500").value, nlohmann::json(2500));
  EXPECT_EQ(typed_value("broker.memory_high_watermark", "0.5").value, nlohmann::json("0.5"));
  EXPECT_TRUE(contains(typed_value("vip.unfit_grace_ms", "25s").error, "expected int, got \"25s\""));
  EXPECT_TRUE(contains(typed_value("vip.unfit_grace_ms", "").error, "expected int"));
  EXPECT_TRUE(contains(typed_value("node.name", "n9").error, "not a cluster-wide key"));
  EXPECT_TRUE(contains(typed_value("nope.key", "1").error, "unknown key"));
  EXPECT_EQ(settable_problem("db.unfit_after_ms"), "");
}

TEST(ClusterSettings, EditsKeepKeysSorted) {
  auto e = edit_settings(R"({"z.a": 1, "vip.unfit_grace_ms": 2})", {{"db.unfit_after_ms", 5}}, {"z.a"});
  EXPECT_EQ(e.error, "");
  EXPECT_EQ(e.text, R"({"db.unfit_after_ms":5,"vip.unfit_grace_ms":2})");
  EXPECT_FALSE(edit_settings("[]", {}, {}).error.empty());
}

TEST(ClusterSettings, EveryClusterWideValueIsListed) {
  Config c = node_file();
  c.vip.unfit_grace_ms = 1234;
  auto values = cluster_wide_values(c);
  EXPECT_EQ(values["vip.unfit_grace_ms"], 1234);
  EXPECT_FALSE(values.contains("node.name"));
}

TEST(ClusterSettings, CopyOnDiskRoundTripsAndRefusesWhatIsNotACopy) {
  test::TempDir dir;
  const std::string path = dir.path() + "/copy.json";
  EXPECT_FALSE(read_settings_copy(path).copy);
  EXPECT_EQ(read_settings_copy(path).problem, "");  // no file: nothing to say
  ASSERT_EQ(write_settings_copy(path, {42, R"({"vip.unfit_grace_ms":2500})"}), "");
  auto read = read_settings_copy(path);
  ASSERT_TRUE(read.copy) << read.problem;
  EXPECT_EQ(read.copy->index, 42u);
  EXPECT_EQ(read.copy->text, R"({"vip.unfit_grace_ms":2500})");
  dir.write("copy.json", R"({"index": -1, "settings": {}})");
  EXPECT_FALSE(read_settings_copy(path).copy);
  EXPECT_TRUE(contains(read_settings_copy(path).problem, "is not a settings copy"));
}

}  // namespace
}  // namespace hasup::config

namespace hasup::loop {
namespace {

config::Config node_file_at(const std::string& copy_path, const std::string& extra = "") {
  auto loaded = config::load_string("node: { name = \"n1\"; address = \"198.18.0.11\"; settings_file = \"" + copy_path +
                                        "\"; };\n" + extra,
                                    "ha-supervisor.conf");
  if (!loaded.config) throw std::runtime_error(loaded.errors.front().to_string());
  return *loaded.config;
}

TEST(SettingsKeeper, StartsWithTheCopyAndTakesTheStoresChanges) {
  test::TempDir dir;
  const std::string copy = dir.path() + "/copy.json";
  ASSERT_EQ(config::write_settings_copy(copy, {10, R"({"vip.unfit_grace_ms":2500})"}), "");
  SettingsKeeper keeper(node_file_at(copy));
  config::Config running = keeper.starting_config();
  EXPECT_EQ(running.vip.unfit_grace_ms, 2500);
  EXPECT_EQ(keeper.view(running).applied_index, 10u);

  // The same settings written again: nothing changes, the index follows.
  EXPECT_FALSE(keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":2500})", 12}).change);
  EXPECT_EQ(keeper.view(running).applied_index, 12u);

  // New settings: a live key and a restart key.
  auto change = keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":2000,"consul.session_ttl_s":20})", 13}).change;
  ASSERT_TRUE(change);
  EXPECT_EQ(change->origin, "the cluster's settings (index 13)");
  EXPECT_EQ(change->desired.vip.unfit_grace_ms, 2000);
  config::apply_live_keys(running, change->desired);
  EXPECT_EQ(running.vip.unfit_grace_ms, 2000);
  EXPECT_EQ(keeper.view(running).pending, std::vector<std::string>{"consul.session_ttl_s"});
  EXPECT_EQ(keeper.applied().index, 13u);
}

TEST(SettingsKeeper, RefusedSettingsLeaveThePreviousInEffect) {
  test::TempDir dir;
  SettingsKeeper keeper(node_file_at(dir.path() + "/copy.json"));
  config::Config running = keeper.starting_config();
  ASSERT_TRUE(keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":2000})", 5}).change);
  auto refused = keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":"soon"})", 6});
  EXPECT_FALSE(refused.change);
  auto view = keeper.view(running);
  EXPECT_EQ(refused.refused, view.error);
  EXPECT_EQ(view.applied_index, 5u);
  EXPECT_NE(view.error.find("the cluster's settings (index 6): vip.unfit_grace_ms: expected int"), std::string::npos)
      << view.error;
  // Asked again with the same refused settings: nothing new to say or do.
  auto again = keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":"soon"})", 6});
  EXPECT_FALSE(again.change);
  EXPECT_EQ(again.refused, "");
  EXPECT_EQ(keeper.view(running).error, view.error) << "still refused, still said in status";
  // Good ones again clear the error.
  ASSERT_TRUE(keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":1500})", 7}).change);
  EXPECT_EQ(keeper.view(running).error, "");
}

TEST(SettingsKeeper, AnAbsentKeyKeepsWhatIsInEffect) {
  test::TempDir dir;
  SettingsKeeper keeper(node_file_at(dir.path() + "/copy.json"));
  keeper.starting_config();
  ASSERT_TRUE(keeper.consider(KvView::StoredValue{R"({"vip.unfit_grace_ms":2000})", 5}).change);
  EXPECT_FALSE(keeper.consider(std::nullopt).change);
  EXPECT_EQ(keeper.applied().index, 5u);
}

TEST(SettingsKeeper, ACopyThatNoLongerFitsTheFileIsIgnored) {
  test::TempDir dir;
  const std::string copy = dir.path() + "/copy.json";
  ASSERT_EQ(config::write_settings_copy(copy, {10, R"({"loop.interval_ms":2000})"}), "");
  SettingsKeeper keeper(node_file_at(copy, "consul: { check_ttl_ms = 3000; };"));
  config::Config running = keeper.starting_config();
  EXPECT_EQ(running.loop.interval_ms, 1000);
  EXPECT_EQ(keeper.applied().index, 0u);
}

TEST(SettingsKeeper, ANewFileIsCheckedWithTheSettings) {
  test::TempDir dir;
  const std::string copy = dir.path() + "/copy.json";
  SettingsKeeper keeper(node_file_at(copy));
  keeper.starting_config();
  ASSERT_TRUE(keeper.consider(KvView::StoredValue{R"({"loop.interval_ms":1400})", 5}).change);
  EXPECT_FALSE(keeper.with_file(node_file_at(copy, "consul: { check_ttl_ms = 2000; };")));
  auto fine = keeper.with_file(node_file_at(copy, "vip: { unfit_grace_ms = 100; };"));
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->loop.interval_ms, 1400);
  EXPECT_EQ(fine->vip.unfit_grace_ms, 100);
}

TEST(SettingsTable, SaysWhatEachNodeRunsWith) {
  auto doc = nlohmann::json::parse(R"({
    "stored": {"index": 13, "settings": {"vip.unfit_grace_ms": 2000}},
    "nodes": {"n1": {"applied_index": 13, "pending": [], "error": ""},
              "n2": {"applied_index": 13, "pending": ["consul.session_ttl_s"], "error": ""},
              "n3": {"applied_index": 9, "pending": [], "error": "vip.unfit_grace_ms: expected int"}}})");
  const std::string text = cli::render_settings(doc);
  EXPECT_NE(text.find("cluster settings in the store (index 13)"), std::string::npos) << text;
  EXPECT_NE(text.find("  vip.unfit_grace_ms = 2000"), std::string::npos) << text;
  EXPECT_NE(text.find("  n1  applied index 13\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  n2  applied index 13; needs a restart for consul.session_ttl_s"), std::string::npos) << text;
  EXPECT_NE(text.find("  n3  applied index 9 (not the store's); refused the store's: vip.unfit_grace_ms"),
            std::string::npos)
      << text;
  EXPECT_NE(cli::render_settings(nlohmann::json::parse(R"({"stored": null, "nodes": {}})")).find("holds no cluster settings"),
            std::string::npos);
}

}  // namespace
}  // namespace hasup::loop
