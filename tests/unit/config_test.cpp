// The configuration loader: every error it reports, the values it loads,
// what a reload would change, and that the token is never shown.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "supervisor/config/config.hpp"
#include "supervisor/config/schema.hpp"
#include "tests/unit/temp_dir.hpp"

namespace hasup::config {
namespace {

const std::string kOrigin = "test.conf";
const std::string kRequired = "node: { name = \"n1\"; address = \"127.0.0.1\"; };\n";
const std::string kSecret = "s3cr3t-token-value";

LoadResult load(const std::string& text) { return load_string(text, kOrigin); }

// Loads the required keys plus `group: { body };`.
LoadResult load_with(const std::string& group, const std::string& body) {
  return load(kRequired + group + ": { " + body + " };\n");
}

std::string all_errors(const LoadResult& result) {
  std::string text;
  for (const auto& error : result.errors) text += error.to_string() + "\n";
  return text;
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in:\n" << text;
}

// Expects exactly one error and returns it.
ConfigError only_error(const LoadResult& result) {
  EXPECT_EQ(result.errors.size(), 1u) << all_errors(result);
  EXPECT_FALSE(result.config.has_value());
  return result.errors.empty() ? ConfigError{} : result.errors.front();
}

Config valid_config() {
  auto result = load(kRequired);
  EXPECT_TRUE(result.errors.empty()) << all_errors(result);
  return result.config.value_or(Config{});
}

using test::TempDir;

// ---- ConfigError ------------------------------------------------------------

TEST(ConfigErrorTest, FormatsFileLineKeyAndMessage) {
  EXPECT_EQ((ConfigError{"a.conf", 7, "consul.port", "bad"}).to_string(), "a.conf:7: consul.port: bad");
  EXPECT_EQ((ConfigError{"a.conf", 0, "node.name", "missing"}).to_string(), "a.conf: node.name: missing");
  EXPECT_EQ((ConfigError{"a.conf", 3, "", "parse error"}).to_string(), "a.conf:3: parse error");
  EXPECT_EQ((ConfigError{"a.conf", 0, "", "unreadable"}).to_string(), "a.conf: unreadable");
}

// ---- syntax -------------------------------------------------------------------

TEST(ConfigLoadTest, ParseErrorReportsLineAndLibconfigText) {
  const auto error = only_error(load("node: {\n  name = \"n1\";\n  address = ;\n};\n"));
  EXPECT_EQ(error.file, kOrigin);
  EXPECT_EQ(error.line, 3);
  EXPECT_TRUE(contains(error.message, "parse error: syntax error"));
}

TEST(ConfigLoadTest, IncludeDirectiveIsRefused) {
  const auto error = only_error(load(kRequired + "@include \"/etc/passwd\"\n"));
  EXPECT_EQ(error.line, 2);
  EXPECT_TRUE(contains(error.message, "@include is not supported"));
}

TEST(ConfigLoadTest, NulByteIsRefused) {
  const auto error = only_error(load(kRequired + std::string("\0consul: { port = 1; };", 23)));
  EXPECT_EQ(error.line, 2);
  EXPECT_TRUE(contains(error.message, "NUL byte"));
}

// ---- unknown names ------------------------------------------------------------

TEST(ConfigLoadTest, UnknownKeyWithLineAndSuggestion) {
  const auto error = only_error(load(kRequired + "consul: {\n  port = 8500;\n  lock_dely_ms = 500;\n};\n"));
  EXPECT_EQ(error.line, 4);
  EXPECT_EQ(error.key, "consul.lock_dely_ms");
  EXPECT_EQ(error.message, "unknown key; did you mean consul.lock_delay_ms?");
  EXPECT_EQ(error.to_string(), "test.conf:4: consul.lock_dely_ms: unknown key; did you mean consul.lock_delay_ms?");
}

TEST(ConfigLoadTest, UnknownKeyFarFromAnyKeyHasNoSuggestion) {
  const auto error = only_error(load_with("consul", "frobnicate = 1;"));
  EXPECT_EQ(error.key, "consul.frobnicate");
  EXPECT_EQ(error.message, "unknown key");
}

// A file written for an older supervisor still loads after an upgrade: a key
// that moved is read under its new name, and the operator is told.
TEST(ConfigLoadTest, AMovedKeyIsReadUnderItsNewNameWithANotice) {
  const auto moved = load_with("dead_peers", "poll_interval_ms = 300;");
  ASSERT_TRUE(moved.config) << all_errors(moved);
  EXPECT_EQ(moved.config->consul.gossip_poll_interval_ms, 300);
  ASSERT_EQ(moved.notices.size(), 1u);
  EXPECT_EQ(moved.notices[0].to_string(),
            "test.conf:2: dead_peers.poll_interval_ms: moved to consul.gossip_poll_interval_ms: read as "
            "consul.gossip_poll_interval_ms; rename it");
  // Its range still holds under the new name.
  EXPECT_FALSE(load_with("dead_peers", "poll_interval_ms = 1;").config);
  // The new name wins when the file sets both.
  const auto both = load(kRequired + "consul: { gossip_poll_interval_ms = 400; };\n" +
                         "dead_peers: { poll_interval_ms = 300; };\n");
  ASSERT_TRUE(both.config) << all_errors(both);
  EXPECT_EQ(both.config->consul.gossip_poll_interval_ms, 400);
  ASSERT_EQ(both.notices.size(), 1u);
  EXPECT_TRUE(contains(both.notices[0].message, "ignored, the file sets consul.gossip_poll_interval_ms too"));
  EXPECT_TRUE(load(kRequired).notices.empty());
}

TEST(ConfigLoadTest, UnknownKeyInWrongGroupSuggestsTheKeyWithThatName) {
  const auto error = only_error(load_with("consul", "interval_ms = 1000;"));
  EXPECT_EQ(error.message, "unknown key; did you mean loop.interval_ms?");
}

TEST(ConfigLoadTest, UnknownTopLevelKeySuggestsTheGroupedKey) {
  const auto error = only_error(load(kRequired + "level = \"debug\";\n"));
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.key, "level");
  EXPECT_EQ(error.message, "unknown key; did you mean log.level?");
}

TEST(ConfigLoadTest, UnknownGroupWithSuggestionAndNoErrorsForItsMembers) {
  const auto error = only_error(load(kRequired + "\nconsl: {\n  port = 8500;\n  bogus = 1;\n};\n"));
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.key, "consl");
  EXPECT_EQ(error.message, "unknown group; did you mean consul?");
}

TEST(ConfigLoadTest, UnknownGroupFarFromAnyGroup) {
  const auto error = only_error(load(kRequired + "metrics: { port = 9100; };\n"));
  EXPECT_EQ(error.message, "unknown group");
}

TEST(ConfigLoadTest, GroupWrittenAsValue) {
  const auto error = only_error(load(kRequired + "consul = 8500;\n"));
  EXPECT_EQ(error.key, "consul");
  EXPECT_EQ(error.message, "expected a group, got int");
}

// ---- types and ranges ---------------------------------------------------------

TEST(ConfigLoadTest, WrongTypeNamesExpectedTypeAndLine) {
  const auto error = only_error(load(kRequired + "consul: {\n  port = \"8500\";\n};\n"));
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.key, "consul.port");
  EXPECT_EQ(error.message, "expected int, got string");
}

TEST(ConfigLoadTest, FloatWhereIntExpected) {
  const auto error = only_error(load_with("loop", "interval_ms = 1000.0;"));
  EXPECT_EQ(error.key, "loop.interval_ms");
  EXPECT_EQ(error.message, "expected int, got float");
}

TEST(ConfigLoadTest, GroupWhereValueExpected) {
  const auto error = only_error(load_with("log", "level = { };"));
  EXPECT_EQ(error.message, "expected string, got group");
}

TEST(ConfigLoadTest, Int64LiteralAcceptedForIntKey) {
  const auto result = load_with("consul", "port = 8501L;");
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->consul.port, 8501);
}

TEST(ConfigLoadTest, OutOfRangeNamesTheRange) {
  const auto error = only_error(load(kRequired + "api: {\n  port = 70000;\n};\n"));
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.key, "api.port");
  EXPECT_EQ(error.message, "out of range: allowed 1..65535, got 70000");
}

TEST(ConfigLoadTest, Int64OutOfRange) {
  const auto error = only_error(load_with("api", "port = 70000L;"));
  EXPECT_EQ(error.message, "out of range: allowed 1..65535, got 70000");
}

// libconfig 1.5 would store 4294975796 as 8500: a valid port the operator
// never wrote.
TEST(ConfigLoadTest, IntegerLiteralLibconfigWouldTruncateIsRefused) {
  const auto error = only_error(load(kRequired + "consul: {\n  port = 4294975796;\n};\n"));
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.key, "consul.port");
  EXPECT_TRUE(contains(error.message, "integer literal too large"));
}

TEST(ConfigLoadTest, NumbersInCommentsAndStringsAreNotScanned) {
  const auto result = load(kRequired + "# port = 4294975796\n/* 99999999999 */ consul: { key_prefix = \"p99999999999\"; };\n");
  EXPECT_TRUE(result.config) << all_errors(result);
}

TEST(ConfigLoadTest, EnumValueNotAllowedListsTheAllowedValues) {
  const auto error = only_error(load_with("log", "level = \"verbose\";"));
  EXPECT_EQ(error.key, "log.level");
  EXPECT_EQ(error.message, "not an allowed value: allowed trace, debug, info, warn, error, got \"verbose\"");
}

TEST(ConfigLoadTest, RequiredKeysMissingHaveNoLine) {
  const auto result = load("log: { level = \"debug\"; };\n");
  ASSERT_EQ(result.errors.size(), 2u) << all_errors(result);
  EXPECT_EQ(result.errors[0].to_string(), "test.conf: node.name: required key missing");
  EXPECT_EQ(result.errors[1].to_string(), "test.conf: node.address: required key missing");
}

TEST(ConfigLoadTest, EmptyTextMissesOnlyTheRequiredKeys) {
  EXPECT_EQ(load("").errors.size(), 2u);
}

// ---- value formats ------------------------------------------------------------

LoadResult load_node(const std::string& name, const std::string& address) {
  return load("node: { name = \"" + name + "\"; address = \"" + address + "\"; };\n");
}

TEST(ConfigLoadTest, NodeNameFormat) {
  for (const std::string& good : std::vector<std::string>{"n", "node-1", "0a", "a-", std::string(63, 'x')}) {
    EXPECT_TRUE(load_node(good, "198.18.0.1").config) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"", "Node1", "-n", "n_1", "n.1", "n 1", std::string(64, 'x')}) {
    const auto error = only_error(load_node(bad, "198.18.0.1"));
    EXPECT_EQ(error.key, "node.name") << bad;
  }
  EXPECT_EQ(only_error(load_node("Node1", "198.18.0.1")).message,
            "must start with a lowercase letter or digit, got \"Node1\"");
}

TEST(ConfigLoadTest, AddressWithShellSyntaxIsRefused) {
  const auto error = only_error(load_node("n1", "1.2.3.4; include /etc/shadow"));
  EXPECT_EQ(error.line, 1);
  EXPECT_EQ(error.key, "node.address");
  EXPECT_EQ(error.message,
            "is not a valid IPv4/IPv6 address or host name, got \"1.2.3.4; include /etc/shadow\"");
}

TEST(ConfigLoadTest, AddressFormats) {
  for (const std::string& good : std::vector<std::string>{"198.18.0.1", "::1", "fe80::1:2", "db-1.example.com", "localhost", "a1"}) {
    EXPECT_TRUE(load_node("n1", good).config) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"", "a b", "198.18.0.256", "1.2.3", "host;rm", "-host", "host-", "a..b",
                                "[::1]", "1.2.3.4\\n", "a,b"}) {
    EXPECT_EQ(only_error(load_node("n1", bad)).key, "node.address") << bad;
  }
}

TEST(ConfigLoadTest, ListenAndConsulHostAreCheckedLikeAddresses) {
  EXPECT_EQ(only_error(load_with("api", "listen = \"0.0.0.0 ; x\";")).key, "api.listen");
  EXPECT_EQ(only_error(load_with("consul", "host = \"a b\";")).key, "consul.host");
}

// The status API has no TLS: an address other hosts reach is refused at load.
TEST(ConfigLoadTest, TheApiListensOnLoopbackOnly) {
  for (const std::string good : {"127.0.0.1", "127.0.0.2", "::1", "localhost"})
    EXPECT_TRUE(load_with("api", "listen = \"" + good + "\";").config) << good;
  for (const std::string bad : {"0.0.0.0", "::", "198.18.0.11", "manager.example.com", "127.0.0.1.example.com"}) {
    auto error = only_error(load_with("api", "listen = \"" + bad + "\";"));
    EXPECT_EQ(error.key, "api.listen") << bad;
    EXPECT_NE(error.message.find("loopback"), std::string::npos) << error.message;
  }
}

TEST(ConfigLoadTest, ControlCharactersInValuesAreEscapedInMessages) {
  const auto error = only_error(load_node("n1", "a\\nb"));
  EXPECT_TRUE(contains(error.message, "got \"a\\x0ab\"")) << error.message;
}

TEST(ConfigLoadTest, KeyPrefixFormat) {
  for (const std::string& good : std::vector<std::string>{"ha-supervisor", "ha/cluster-1_a", "A", "9"}) {
    EXPECT_TRUE(load_with("consul", "key_prefix = \"" + good + "\";").config) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"", "/ha", "ha/", "a/../b", "a..b", "a//b", "a.b", "a b", "_a"}) {
    EXPECT_EQ(only_error(load_with("consul", "key_prefix = \"" + bad + "\";")).key, "consul.key_prefix") << bad;
  }
  EXPECT_EQ(only_error(load_with("consul", "key_prefix = \"a/../b\";")).message,
            "must not contain \"..\", got \"a/../b\"");
  EXPECT_EQ(only_error(load_with("consul", "key_prefix = \"ha/\";")).message, "must not end with '/', got \"ha/\"");
}

// ---- the token ----------------------------------------------------------------

TEST(ConfigTokenTest, InlineTokenIsLoaded) {
  const auto result = load_with("consul", "token = \"" + kSecret + "\";");
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->consul.token, kSecret);
}

TEST(ConfigTokenTest, TokenFileIsReadAndTrailingWhitespaceStripped) {
  TempDir dir;
  const auto token_file = dir.write("token", kSecret + " \r\n\n");
  const auto result = load_with("consul", "token_file = \"" + token_file + "\";");
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->consul.token, kSecret);
  EXPECT_EQ(result.config->consul.token_file, token_file);
}

TEST(ConfigTokenTest, RelativeTokenFileIsRelativeToTheConfigFile) {
  TempDir dir;
  dir.write("token", kSecret + "\n");
  const auto config_file = dir.write("ha.conf", kRequired + "consul: { token_file = \"token\"; };\n");
  const auto result = load_file(config_file);
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->consul.token, kSecret);
}

TEST(ConfigTokenTest, TokenAndTokenFileBothSet) {
  TempDir dir;
  const auto token_file = dir.write("token", kSecret);
  const auto error = only_error(
      load(kRequired + "consul: {\n  token = \"other\";\n  token_file = \"" + token_file + "\";\n};\n"));
  EXPECT_EQ(error.line, 4);
  EXPECT_EQ(error.key, "consul.token_file");
  EXPECT_EQ(error.message, "consul.token and consul.token_file are both set; set only one");
}

TEST(ConfigTokenTest, UnreadableTokenFile) {
  TempDir dir;
  const auto missing = dir.path() + "/absent";
  const auto error = only_error(load_with("consul", "token_file = \"" + missing + "\";"));
  EXPECT_EQ(error.key, "consul.token_file");
  EXPECT_EQ(error.message, "cannot read token file \"" + missing + "\": No such file or directory");

  const auto not_a_file = only_error(load_with("consul", "token_file = \"" + dir.path() + "\";"));
  EXPECT_TRUE(contains(not_a_file.message, "not a regular file"));
}

// consul.ca_file is loaded as the engine loads it: a file that cannot serve
// stops the start with its name (no fallback to plain HTTP).
TEST(ConfigCaFileTest, AFileWithoutACertificateOrMissingIsRefused) {
  TempDir dir;
  const auto not_pem = dir.write("ca.pem", "not a certificate\n");
  const auto error = only_error(load_with("consul", "ca_file = \"" + not_pem + "\";"));
  EXPECT_EQ(error.key, "consul.ca_file");
  EXPECT_TRUE(contains(error.message, "CA file " + not_pem + ": no PEM certificate could be loaded")) << error.message;
  const auto missing = only_error(load_with("consul", "ca_file = \"" + dir.path() + "/absent.pem\";"));
  EXPECT_EQ(missing.message, "CA file " + dir.path() + "/absent.pem cannot be read");
}

TEST(ConfigCaFileTest, ACertificateIsAccepted) {
  TempDir dir;
  const std::string ca = dir.path() + "/ca.pem";
  const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" +
                              dir.path() + "/ca.key' -out '" + ca + "' -subj /CN=test -days 1 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto result = load_with("consul", "ca_file = \"" + ca + "\";");
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->consul.ca_file, ca);
}

TEST(ConfigTokenTest, EmptyTokenFile) {
  TempDir dir;
  const auto token_file = dir.write("token", " \n\n");
  const auto error = only_error(load_with("consul", "token_file = \"" + token_file + "\";"));
  EXPECT_EQ(error.message, "token file \"" + token_file + "\" is empty");
}

// Every way the token can meet an error, a listing or a diff: its value must
// never appear.
TEST(ConfigTokenTest, TokenValueIsNeverPrinted) {
  TempDir dir;
  const auto good_file = dir.write("good", kSecret + "\n");
  const auto spaced_file = dir.write("spaced", kSecret + " and more\n");
  std::string printed;
  const auto print = [&](const LoadResult& result) {
    EXPECT_FALSE(result.errors.empty());
    printed += all_errors(result);
  };
  print(load_with("consul", "token = \"" + kSecret + "\"; token_file = \"" + good_file + "\";"));
  print(load_with("consul", "token = \"" + kSecret + " x\";"));
  print(load_with("consul", "token = \"" + kSecret + "\n\";"));
  print(load_with("consul", "token_file = \"" + spaced_file + "\";"));
  print(load_with("consul", "token = \"" + kSecret + "\"; tokn = \"" + kSecret + "\";"));
  print(load_with("consul", "token = \"" + kSecret + "\"; port = 0;"));
  print(load_with("consul", "token = " + kSecret + ";"));
  print(load_with("consul", "token = \"" + kSecret + ";"));

  auto running = valid_config();
  auto loaded = running;
  running.consul.token = "old-" + kSecret;
  loaded.consul.token = kSecret;
  const auto changes = diff(running, loaded);
  ASSERT_EQ(changes.live, std::vector<std::string>{"consul.token"});
  for (const auto& key : changes.live) printed += key + "\n";
  printed += describe_schema();
  for (const auto& key : all_keys()) printed += value_text(key, loaded) + "\n";

  EXPECT_EQ(printed.find(kSecret), std::string::npos) << printed;
  EXPECT_TRUE(contains(printed, "consul.token"));
}

// ---- rules between keys -------------------------------------------------------

TEST(ConfigRuleTest, DefaultsObeyEveryRule) {
  EXPECT_TRUE(load(kRequired).config);
}

TEST(ConfigRuleTest, CutOffSlowerThanTakeoverIsSplitBrainRisk) {
  const auto error = only_error(load(kRequired +
                                     "consul: {\n"
                                     "  lock_delay_ms = 1000;\n"
                                     "  quorum_loss_timeout_ms = 6000;\n"
                                     "};\n"));
  EXPECT_EQ(error.line, 4);  // the rule's first key the file sets
  EXPECT_EQ(error.key, "consul.quorum_loss_timeout_ms");
  EXPECT_EQ(error.message,
            "split-brain risk: consul.quorum_loss_timeout_ms (6000) + consul.probe_interval_ms (500) = 6500 "
            "must be <= consul.lock_delay_ms (1000) + 1200 = 2200; a node cut off from Consul would still act "
            "as leader after another node can take the lock");
}

TEST(ConfigRuleTest, CutOffEqualToTakeoverIsAllowed) {
  EXPECT_TRUE(load_with("consul", "lock_delay_ms = 3000; quorum_loss_timeout_ms = 3700;").config);
}

TEST(ConfigRuleTest, RequestTimeoutMustBeBelowQuorumLossTimeout) {
  const auto error = only_error(load_with("consul", "request_timeout_ms = 4000;"));
  EXPECT_EQ(error.key, "consul.request_timeout_ms");
  EXPECT_EQ(error.message,
            "consul.request_timeout_ms (4000) must be < consul.quorum_loss_timeout_ms (4000); a single hung call "
            "must not outlast the cut-off bound");
}

TEST(ConfigRuleTest, TwoProbesMustFitInQuorumLossTimeout) {
  const auto error =
      only_error(load_with("consul", "quorum_loss_timeout_ms = 3000; probe_interval_ms = 2000; lock_delay_ms = 4000;"));
  EXPECT_EQ(error.key, "consul.probe_interval_ms");
  EXPECT_EQ(error.message,
            "consul.probe_interval_ms (2000) * 2 = 4000 must be <= consul.quorum_loss_timeout_ms (3000); at least "
            "two probes must fit inside the cut-off bound");
}

TEST(ConfigRuleTest, CheckTtlMustCoverTwoCycles) {
  const auto error = only_error(load_with("consul", "check_ttl_ms = 1500;"));
  EXPECT_EQ(error.key, "consul.check_ttl_ms");
  EXPECT_EQ(error.message,
            "consul.check_ttl_ms (1500) must be >= 2 * loop.interval_ms (1000) = 2000; one late cycle must not "
            "fail the liveness check");
}

TEST(ConfigRuleTest, RuleErrorPointsAtTheKeyTheFileSets) {
  const auto error = only_error(load(kRequired + "\nloop: {\n  interval_ms = 2000;\n};\n"));
  EXPECT_EQ(error.line, 4);
  EXPECT_EQ(error.key, "loop.interval_ms");
  EXPECT_TRUE(contains(error.message, "consul.check_ttl_ms (3000) must be >= 2 * loop.interval_ms (2000)"));
}

TEST(ConfigRuleTest, SessionTtlIsZeroOrWithinConsulBounds) {
  for (const int good : {0, 10, 15, 86400}) {
    EXPECT_TRUE(load_with("consul", "session_ttl_s = " + std::to_string(good) + ";").config) << good;
  }
  for (const int bad : {1, 9, 86401, -1}) {
    const auto error = only_error(load_with("consul", "session_ttl_s = " + std::to_string(bad) + ";"));
    EXPECT_EQ(error.message, "out of range: allowed 0 or 10..86400, got " + std::to_string(bad));
  }
}

TEST(ConfigRuleTest, RuleIsSkippedWhenOneOfItsKeysWasRefused) {
  // quorum_loss_timeout_ms is refused, so rules reading it would only judge
  // its default.
  const auto error = only_error(load_with("consul", "quorum_loss_timeout_ms = \"5s\"; request_timeout_ms = 4500;"));
  EXPECT_EQ(error.key, "consul.quorum_loss_timeout_ms");
}

// ---- many errors at once ------------------------------------------------------

TEST(ConfigLoadTest, AllErrorsAreReportedSortedByLine) {
  const auto result = load(
      "log: { level = \"loud\"; };\n"              // 1: enum
      "consul: {\n"                                // 2
      "  port = 0;\n"                              // 3: range
      "  probe_interval_ms = 2000; quorum_loss_timeout_ms = 3000; lock_delay_ms = 4000;\n"  // 4: rule 3 (at line 4)
      "  hots = \"x\";\n"                          // 5: unknown key
      "};\n"                                       // 6
      "node: { name = \"Bad\"; };\n"               // 7: format; node.address missing (line 0)
      "loop: { interval_ms = 1.5; };\n"            // 8: type
      "apii: { };\n");                             // 9: unknown group
  ASSERT_EQ(result.errors.size(), 8u) << all_errors(result);
  EXPECT_FALSE(result.config);
  std::vector<int> lines;
  for (const auto& error : result.errors) lines.push_back(error.line);
  EXPECT_EQ(lines, (std::vector<int>{0, 1, 3, 4, 5, 7, 8, 9})) << all_errors(result);
  EXPECT_EQ(result.errors[0].key, "node.address");
  EXPECT_EQ(result.errors[3].key, "consul.probe_interval_ms");
  EXPECT_EQ(result.errors[4].message, "unknown key; did you mean consul.host?");
}

// ---- loading values -----------------------------------------------------------

TEST(ConfigLoadTest, OnlyRequiredKeysGiveDefaultsElsewhere) {
  const auto config = valid_config();
  const Config defaults;
  EXPECT_EQ(config.node.name, "n1");
  EXPECT_EQ(config.node.address, "127.0.0.1");
  Config expected = defaults;
  expected.node = config.node;
  const auto changes = diff(expected, config);
  EXPECT_TRUE(changes.live.empty());
  EXPECT_TRUE(changes.needs_restart.empty());
}

TEST(ConfigLoadTest, FullFileGivesExactlyTheValuesWritten) {
  const auto result = load(
      "node: { name = \"db-2\"; address = \"fd00::2\"; known_nodes_file = \"/s/known.json\";\n"
      "        settings_file = \"/s/settings.json\"; };\n"
      "consul: {\n"
      "  host = \"consul.local\"; port = 8600; token = \"abc-123\"; token_file = \"\";\n"
      "  key_prefix = \"prod/ha\"; request_timeout_ms = 1500; session_ttl_s = 0;\n"
      "  lock_delay_ms = 4500; check_ttl_ms = 4000; quorum_loss_timeout_ms = 4500;\n"
      "  probe_interval_ms = 1000; gossip_poll_interval_ms = 100; blocking_wait_s = 60;\n"
      "};\n"
      "cluster: { durability = \"strict\"; gate_durability_file = \"/r/gate-rule\"; };\n"
      "loop: { interval_ms = 2000; log_repeat_s = 120; };\n"
      "api: { listen = \"127.0.0.2\"; port = 9000; token_file = \"/r/t\"; };\n"
      "log: { level = \"debug\"; };\n"
      "vip: { address = \"198.18.0.100/24\"; interface = \"br-lab\"; virtual_router_id = 7; priority = 150;\n"
      "  advert_interval_ms = 200; keepalived_conf = \"/etc/k/k.conf\"; template = \"/t/k.mustache\";\n"
      "  track_file = \"/run/x/fault\"; keepalived_unit = \"ka.service\"; notify_fifo = \"/run/x/fifo\";\n"
      "  unfit_grace_ms = 1000; election_grace_ms = 2000; db_primary_weight = 5; preference_file = \"/run/x/pref\";\n"
      "  vrrp_filter = false; nft = \"/b/nft\"; heartbeat_file = \"/r/alive\"; heartbeat_max_age_s = 20;\n"
      "  heartbeat_check = \"/b/fresh\"; };\n"
      "systemd: { watch_units = \"consul.service,x@1.service\"; bus_address = \"unix:path=/b/s\"; };\n"
      "nginx: { enabled = true; services = \"rest-service,gate\"; template = \"/t/n.mustache\";\n"
      "  conf_path = \"/e/n.conf\"; unit = \"n.service\"; binary = \"/b/nginx\"; listen_port = 8080;\n"
      "  listen_address = \"127.0.0.1\";\n"
      "  user = \"nobody\"; runtime_dir = \"/r/n\"; log_dir = \"/l/n\"; resources_dir = \"/o/r\";\n"
      "  status_page_users_file = \"/e/h/users\";\n"
      "  wait_min_ms = 20; wait_max_ms = 500; reload_interval_ms = 300; check_timeout_ms = 900;\n"
      "  max_requests_per_client = 7; max_requests = 70; upstream_read_timeout_s = 77; };\n"
      "db: { backend = \"patroni\"; scope = \"mgr\"; patroni_namespace = \"ns\"; stolon_prefix = \"st/c\";\n"
      "  endpoint = \"host=a,b port=1,2\"; local = \"host=127.0.0.1 port=6432\"; secrets_file = \"/s/f\";\n"
      "  peer_network = \"203.0.113.0/24\"; port = 6432; api_port = 8009; data_dir = \"/d\"; bin_dir = \"/b\";\n"
      "  runtime_dir = \"/r\"; log_dir = \"/l\"; patroni_template = \"/t/p\"; bootstrap_template = \"/t/b\";\n"
      "  patroni_conf = \"/e/p\"; bootstrap_sql = \"/e/b\"; post_bootstrap = \"/u/pb\"; unit = \"p.service\";\n"
      "  stolonctl = \"/s/ctl\"; stolon_spec_template = \"/t/s\"; stolon_spec_file = \"/e/s\";\n"
      "  stolon_units = \"a.service\"; stolon_keeper_port = 6543;\n"
      "  ttl_s = 12; loop_wait_s = 2; retry_timeout_s = 3; synchronous = \"strict\"; manager_user = \"mu\";\n"
      "  manager_database = \"md\"; rest_conninfo_file = \"/e/r/db\"; rest_conninfo = \"host=h dbname=md\";\n"
      "  rest_unit = \"r.service\"; probe_interval_ms = 500; probe_timeout_ms = 400; unfit_after_ms = 5000; };\n"
      "files: { enabled = true; folders = \"/o/r,/o/s\"; api_address = \"127.0.0.2\"; api_port = 8385;\n"
      "  api_key_file = \"/e/s/key\"; gate_api_key_file = \"/e/g/key\"; sync_port = 22001; unit = \"s.service\"; poll_interval_ms = 500;\n"
      "  unfit_after_ms = 4000; conflict_scan_interval_ms = 5000; };\n"
      "dead_peers: { enabled = true; nft = \"/b/nft2\"; script_file = \"/r/dp.nft\";\n"
      "  consul_serf_port = 8302; consul_server_port = 8299; };\n"
      "members_only: { enabled = true; ports = \"8100,8443\"; nft = \"/b/nft3\"; script_file = \"/r/mo.nft\"; };\n"
      "switchover: { hold_writes = false; write_hold_file = \"/r/hold\"; write_held_file = \"/r/held\"; };\n"
      "broker: { enabled = true; unit = \"b.service\"; template = \"/t/r\"; conf_path = \"/e/r.conf\";\n"
      "  conf_group = \"rmq\"; definitions_file = \"/e/d.json\"; password_file = \"/e/p\";\n"
      "  cookie_fingerprint_file = \"/e/c\"; amqp_address = \"198.51.100.7\"; amqp_port = 5673;\n"
      "  management_port = 15673; partition_handling = \"autoheal\"; memory_high_watermark = \"0.5\";\n"
      "  poll_interval_ms = 500; request_timeout_ms = 1500; unfit_after_ms = 4000; start_grace_ms = 20000;\n"
      "  stuck_after_ms = 90000;\n"
      "  retry_after_ms = 10000; };\n");
  ASSERT_TRUE(result.config) << all_errors(result);
  const auto& c = *result.config;
  EXPECT_EQ(c.db.backend, "patroni");
  EXPECT_EQ(c.db.scope, "mgr");
  EXPECT_EQ(c.db.endpoint, "host=a,b port=1,2");
  EXPECT_EQ(c.db.peer_network, "203.0.113.0/24");
  EXPECT_EQ(c.db.ttl_s, 12);
  EXPECT_EQ(c.db.retry_timeout_s, 3);
  EXPECT_EQ(c.db.synchronous, "strict");
  EXPECT_EQ(c.cluster.durability, "strict");
  EXPECT_EQ(c.cluster.gate_durability_file, "/r/gate-rule");
  EXPECT_EQ(c.db.unfit_after_ms, 5000);
  EXPECT_TRUE(c.nginx.enabled);
  EXPECT_EQ(c.nginx.services, "rest-service,gate");
  EXPECT_EQ(c.nginx.template_path, "/t/n.mustache");
  EXPECT_EQ(c.nginx.conf_path, "/e/n.conf");
  EXPECT_EQ(c.nginx.unit, "n.service");
  EXPECT_EQ(c.nginx.binary, "/b/nginx");
  EXPECT_EQ(c.nginx.listen_port, 8080);
  EXPECT_EQ(c.nginx.listen_address, "127.0.0.1");
  EXPECT_EQ(c.nginx.user, "nobody");
  EXPECT_EQ(c.nginx.runtime_dir, "/r/n");
  EXPECT_EQ(c.nginx.log_dir, "/l/n");
  EXPECT_EQ(c.nginx.resources_dir, "/o/r");
  EXPECT_EQ(c.nginx.status_page_users_file, "/e/h/users");
  EXPECT_EQ(c.nginx.wait_min_ms, 20);
  EXPECT_EQ(c.nginx.wait_max_ms, 500);
  EXPECT_EQ(c.nginx.reload_interval_ms, 300);
  EXPECT_EQ(c.nginx.check_timeout_ms, 900);
  EXPECT_EQ(c.nginx.max_requests_per_client, 7);
  EXPECT_EQ(c.nginx.max_requests, 70);
  EXPECT_EQ(c.nginx.upstream_read_timeout_s, 77);
  EXPECT_EQ(c.vip.address, "198.18.0.100/24");
  EXPECT_EQ(c.vip.interface, "br-lab");
  EXPECT_EQ(c.vip.virtual_router_id, 7);
  EXPECT_EQ(c.vip.priority, 150);
  EXPECT_EQ(c.vip.advert_interval_ms, 200);
  EXPECT_EQ(c.vip.keepalived_conf, "/etc/k/k.conf");
  EXPECT_EQ(c.vip.template_path, "/t/k.mustache");
  EXPECT_EQ(c.vip.track_file, "/run/x/fault");
  EXPECT_EQ(c.vip.keepalived_unit, "ka.service");
  EXPECT_EQ(c.vip.notify_fifo, "/run/x/fifo");
  EXPECT_EQ(c.systemd.watch_units, "consul.service,x@1.service");
  EXPECT_EQ(c.systemd.bus_address, "unix:path=/b/s");
  EXPECT_EQ(c.node.name, "db-2");
  EXPECT_EQ(c.node.address, "fd00::2");
  EXPECT_EQ(c.node.known_nodes_file, "/s/known.json");
  EXPECT_EQ(c.node.settings_file, "/s/settings.json");
  EXPECT_EQ(c.consul.host, "consul.local");
  EXPECT_EQ(c.consul.port, 8600);
  EXPECT_EQ(c.consul.token, "abc-123");
  EXPECT_EQ(c.consul.token_file, "");
  EXPECT_EQ(c.consul.key_prefix, "prod/ha");
  EXPECT_EQ(c.consul.request_timeout_ms, 1500);
  EXPECT_EQ(c.consul.session_ttl_s, 0);
  EXPECT_EQ(c.consul.lock_delay_ms, 4500);
  EXPECT_EQ(c.consul.check_ttl_ms, 4000);
  EXPECT_EQ(c.consul.quorum_loss_timeout_ms, 4500);
  EXPECT_EQ(c.consul.probe_interval_ms, 1000);
  EXPECT_EQ(c.consul.gossip_poll_interval_ms, 100);
  EXPECT_EQ(c.consul.blocking_wait_s, 60);
  EXPECT_EQ(c.loop.interval_ms, 2000);
  EXPECT_EQ(c.loop.log_repeat_s, 120);
  EXPECT_EQ(c.api.listen, "127.0.0.2");
  EXPECT_EQ(c.api.port, 9000);
  EXPECT_EQ(c.api.token_file, "/r/t");
  EXPECT_FALSE(c.vip.vrrp_filter);
  EXPECT_EQ(c.vip.nft, "/b/nft");
  EXPECT_EQ(c.vip.heartbeat_file, "/r/alive");
  EXPECT_EQ(c.vip.heartbeat_max_age_s, 20);
  EXPECT_EQ(c.vip.heartbeat_check, "/b/fresh");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.db.rest_conninfo_file, "/e/r/db");
  EXPECT_EQ(c.db.rest_conninfo, "host=h dbname=md");
  EXPECT_EQ(c.db.rest_unit, "r.service");
  EXPECT_TRUE(c.files.enabled);
  EXPECT_EQ(c.files.folders, "/o/r,/o/s");
  EXPECT_EQ(c.files.api_address, "127.0.0.2");
  EXPECT_EQ(c.files.api_port, 8385);
  EXPECT_EQ(c.files.api_key_file, "/e/s/key");
  EXPECT_EQ(c.files.gate_api_key_file, "/e/g/key");
  EXPECT_EQ(c.files.sync_port, 22001);
  EXPECT_EQ(c.files.unit, "s.service");
  EXPECT_EQ(c.files.poll_interval_ms, 500);
  EXPECT_EQ(c.files.unfit_after_ms, 4000);
  EXPECT_EQ(c.files.conflict_scan_interval_ms, 5000);
  EXPECT_TRUE(c.dead_peers.enabled);
  EXPECT_EQ(c.dead_peers.nft, "/b/nft2");
  EXPECT_EQ(c.dead_peers.script_file, "/r/dp.nft");
  EXPECT_EQ(c.dead_peers.consul_serf_port, 8302);
  EXPECT_EQ(c.dead_peers.consul_server_port, 8299);
  EXPECT_TRUE(c.members_only.enabled);
  EXPECT_EQ(c.members_only.ports, "8100,8443");
  EXPECT_EQ(c.members_only.nft, "/b/nft3");
  EXPECT_EQ(c.members_only.script_file, "/r/mo.nft");
  EXPECT_FALSE(c.switchover.hold_writes);
  EXPECT_EQ(c.switchover.write_hold_file, "/r/hold");
  EXPECT_EQ(c.switchover.write_held_file, "/r/held");
  EXPECT_TRUE(c.broker.enabled);
  EXPECT_EQ(c.broker.template_path, "/t/r");
  EXPECT_EQ(c.broker.partition_handling, "autoheal");
  EXPECT_EQ(c.broker.stuck_after_ms, 90000);
  // Every key differs from its default except token_file and ca_file (each
  // names a file the load reads: ConfigTokenTest, ConfigCaFileTest): the
  // test above really covers the whole schema.
  const auto changes = diff(Config{}, c);
  EXPECT_EQ(changes.live.size() + changes.needs_restart.size(), all_keys().size() - 2);
}

TEST(ConfigLoadTest, DatabaseTimingBudgetIsChecked) {
  // Patroni: the leader's TTL must hold a loop and two retries.
  auto errors = all_errors(load_with("db", "backend = \"patroni\"; peer_network = \"198.18.0.0/24\"; ttl_s = 8;"));
  EXPECT_TRUE(contains(errors, "db.ttl_s (8) must be >= db.loop_wait_s (1) + 2 * db.retry_timeout_s (4) = 9"));
  errors = all_errors(load_with("db", "backend = \"patroni\"; peer_network = \"198.18.0.0/24\"; retry_timeout_s = 1;"));
  EXPECT_TRUE(contains(errors, "db.retry_timeout_s"));
  errors = all_errors(load_with("db", "backend = \"patroni\";"));
  EXPECT_TRUE(contains(errors, "db.peer_network must be set with db.backend = patroni"));
  errors = all_errors(load_with("db", "probe_interval_ms = 1000; probe_timeout_ms = 1500;"));
  EXPECT_TRUE(contains(errors, "db.probe_timeout_ms (1500) must be <= db.probe_interval_ms (1000)"));
  errors = all_errors(load_with("db", "endpoint = \"postgres://h/db\";"));
  EXPECT_TRUE(contains(errors, "db.endpoint: must be keyword=value pairs, not a URI"));
  errors = all_errors(load_with("db", "synchronous = \"maybe\";"));
  EXPECT_TRUE(contains(errors, "db.synchronous"));
  EXPECT_TRUE(load_with("db", "backend = \"patroni\"; peer_network = \"198.18.0.0/24\";").config);
}

// One durability rule: db.synchronous may not say the opposite of
// cluster.durability about a node alone, and stolon (always waiting for a
// standby) runs only strict.
TEST(ConfigLoadTest, TheDatabaseFollowsTheOneDurabilityRule) {
  const std::string patroni = "db: { backend = \"patroni\"; peer_network = \"198.18.0.0/24\"; ";
  auto loaded = load(kRequired + patroni + "};\n");
  ASSERT_TRUE(loaded.config);
  EXPECT_EQ(loaded.config->cluster.durability, "available") << "two managers stay writable by default";
  auto errors = all_errors(load(kRequired + patroni + "synchronous = \"quorum-strict\"; };\n"));
  EXPECT_TRUE(contains(errors, "db.synchronous = \"quorum-strict\" blocks commits without a standby, but "
                               "cluster.durability is \"available\"")) << errors;
  EXPECT_TRUE(load(kRequired + "cluster: { durability = \"strict\"; };\n" + patroni + "synchronous = \"quorum-strict\"; };\n").config);
  errors = all_errors(load(kRequired + "cluster: { durability = \"strict\"; };\n" + patroni + "synchronous = \"off\"; };\n"));
  EXPECT_TRUE(contains(errors, "cannot keep cluster.durability = \"strict\"")) << errors;
  errors = all_errors(load(kRequired + "db: { backend = \"stolon\"; };\n"));
  EXPECT_TRUE(contains(errors, "db.backend = stolon needs cluster.durability = \"strict\"")) << errors;
  EXPECT_TRUE(load(kRequired + "cluster: { durability = \"strict\"; };\ndb: { backend = \"stolon\"; };\n").config);
  errors = all_errors(load(kRequired + "cluster: { durability = \"sometimes\"; };\n"));
  EXPECT_TRUE(contains(errors, "cluster.durability")) << errors;
}

TEST(ConfigLoadTest, FloatingIpValuesAreChecked) {
  auto errors = all_errors(load_with("vip", "address = \"198.18.0.100\";"));
  EXPECT_TRUE(contains(errors, "vip.address: must be an IPv4 address with its prefix length"));
  errors = all_errors(load_with("vip", "address = \"198.18.0.100/33\";"));
  EXPECT_TRUE(contains(errors, "prefix length must be 1..32"));
  errors = all_errors(load_with("vip", "advert_interval_ms = 50;"));
  EXPECT_TRUE(contains(errors, "vip.advert_interval_ms: out of range: allowed 100..40950, got 50")) << errors;
  errors = all_errors(load_with("vip", "advert_interval_ms = 105;"));
  EXPECT_TRUE(contains(errors, "must be a multiple of 10 ms")) << errors;
  errors = all_errors(load_with("vip", "interface = \"eth0; rm -rf\";"));
  EXPECT_TRUE(contains(errors, "vip.interface: may contain only")) << errors;
  errors = all_errors(load_with("vip", "track_file = \"/run/a b\";"));
  EXPECT_TRUE(contains(errors, "vip.track_file: may contain only")) << errors;
  errors = all_errors(load_with("vip", "virtual_router_id = 256;"));
  EXPECT_TRUE(contains(errors, "allowed 1..255")) << errors;
}

TEST(ConfigLoadTest, NginxValuesAreChecked) {
  auto errors = all_errors(load_with("nginx", "services = \"rest service\";"));
  EXPECT_TRUE(contains(errors, "nginx.services: service names may contain only")) << errors;
  errors = all_errors(load_with("nginx", "services = \"a,,b\";"));
  EXPECT_TRUE(contains(errors, "nginx.services: each service name must be 1..64 characters")) << errors;
  errors = all_errors(load_with("nginx", "user = \"www data\";"));
  EXPECT_TRUE(contains(errors, "nginx.user: may contain only")) << errors;
  errors = all_errors(load_with("nginx", "wait_min_ms = 2000; wait_max_ms = 1000;"));
  EXPECT_TRUE(contains(errors, "nginx.wait_min_ms (2000) must not exceed nginx.wait_max_ms (1000)")) << errors;
  errors = all_errors(load_with("nginx", "conf_path = \"etc/n.conf\";"));
  EXPECT_TRUE(contains(errors, "nginx.conf_path:")) << errors;
}

TEST(ConfigLoadTest, LoadFileReportsTheFileNameAndLines) {
  TempDir dir;
  const auto path = dir.write("ha.conf", kRequired + "\nconsul: { prot = 8500; };\n");
  const auto error = only_error(load_file(path));
  EXPECT_EQ(error.file, path);
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.to_string(), path + ":3: consul.prot: unknown key; did you mean consul.port?");
}

TEST(ConfigLoadTest, LoadFileOfMissingFile) {
  TempDir dir;
  const auto path = dir.path() + "/absent.conf";
  const auto error = only_error(load_file(path));
  EXPECT_EQ(error.to_string(), path + ": cannot read configuration: No such file or directory");
}

TEST(ConfigLoadTest, ExampleFileLoadsAndListsEveryKey) {
  const std::string path = HA_SOURCE_DIR "/supervisor/config/ha-supervisor.conf.example";
  const auto result = load_file(path);
  ASSERT_TRUE(result.config) << all_errors(result);

  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& key : all_keys()) {
    const auto group = std::string(key.group());
    const auto leaf = std::string(key.path.substr(group.size() + 1));
    EXPECT_TRUE(contains(text, "\n" + group + ":\n")) << key.path;
    EXPECT_TRUE(contains(text, "  " + leaf + " = ")) << key.path;
  }
}

// ---- reload diff and schema listing -------------------------------------------

TEST(ConfigDiffTest, SplitsLiveAndRestartKeys) {
  const auto running = valid_config();
  auto loaded = running;
  loaded.loop.interval_ms = 2000;
  loaded.log.level = "debug";
  loaded.consul.quorum_loss_timeout_ms = 4500;
  loaded.node.name = "n2";
  loaded.api.port = 9000;
  loaded.consul.session_ttl_s = 30;
  const auto changes = diff(running, loaded);
  EXPECT_EQ(changes.live,
            (std::vector<std::string>{"consul.quorum_loss_timeout_ms", "loop.interval_ms", "log.level"}));
  EXPECT_EQ(changes.needs_restart, (std::vector<std::string>{"node.name", "consul.session_ttl_s", "api.port"}));
}

// A reload takes exactly the keys the schema marks live: every one of them
// (none forgotten by a hand-kept list), and nothing else.
TEST(ConfigReloadTest, ApplyLiveKeysTakesTheLiveKeysOnly) {
  auto running = valid_config();
  auto loaded = running;
  loaded.loop.interval_ms = 1400;
  loaded.nginx.wait_max_ms = 9000;
  loaded.files.conflict_scan_interval_ms = 123000;
  loaded.db.probe_timeout_ms = 700;
  loaded.node.name = "n2";
  loaded.api.port = 9000;
  const auto changes = apply_live_keys(running, loaded);
  EXPECT_EQ(running.loop.interval_ms, 1400);
  EXPECT_EQ(running.nginx.wait_max_ms, 9000);
  EXPECT_EQ(running.files.conflict_scan_interval_ms, 123000);
  EXPECT_EQ(running.db.probe_timeout_ms, 700);
  EXPECT_EQ(running.node.name, valid_config().node.name) << "node.name needs a restart";
  EXPECT_EQ(running.api.port, valid_config().api.port) << "api.port needs a restart";
  EXPECT_EQ(changes.needs_restart, (std::vector<std::string>{"node.name", "api.port"}));
  EXPECT_TRUE(diff(running, loaded).live.empty()) << "every live key was taken";
}

// A live key must not run beside a restart key's old value when the two
// together break a rule: a longer quorum-loss timeout with the old, shorter
// lock delay is a split-brain window. It waits for the restart with it.
TEST(ConfigReloadTest, ALiveKeyThatWouldBreakARuleBesideAnOldRestartKeyWaits) {
  auto running = valid_config();
  auto loaded = running;
  loaded.consul.quorum_loss_timeout_ms = 6000;  // live
  loaded.consul.lock_delay_ms = 6000;           // restart: 6000 + 500 <= 6000 + 1200 only with both
  loaded.vip.unfit_grace_ms = 2500;             // live, in no broken rule
  ASSERT_EQ(cross_key_rules().size() > 0, true);
  const auto changes = apply_live_keys(running, loaded);
  EXPECT_EQ(running.consul.quorum_loss_timeout_ms, valid_config().consul.quorum_loss_timeout_ms);
  EXPECT_EQ(running.vip.unfit_grace_ms, 2500);
  EXPECT_EQ(changes.live, std::vector<std::string>{"vip.unfit_grace_ms"});
  EXPECT_EQ(changes.needs_restart,
            (std::vector<std::string>{"consul.lock_delay_ms", "consul.quorum_loss_timeout_ms"}));
  for (const auto& rule : cross_key_rules()) EXPECT_EQ(rule.violation(running), "") << rule.summary;
}

TEST(ConfigDiffTest, IdenticalConfigsHaveNoChanges) {
  const auto config = valid_config();
  const auto changes = diff(config, config);
  EXPECT_TRUE(changes.live.empty());
  EXPECT_TRUE(changes.needs_restart.empty());
}

TEST(ConfigSchemaTest, LiveKeysAreExactlyTheReloadableOnes) {
  std::vector<std::string> live;
  for (const auto& key : all_keys()) {
    if (key.reload == Reload::live) live.emplace_back(key.path);
  }
  EXPECT_EQ(live, (std::vector<std::string>{"cluster.gate_durability_file", "consul.token", "consul.token_file",
                                            "consul.request_timeout_ms",
                                            "consul.quorum_loss_timeout_ms", "consul.probe_interval_ms",
                                            "consul.gossip_poll_interval_ms",
                                            "consul.blocking_wait_s", "loop.interval_ms", "loop.log_repeat_s",
                                            "log.level", "vip.unfit_grace_ms", "vip.election_grace_ms", "nginx.template", "nginx.wait_min_ms", "nginx.wait_max_ms",
                                            "nginx.reload_interval_ms", "nginx.check_timeout_ms",
                                            "nginx.max_requests_per_client", "nginx.max_requests",
                                            "nginx.upstream_read_timeout_s",
                                            "db.probe_interval_ms", "db.probe_timeout_ms", "db.unfit_after_ms",
                                           "files.poll_interval_ms", "files.unfit_after_ms",
                                           "files.conflict_scan_interval_ms", "broker.template",
                                            "broker.poll_interval_ms", "broker.request_timeout_ms", "broker.unfit_after_ms",
                                            "broker.start_grace_ms",
                                            "broker.stuck_after_ms", "broker.retry_after_ms"}));
}

// Help text is wrapped; joining the wrapped lines gives it back.
std::string unwrapped(std::string text) {
  for (auto at = text.find("\n    "); at != std::string::npos; at = text.find("\n    ", at)) {
    text.replace(at, 5, " ");
  }
  return text;
}

TEST(ConfigSchemaTest, DescribeListsEveryKeyWithItsDetails) {
  const auto text = unwrapped(describe_schema());
  for (const auto& key : all_keys()) {
    EXPECT_TRUE(contains(text, std::string(key.path))) << key.path;
    EXPECT_TRUE(contains(text, std::string(key.help))) << key.path;
  }
  EXPECT_TRUE(contains(text, "1..65535"));
  EXPECT_TRUE(contains(text, "0 or 10..86400"));
  EXPECT_TRUE(contains(text, "trace, debug, info, warn, error"));
  EXPECT_TRUE(contains(text, "(required)"));
  EXPECT_TRUE(contains(text, "restart"));
  EXPECT_TRUE(contains(text, "live"));
  EXPECT_TRUE(contains(text, "split-brain"));
}

}  // namespace
}  // namespace hasup::config

namespace hasup::config {
namespace {

TEST(ConfigLoadTest, FilesFoldersAndApiAddressAreChecked) {
  for (const std::string bad : {"opt/relative", "/a,/a", "/", "/a b", ""}) {
    auto result = load_with("files", "folders = \"" + bad + "\";");
    EXPECT_FALSE(result.config) << bad;
    EXPECT_NE(all_errors(result).find("files.folders"), std::string::npos) << all_errors(result);
  }
  // The API key travels in clear: the API must be on loopback.
  auto remote = load_with("files", "api_address = \"198.18.0.11\";");
  EXPECT_FALSE(remote.config);
  EXPECT_NE(all_errors(remote).find("files.api_address: must be a 127.0.0.0/8 address"), std::string::npos)
      << all_errors(remote);
  auto good = load_with("files", "folders = \"/opt/a,/opt/b\";");
  EXPECT_TRUE(good.config) << all_errors(good);
}

}  // namespace
}  // namespace hasup::config
