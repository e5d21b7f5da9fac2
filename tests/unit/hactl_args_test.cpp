// hactl's command line: each command parsed, and every word it does not
// understand named in the error instead of a bare usage text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "supervisor/cli/hactl_args.hpp"

namespace hasup::cli {
namespace {

using Kind = HactlCommand::Kind;

HactlArgs parse(std::vector<std::string> args) { return parse_hactl_args(args); }

TEST(HactlArgs, ParsesEachCommand) {
  auto status = parse({"status", "--json"});
  ASSERT_TRUE(status.command) << status.error;
  EXPECT_EQ(status.command->kind, Kind::status);
  EXPECT_TRUE(status.command->json);

  auto maintenance = parse({"--api", "127.0.0.1:9000", "maintenance", "on", "n2"});
  ASSERT_TRUE(maintenance.command) << maintenance.error;
  EXPECT_EQ(maintenance.command->kind, Kind::maintenance);
  EXPECT_TRUE(maintenance.command->maintenance_on);
  EXPECT_EQ(maintenance.command->node, "n2");
  EXPECT_EQ(*maintenance.command->api, "127.0.0.1");
  EXPECT_EQ(*maintenance.command->api_port, 9000);

  auto forget = parse({"--config", "/etc/ha-supervisor/ha-supervisor.conf", "forget", "n4"});
  ASSERT_TRUE(forget.command) << forget.error;
  EXPECT_EQ(forget.command->kind, Kind::forget);
  EXPECT_EQ(forget.command->node, "n4");
  EXPECT_EQ(*forget.command->config, "/etc/ha-supervisor/ha-supervisor.conf");

  auto with_token = parse({"--token-file", "/tmp/t", "maintenance", "on"});
  ASSERT_TRUE(with_token.command) << with_token.error;
  EXPECT_EQ(*with_token.command->token_file, "/tmp/t");
  EXPECT_EQ(parse({"--token-file"}).error, "--token-file needs a value");

  EXPECT_EQ(parse({"health"}).command->kind, Kind::health);
  EXPECT_EQ(parse({"leader"}).command->kind, Kind::leader);
}

TEST(HactlArgs, NamesTheWordItDidNotUnderstand) {
  EXPECT_EQ(parse({"statsu"}).error, "unknown command 'statsu'");
  EXPECT_EQ(parse({"--verbose", "status"}).error,
            "unknown option '--verbose' (options go before the command: --api, --config, --token-file)");
  EXPECT_EQ(parse({"status", "--yaml"}).error, "'status' does not take '--yaml'");
  EXPECT_EQ(parse({"health", "now"}).error, "'health' does not take 'now'");
  EXPECT_EQ(parse({"maintenance", "maybe"}).error, "'maintenance' wants on or off, not 'maybe'");
  EXPECT_EQ(parse({"maintenance"}).error, "'maintenance' wants on or off");
  EXPECT_EQ(parse({"maintenance", "on", "n2", "n3"}).error, "'maintenance' does not take 'n3'");
  EXPECT_EQ(parse({"forget"}).error, "'forget' wants the NODE to forget");
  EXPECT_EQ(parse({}).error, "no command given");
}

TEST(HactlArgs, Settings) {
  EXPECT_EQ(parse({"settings"}).command->kind, Kind::settings_show);
  EXPECT_TRUE(parse({"settings", "--json"}).command->json);
  EXPECT_TRUE(parse({"settings", "show", "--json"}).command->json);
  auto set = parse({"settings", "set", "vip.unfit_grace_ms=2500", "broker.memory_high_watermark=0.5", "x.y="});
  ASSERT_TRUE(set.command) << set.error;
  EXPECT_EQ(set.command->kind, Kind::settings_set);
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(set.command->settings, (std::vector<Pair>{{"vip.unfit_grace_ms", "2500"},
                                                      {"broker.memory_high_watermark", "0.5"},
                                                      {"x.y", ""}}));
  auto unset = parse({"settings", "unset", "vip.unfit_grace_ms"});
  ASSERT_TRUE(unset.command) << unset.error;
  EXPECT_EQ(unset.command->kind, Kind::settings_unset);
  EXPECT_EQ(unset.command->unset, std::vector<std::string>{"vip.unfit_grace_ms"});
  EXPECT_EQ(parse({"settings", "set"}).error, "'settings set' wants at least one key");
  EXPECT_EQ(parse({"settings", "set", "vip.unfit_grace_ms"}).error,
            "'settings set' wants KEY=VALUE (e.g. vip.unfit_grace_ms=2500), not 'vip.unfit_grace_ms'");
  EXPECT_EQ(parse({"settings", "get"}).error, "'settings' wants show, set or unset, not 'get'");
  EXPECT_EQ(parse({"settings", "show", "now"}).error, "'settings' does not take 'now'");
}

TEST(HactlArgs, RotateNamesTheSecretsThatRotateAndThoseNotBuiltYet) {
  for (const char* secret : {"db-password", "replication-password", "syncthing-key"}) {
    auto r = parse({"rotate", secret, "--timeout", "30"});
    ASSERT_TRUE(r.command) << r.error;
    EXPECT_EQ(r.command->kind, Kind::rotate);
    EXPECT_EQ(r.command->secret, secret);
    EXPECT_EQ(r.command->timeout_s, 30);
  }
  EXPECT_EQ(parse({"rotate"}).error, "'rotate' wants the secret: db-password, replication-password or syncthing-key");
  EXPECT_EQ(parse({"rotate", "consul-tokens"}).error,
            "'rotate consul-tokens' is not built yet: db-password, replication-password and syncthing-key rotate");
  EXPECT_EQ(parse({"rotate", "passwords"}).error,
            "'rotate' knows db-password, replication-password and syncthing-key, not 'passwords'");
}

TEST(HactlArgs, ColdStartShowsAcceptsDryRunsAndCancels) {
  auto show = parse({"cold-start"});
  ASSERT_TRUE(show.command) << show.error;
  EXPECT_EQ(show.command->kind, Kind::cold_start);
  EXPECT_TRUE(show.command->accept.empty());
  auto dry = parse({"cold-start", "--accept", "n2", "--dry-run"});
  ASSERT_TRUE(dry.command) << dry.error;
  EXPECT_EQ(dry.command->accept, "n2");
  EXPECT_TRUE(dry.command->dry_run);
  auto accept = parse({"cold-start", "--accept", "n2", "--timeout", "30"});
  ASSERT_TRUE(accept.command) << accept.error;
  EXPECT_FALSE(accept.command->dry_run);
  EXPECT_EQ(accept.command->timeout_s, 30);
  auto cancel = parse({"cold-start", "--cancel"});
  ASSERT_TRUE(cancel.command) << cancel.error;
  EXPECT_TRUE(cancel.command->cancel);
  EXPECT_NE(parse({"cold-start", "--dry-run"}).error.find("goes with --accept"), std::string::npos);
  EXPECT_NE(parse({"cold-start", "--cancel", "--accept", "n2"}).error.find("takes nothing else"), std::string::npos);
  EXPECT_NE(parse({"cold-start", "--accept"}).error.find("needs a value"), std::string::npos);
  EXPECT_NE(parse({"cold-start", "--timeout", "0"}).error.find("1-86400"), std::string::npos);
  EXPECT_NE(parse({"cold-start", "--force"}).error.find("does not take '--force'"), std::string::npos);
}

TEST(HactlArgs, RefusesABadApiAddressInsteadOfThrowing) {
  for (const char* bad : {"localhost", ":8801", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:0", "127.0.0.1:70000",
                          "127.0.0.1:99999999999999999999", "127.0.0.1:80x"}) {
    auto parsed = parse({"--api", bad, "status"});
    EXPECT_FALSE(parsed.command) << bad;
    EXPECT_EQ(parsed.error, std::string("--api wants HOST:PORT (a port 1-65535), not '") + bad + "'");
  }
  EXPECT_EQ(parse({"--api"}).error, "--api needs a value");
  EXPECT_EQ(parse({"--api", "127.0.0.1:1", "--config", "f", "status"}).error,
            "--api and --config both name the API: give one");
}

}  // namespace
}  // namespace hasup::cli
