// decide_nginx(): when nginx is given a new config, fed with snapshots. The
// debounce and the reload interval are checked against a simulated clock.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "supervisor/loop/decide.hpp"
#include "components/nginx/decide.hpp"

namespace hasup::loop {
namespace {

using std::chrono::milliseconds;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

const char* kTemplate =
    "listen {{listen_port}};\n"
    "{{#rest_service.servers}}server {{endpoint}};\n{{/rest_service.servers}}"
    "{{#rest_service.no_servers}}return 503;\n{{/rest_service.no_servers}}";

nginx::UpstreamServer server(const std::string& address, int port = 8100) {
  return {address, port, "n-" + address, "rest-" + address};
}

// nginx enabled, Consul has answered with two passing REST instances, and
// nothing has been rendered yet.
Snapshot fresh() {
  Snapshot s;
  s.self = "n1";
  s.units_connected = true;
  s.units["ha-nginx.service"] = UnitView{"inactive", "dead", 0, 0};
  NginxView& n = s.nginx;
  n.enabled = true;
  n.template_text = kTemplate;
  n.base.node_name = "n1";
  n.base.listen_port = 80;
  n.base.runtime_dir = "/run/ha-nginx";
  n.base.log_dir = "/var/log/ha-nginx";
  n.base.resources_dir = "/opt/manager/resources";
  WatchedService rest;
  rest.name = "rest-service";
  rest.known = true;
  rest.set.name = "rest-service";
  rest.set.key = "rest_service";
  rest.set.servers = {server("198.18.0.11"), server("198.18.0.12")};
  n.services.push_back(rest);
  n.wait_min = milliseconds(50);
  n.wait_max = milliseconds(1000);
  n.reload_interval = milliseconds(1000);
  n.unit = "ha-nginx.service";
  n.since_change = milliseconds(0);
  return s;
}

// What the engine does after a successful apply of `action`.
void applied(Snapshot& s, const ApplyNginxConf& action) {
  auto file = parse_nginx_file(action.text);
  ASSERT_TRUE(file);
  s.nginx.current_body = file->body;
  s.nginx.generation = file->generation;
  s.nginx.fingerprint = file->fingerprint;
  s.nginx.since_last_apply = milliseconds(0);
  s.nginx.since_first_unapplied = milliseconds(0);
  s.units["ha-nginx.service"].active_state = "active";
}

// A snapshot whose nginx serves what Consul says, applied long ago.
Snapshot settled() {
  Snapshot s = fresh();
  Plan plan;
  decide_nginx(plan, s);
  applied(s, std::get<ApplyNginxConf>(plan.actions.at(0)));
  s.nginx.since_change = milliseconds(60000);
  s.nginx.since_last_apply = milliseconds(60000);
  return s;
}

TEST(NginxDecide, TheLocalAgentsInstanceServesAndTheOthersAreBackups) {
  Snapshot s = fresh();
  s.nginx.template_text = "{{#rest_service.servers}}server {{endpoint}}{{#backup}} backup{{/backup}};\n{{/rest_service.servers}}";
  s.consul.agent_node = "n-198.18.0.12";
  Plan plan;
  decide_nginx(plan, s);
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& text = std::get<ApplyNginxConf>(plan.actions.at(0)).text;
  EXPECT_TRUE(contains(text, "server 198.18.0.11:8100 backup;\n"));
  EXPECT_TRUE(contains(text, "server 198.18.0.12:8100;\n"));
}

TEST(NginxDecide, WaitsForConsulsFirstAnswerBeforeRendering) {
  Snapshot s = fresh();
  s.nginx.services[0].known = false;
  s.nginx.services[0].set.servers.clear();
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(contains(note, "waiting for Consul's first answer on rest-service"));
}

TEST(NginxDecide, FirstConfigIsAppliedAtOnceWithItsGenerationHeader) {
  Snapshot s = fresh();
  Plan plan;
  auto note = decide_nginx(plan, s);
  const auto* apply = plan.find<ApplyNginxConf>();
  ASSERT_NE(apply, nullptr) << note;
  EXPECT_EQ(apply->generation, 1u);
  auto file = parse_nginx_file(apply->text);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->generation, 1u);
  EXPECT_EQ(file->fingerprint, upstreams_fingerprint({s.nginx.services[0].set}));
  EXPECT_TRUE(contains(file->body, "server 198.18.0.11:8100;\nserver 198.18.0.12:8100;\n"));
  EXPECT_FALSE(contains(file->body, "return 503"));
  EXPECT_TRUE(contains(note, "applying generation 1"));
  EXPECT_EQ(apply->after, AfterWrite::start) << "nginx is not running yet: the apply starts it";
}

TEST(NginxDecide, AFailedFirstStartIsRetriedAfterTheReloadIntervalNotAtOnce) {
  Snapshot s = fresh();
  s.nginx.since_change = milliseconds(5000);
  s.nginx.since_last_apply = milliseconds(200);  // applied, but the start failed: nothing served
  Plan plan;
  decide_nginx(plan, s);
  EXPECT_EQ(plan.find<ApplyNginxConf>(), nullptr);
  ASSERT_TRUE(plan.wake_after);
  EXPECT_EQ(*plan.wake_after, milliseconds(800));
  s.nginx.since_last_apply = milliseconds(1000);
  Plan later;
  decide_nginx(later, s);
  EXPECT_NE(later.find<ApplyNginxConf>(), nullptr);
}

TEST(NginxDecide, UnchangedInputsDoNothing) {
  Snapshot s = settled();
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_TRUE(plan.actions.empty()) << note;
  EXPECT_TRUE(contains(note, "generation 1 serving"));
  EXPECT_FALSE(plan.wake_after);
}

// The supervisor wrote nginx.conf and died before the reload: the file is
// what it renders, nginx runs the one before. systemd's last state change of
// the unit older than the file says so (supervisor/loop/stale_file.hpp).
Snapshot running_an_older_file() {
  Snapshot s = settled();
  const WallTime reloaded = WallTime(std::chrono::seconds(1'800'000'000));
  s.units["ha-nginx.service"].state_changed = reloaded;
  s.nginx.conf_file.written = reloaded + std::chrono::seconds(2);
  s.nginx.since_last_apply.reset();  // a supervisor just started
  return s;
}

TEST(NginxDecide, AFileNewerThanNginxsLastReloadIsReloadedWithTheSameGeneration) {
  Snapshot s = running_an_older_file();
  Plan plan;
  auto note = decide_nginx(plan, s);
  const auto* apply = plan.find<ApplyNginxConf>();
  ASSERT_NE(apply, nullptr) << note;
  EXPECT_TRUE(apply->catch_up);
  EXPECT_EQ(apply->after, AfterWrite::reload);
  EXPECT_EQ(apply->generation, s.nginx.generation) << "the file's own generation: nothing new is rendered";
  auto file = parse_nginx_file(apply->text);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->body, *s.nginx.current_body);
  EXPECT_EQ(file->fingerprint, s.nginx.fingerprint);
  EXPECT_TRUE(contains(note, "nginx: the file was written after nginx last (re)loaded (the supervisor stopped "
                             "between write and reload?): reloading"));
}

TEST(NginxDecide, AFileOlderThanNginxsLastReloadIsLeftAlone) {
  Snapshot s = running_an_older_file();
  s.nginx.conf_file.written = *s.units["ha-nginx.service"].state_changed - std::chrono::seconds(2);
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_TRUE(plan.actions.empty()) << note;
  EXPECT_FALSE(contains(note, "written after"));
}

TEST(NginxDecide, TheCatchUpWaitsForABusyJobTheReloadIntervalAndAFailedTry) {
  Snapshot s = running_an_older_file();
  s.busy.insert(Job::start_nginx);
  Plan busy;
  auto note = decide_nginx(busy, s);
  EXPECT_EQ(busy.find<ApplyNginxConf>(), nullptr);
  EXPECT_TRUE(contains(note, "reloading once the running job ends"));
  s.busy.clear();

  s.nginx.since_last_apply = milliseconds(300);
  Plan spaced;
  note = decide_nginx(spaced, s);
  EXPECT_EQ(spaced.find<ApplyNginxConf>(), nullptr);
  EXPECT_TRUE(contains(note, "reloading once the reload interval (1000 ms) is over"));
  ASSERT_TRUE(spaced.wake_after);
  EXPECT_EQ(*spaced.wake_after, milliseconds(700));
  s.nginx.since_last_apply.reset();

  s.nginx.conf_file.since_catch_up = milliseconds(4000);
  s.nginx.conf_file.catch_up_error = "reload of generation 1 failed: job failed";
  Plan failed;
  note = decide_nginx(failed, s);
  EXPECT_EQ(failed.find<ApplyNginxConf>(), nullptr);
  EXPECT_TRUE(contains(note, "the reload failed (reload of generation 1 failed: job failed); next try 10 s after the last"));
  ASSERT_TRUE(failed.wake_after);
  EXPECT_EQ(*failed.wake_after, milliseconds(6000));
  s.nginx.conf_file.since_catch_up = milliseconds(10000);
  Plan retried;
  decide_nginx(retried, s);
  EXPECT_NE(retried.find<ApplyNginxConf>(), nullptr);
}

TEST(NginxDecide, NoInstanceToRouteToRendersTheClearErrorBranch) {
  Snapshot s = settled();
  s.nginx.services[0].set.servers.clear();
  Plan plan;
  decide_nginx(plan, s);
  const auto* apply = plan.find<ApplyNginxConf>();
  ASSERT_NE(apply, nullptr);
  EXPECT_TRUE(contains(apply->text, "return 503;"));
  EXPECT_EQ(apply->generation, 2u);
  EXPECT_EQ(apply->after, AfterWrite::reload) << "nginx runs: a reload, never a restart";
}

// The database failing over fails every REST instance's check at once: the
// instances still run, and nginx keeps routing to them (same servers, same
// text: no reload); they answer 503 with the reason, then serve the moment the
// database is back. Only instances on live nodes: a crashed node's is left out.
TEST(NginxDecide, EveryInstanceFailingOnLiveNodesIsStillRoutedToWithNoReload) {
  Snapshot s = settled();
  auto& service = s.nginx.services[0];
  service.failing_on_live_nodes = service.set;
  service.set.servers.clear();
  Plan plan;
  auto reason = decide_nginx(plan, s);
  EXPECT_EQ(plan.find<ApplyNginxConf>(), nullptr) << "the same servers render the same text: " << reason;
  EXPECT_TRUE(contains(reason, "no instance of rest-service passes its checks: routing to the 2 on live nodes"));
  // One of them on a node that gossip has failed: only the other is listed.
  service.failing_on_live_nodes.servers.pop_back();
  s.nginx.since_change = milliseconds(60000);
  Plan fewer;
  decide_nginx(fewer, s);
  const auto* apply = fewer.find<ApplyNginxConf>();
  ASSERT_NE(apply, nullptr);
  EXPECT_TRUE(contains(apply->text, "server 198.18.0.11:8100;"));
  EXPECT_FALSE(contains(apply->text, "198.18.0.12"));
  EXPECT_FALSE(contains(apply->text, "return 503;"));
}

TEST(NginxDecide, AChangeWaitsForQuietThenApplies) {
  Snapshot s = settled();
  s.nginx.services[0].set.servers.pop_back();
  s.nginx.since_change = milliseconds(10);
  s.nginx.since_first_unapplied = milliseconds(10);
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_EQ(plan.find<ApplyNginxConf>(), nullptr);
  ASSERT_TRUE(plan.wake_after);
  EXPECT_EQ(*plan.wake_after, milliseconds(40));
  EXPECT_TRUE(contains(note, "change pending (debounce)"));

  s.nginx.since_change = milliseconds(50);
  s.nginx.since_first_unapplied = milliseconds(50);
  Plan later;
  decide_nginx(later, s);
  ASSERT_NE(later.find<ApplyNginxConf>(), nullptr);
  EXPECT_FALSE(contains(later.find<ApplyNginxConf>()->text, "198.18.0.12"));
}

TEST(NginxDecide, ChangesThatNeverSettleAreAppliedAtTheMaximumWait) {
  Snapshot s = settled();
  s.nginx.services[0].set.servers.pop_back();
  s.nginx.since_change = milliseconds(5);
  s.nginx.since_first_unapplied = milliseconds(999);
  Plan plan;
  decide_nginx(plan, s);
  EXPECT_EQ(plan.find<ApplyNginxConf>(), nullptr);
  EXPECT_EQ(*plan.wake_after, milliseconds(1));
  s.nginx.since_first_unapplied = milliseconds(1000);
  Plan later;
  decide_nginx(later, s);
  EXPECT_NE(later.find<ApplyNginxConf>(), nullptr);
}

TEST(NginxDecide, ReloadsAreSpacedByTheReloadInterval) {
  Snapshot s = settled();
  s.nginx.services[0].set.servers.pop_back();
  s.nginx.since_change = milliseconds(200);
  s.nginx.since_first_unapplied = milliseconds(200);
  s.nginx.since_last_apply = milliseconds(300);
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_EQ(plan.find<ApplyNginxConf>(), nullptr);
  EXPECT_EQ(*plan.wake_after, milliseconds(700));
  EXPECT_TRUE(contains(note, "reload interval 1000 ms"));
}

TEST(NginxDecide, ARefusedRenderIsNotRetriedButANewInputIs) {
  Snapshot s = settled();
  s.nginx.services[0].set.servers.pop_back();
  Plan first;
  decide_nginx(first, s);
  auto refused = parse_nginx_file(first.find<ApplyNginxConf>()->text);
  s.nginx.rejected_body = refused->body;
  s.nginx.rejected_error = "nginx -t: exit 1: unexpected \"}\"";
  Plan again;
  auto note = decide_nginx(again, s);
  EXPECT_TRUE(again.actions.empty());
  EXPECT_TRUE(contains(note, "refused (nginx -t: exit 1"));
  EXPECT_TRUE(contains(note, "generation 1 serving"));

  s.nginx.services[0].set.servers.push_back(server("198.18.0.13"));
  Plan fresh_input;
  decide_nginx(fresh_input, s);
  EXPECT_NE(fresh_input.find<ApplyNginxConf>(), nullptr);
}

TEST(NginxDecide, OneApplyAtATime) {
  Snapshot s = settled();
  s.nginx.services[0].set.servers.pop_back();
  s.busy.insert(Job::apply_nginx_conf);
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(contains(note, "applying a config"));
}

TEST(NginxDecide, ABrokenTemplateChangesNothing) {
  Snapshot s = settled();
  s.nginx.template_text = "{{#rest_service.servers}}server {{endpoint}};";  // section never closed
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(contains(note, "nginx: not rendered"));
}

TEST(NginxDecide, StartsTheUnitWhenItHasAConfigAndIsNotRunning) {
  Snapshot s = settled();
  s.units["ha-nginx.service"].active_state = "failed";
  Plan plan;
  auto note = decide_nginx(plan, s);
  EXPECT_NE(plan.find<StartNginx>(), nullptr);
  EXPECT_TRUE(contains(note, "starting ha-nginx.service (failed)"));
  // Not while an apply (which starts it itself) or a start runs, and not without a config.
  s.busy.insert(Job::start_nginx);
  Plan busy;
  decide_nginx(busy, s);
  EXPECT_EQ(busy.find<StartNginx>(), nullptr);
  Snapshot none = fresh();
  none.nginx.services[0].known = false;
  Plan nothing;
  decide_nginx(nothing, none);
  EXPECT_TRUE(nothing.actions.empty());
}

TEST(NginxDecide, NothingWhileShuttingDownOrDisabled) {
  Snapshot s = fresh();
  s.shutting_down = true;
  Plan plan;
  EXPECT_EQ(decide_nginx(plan, s), "");
  s.shutting_down = false;
  s.nginx.enabled = false;
  EXPECT_EQ(decide_nginx(plan, s), "");
  EXPECT_TRUE(plan.actions.empty());
}

TEST(NginxDecide, MemberRecordCarriesTheServedGeneration) {
  Snapshot s = settled();
  EXPECT_EQ(nginx_served_summary(s.nginx), "gen 1 " + s.nginx.fingerprint);
  s.nginx.current_body.reset();
  EXPECT_EQ(nginx_served_summary(s.nginx), "");
}

TEST(NginxDecide, FingerprintNamesTheUpstreamSet) {
  nginx::ServiceSet a{"rest-service", "rest_service", {server("198.18.0.11"), server("198.18.0.12")}};
  nginx::ServiceSet b = a;
  b.servers.pop_back();
  EXPECT_EQ(upstreams_fingerprint({a}), upstreams_fingerprint({a}));
  EXPECT_NE(upstreams_fingerprint({a}), upstreams_fingerprint({b}));
  EXPECT_EQ(upstreams_fingerprint({a}).size(), 8u);
}

TEST(NginxDecide, FileHeaderRoundTripsAndForeignFilesAreNotOurs) {
  auto text = nginx_file_text(7, "0123abcd", "events {}\n");
  auto file = parse_nginx_file(text);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->generation, 7u);
  EXPECT_EQ(file->fingerprint, "0123abcd");
  EXPECT_EQ(file->body, "events {}\n");
  EXPECT_FALSE(parse_nginx_file("user www-data;\nevents {}\n"));
  EXPECT_FALSE(parse_nginx_file("# ha-supervisor nginx config: generation x, upstreams 1\n"));
}

// 50 health flaps in 5 s against the engine's bookkeeping on a simulated
// clock: the reloads stay within 1 + storm / reload_interval, and the last
// state is what nginx ends up serving.
TEST(NginxDecide, AFlapStormCostsABoundedNumberOfReloads) {
  Snapshot s = settled();
  const auto both = s.nginx.services[0].set.servers;
  auto one = both;
  one.pop_back();
  long long changed_at = 0, last_apply = -60000;
  long long first_unapplied = -1;  // -1: every change applied
  int applies = 0;
  std::optional<long long> wake_at;
  auto run_cycle = [&](long long now) {
    s.nginx.since_change = milliseconds(now - changed_at);
    s.nginx.since_first_unapplied = milliseconds(first_unapplied < 0 ? 0 : now - first_unapplied);
    s.nginx.since_last_apply = milliseconds(now - last_apply);
    Plan plan;
    decide_nginx(plan, s);
    wake_at = plan.wake_after ? std::optional<long long>(now + plan.wake_after->count()) : std::nullopt;
    if (const auto* a = plan.find<ApplyNginxConf>()) {
      first_unapplied = -1;
      applied(s, *a);
      last_apply = now;
      ++applies;
    }
  };
  for (long long now = 0; now <= 7000; ++now) {
    bool event = false;
    if (now < 5000 && now % 100 == 0) {  // a flap: instance 2 fails or recovers
      s.nginx.services[0].set.servers = (now / 100) % 2 == 0 ? one : both;
      changed_at = now;
      if (first_unapplied < 0) first_unapplied = now;
      event = true;
    }
    if (event || (wake_at && now >= *wake_at)) run_cycle(now);
  }
  EXPECT_LE(applies, 1 + 5000 / 1000) << "reloads during a 50-flap storm";
  EXPECT_GE(applies, 2);
  EXPECT_TRUE(contains(*s.nginx.current_body, "198.18.0.12")) << "the storm ended with both passing";
}

}  // namespace
}  // namespace hasup::loop
