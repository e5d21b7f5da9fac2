// The broker component (components/rabbitmq): the management API's answers
// parsed whole or not at all (answers captured from a real 3-node RabbitMQ
// 3.10.8 cluster in the lab), the founder key, rabbitmq.conf's render, and
// decide_broker / broker_problem fed with snapshots.
#include <gtest/gtest.h>

#include <string>

#include "components/rabbitmq/decide.hpp"
#include "components/rabbitmq/model.hpp"
#include "components/rabbitmq/observe_parse.hpp"
#include "components/rabbitmq/render.hpp"
#include "components/rabbitmq/view_clock.hpp"
#include "supervisor/cluster/records.hpp"

namespace hasup::loop {
namespace {

using cluster::Role;
using rabbitmq::BrokerFacts;
using std::chrono::milliseconds;

// GET /api/nodes, /api/queues with the driver's columns, as n1 (rabbit@198.18.0.11) answered.
const char* kSelf = "rabbit@198.18.0.11";
const char* kNodes =
    R"([{"partitions":[],"mem_alarm":false,"disk_free_alarm":false,"name":"rabbit@198.18.0.11","running":true},)"
    R"({"partitions":[],"mem_alarm":false,"disk_free_alarm":false,"name":"rabbit@198.18.0.12","running":true},)"
    R"({"name":"rabbit@198.18.0.13","running":true}])";
const char* kQueues =
    R"([{"leader":"rabbit@198.18.0.11","members":["rabbit@198.18.0.13","rabbit@198.18.0.12","rabbit@198.18.0.11"],)"
    R"("messages":0,"name":"cloudify.management","online":["rabbit@198.18.0.13","rabbit@198.18.0.12",)"
    R"("rabbit@198.18.0.11"],"type":"quorum","vhost":"/"},)"
    R"({"messages":4,"name":"classic-one","type":"classic","vhost":"/"}])";

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not found in: " << text;
}

TEST(BrokerParseTest, ReadsTheCapturedAnswersWhole) {
  auto parsed = rabbitmq::parse_facts(kSelf, kNodes, kQueues);
  ASSERT_EQ(parsed.error, "");
  const BrokerFacts& f = parsed.facts;
  EXPECT_EQ(f.node, "rabbit@198.18.0.11");
  ASSERT_EQ(f.nodes.size(), 3u);
  // A node whose statistics are not collected yet has no alarm fields: no alarm.
  EXPECT_FALSE(f.nodes[2].memory_alarm);
  EXPECT_EQ(f.running(), (std::vector<std::string>{"rabbit@198.18.0.11", "rabbit@198.18.0.12", "rabbit@198.18.0.13"}));
  ASSERT_EQ(f.queues.size(), 1u) << "only quorum queues are kept";
  EXPECT_EQ(f.queues[0].leader, "rabbit@198.18.0.11");
  EXPECT_EQ(f.queues[0].members.size(), 3u);
  EXPECT_EQ(f.messages, 4u) << "messages count every queue, of any type";
}

TEST(BrokerParseTest, RefusesWhatIsNotWholeAndKeepsNothingOfIt) {
  struct Case {
    std::string self, nodes, queues, error;
  } cases[] = {
      {kSelf, "not json", kQueues, "nodes: not a JSON list"},
      {kSelf, R"({"name":"x"})", kQueues, "nodes: not a JSON list"},
      {kSelf, R"([{"name":"rabbit@198.18.0.12","running":true}])", kQueues, "does not hold this node"},
      {kSelf, R"([{"name":"rabbit@198.18.0.11","running":"yes"}])", kQueues, "running is not true or false"},
      {kSelf, R"([{"name":"rabbit@198.18.0.11","running":true,"mem_alarm":1}])", kQueues, "an alarm"},
      {kSelf, R"([{"name":"rabbit@198.18.0.11","running":true,"partitions":[7]}])", kQueues, "partitions"},
      {kSelf, R"([{"name":"bad name\n","running":true}])", kQueues, "an entry has no name"},
      {kSelf, kNodes, R"([{"name":"q","vhost":"/","type":"quorum","members":"all"}])", "members"},
      {kSelf, kNodes, R"([{"name":"q","vhost":"/","messages":-1}])", "messages is not a count"},
  };
  for (const auto& c : cases) {
    auto parsed = rabbitmq::parse_facts(c.self, c.nodes, c.queues);
    EXPECT_TRUE(contains(parsed.error, c.error));
    EXPECT_EQ(parsed.facts, BrokerFacts{}) << c.error;
  }
}

// The membership is read apart from the queues: a bad or missing queues
// answer leaves it usable, and the queues of the last good read stay.
TEST(BrokerParseTest, TheNodesAloneMakeAMembershipAndABadQueuesAnswerChangesNothing) {
  auto nodes = rabbitmq::parse_nodes_only(kSelf, kNodes);
  ASSERT_EQ(nodes.error, "");
  EXPECT_EQ(nodes.facts.nodes.size(), 3u);
  EXPECT_TRUE(nodes.facts.queues.empty());
  BrokerFacts f = nodes.facts;
  ASSERT_EQ(rabbitmq::parse_queues_into(kQueues, f), "");
  EXPECT_EQ(f, rabbitmq::parse_facts(kSelf, kNodes, kQueues).facts);
  const BrokerFacts before = f;
  EXPECT_TRUE(contains(rabbitmq::parse_queues_into(R"([{"name":"q","vhost":"/","messages":-1}])", f), "messages"));
  EXPECT_EQ(f, before);
}

TEST(BrokerSeedTest, EncodesAndRefusesWhatIsNotASeed) {
  rabbitmq::BrokerSeed seed{"n1", "rabbit@198.18.0.11"};
  auto back = rabbitmq::decode_seed(rabbitmq::encode(seed));
  ASSERT_TRUE(back.seed) << back.error;
  EXPECT_EQ(*back.seed, seed);
  EXPECT_FALSE(rabbitmq::decode_seed("[]").seed);
  EXPECT_FALSE(rabbitmq::decode_seed(R"({"node":"N 1","broker":"rabbit@198.18.0.11"})").seed);
  EXPECT_FALSE(rabbitmq::decode_seed(R"({"node":"n1","broker":"rabbit@n1"})").seed);
  EXPECT_EQ(rabbitmq::address_of_broker("rabbit@198.18.0.12"), "198.18.0.12");
  EXPECT_EQ(rabbitmq::address_of_broker("rabbit@198.18.0.12;rm"), std::nullopt);
  EXPECT_EQ(rabbitmq::address_of_broker("hare@198.18.0.12"), std::nullopt);
}

const char* kTemplate =
    "listeners.tcp.1 = {{amqp_address}}:{{amqp_port}}\nmanagement.tcp.port = {{management_port}}\n"
    "cluster_partition_handling = {{partition_handling}}\nload_definitions = {{definitions_file}}\n"
    "vm_memory_high_watermark.relative = {{memory_high_watermark}}\n";

rabbitmq::BrokerConfModel conf_model() { return {"0.0.0.0", 5672, 15672, "pause_minority", "/etc/d.json", "0.4"}; }

TEST(BrokerRenderTest, RendersEveryValueAndRefusesOneThatWouldAddALine) {
  auto r = rabbitmq::render_broker_conf(kTemplate, conf_model());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.text,
            "listeners.tcp.1 = 0.0.0.0:5672\nmanagement.tcp.port = 15672\n"
            "cluster_partition_handling = pause_minority\nload_definitions = /etc/d.json\n"
            "vm_memory_high_watermark.relative = 0.4\n");
  auto bad = conf_model();
  bad.amqp_address = "0.0.0.0\nloopback_users = none";
  EXPECT_TRUE(contains(rabbitmq::render_broker_conf(kTemplate, bad).error, "amqp_address"));
  bad = conf_model();
  bad.amqp_port = 0;
  EXPECT_TRUE(contains(rabbitmq::render_broker_conf(kTemplate, bad).error, "port"));
}

TEST(BrokerRenderTest, TheShippedTemplateRenders) {
  std::string path = std::string(HA_SOURCE_DIR) + "/templates/rabbitmq.conf.mustache";
  FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr) << path;
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  std::fclose(f);
  auto r = rabbitmq::render_broker_conf(text, conf_model());
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(contains(r.text, "cluster_partition_handling = pause_minority\n"));
  EXPECT_TRUE(contains(r.text, "management.tcp.ip = 127.0.0.1\n"));
  EXPECT_TRUE(contains(r.text, "listeners.tcp.1 = 0.0.0.0:5672\n"));
}

BrokerFacts alone(const std::string& address, std::uint64_t messages = 0) {
  BrokerFacts f;
  f.node = rabbitmq::broker_name_of(address);
  f.nodes = {{f.node, true, {}, false, false}};
  f.messages = messages;
  return f;
}

cluster::MemberRecord member(const std::string& name, const std::string& address,
                             std::vector<std::string> broker_members, const std::string& cookie = "c0ffee") {
  cluster::MemberRecord m;
  m.name = name;
  m.address = address;
  m.role = Role::follower;
  m.broker_members = std::move(broker_members);
  m.broker_cookie = cookie;
  return m;
}

// n2, a follower: its broker runs alone with rabbitmq.conf as rendered, and
// n1 founded the cluster, whose broker answers.
Snapshot n2_alone() {
  Snapshot s;
  s.self = "n2";
  s.self_address = "198.18.0.12";
  s.units_connected = true;
  s.units["ha-rabbitmq.service"] = UnitView{"active", "running", 0, 1};
  s.consul.quorum_reachable = true;
  BrokerView& b = s.broker;
  b.enabled = true;
  b.unit = "ha-rabbitmq.service";
  b.template_text = kTemplate;
  b.conf_model = conf_model();
  b.conf_file = rabbitmq::render_broker_conf(kTemplate, conf_model()).text;
  b.facts = alone("198.18.0.12");
  b.seed_known = true;
  b.seed = rabbitmq::BrokerSeed{"n1", "rabbit@198.18.0.11"};
  b.cookie_fingerprint = "c0ffee";
  s.kv.known = true;
  s.kv.members["n1"] = member("n1", "198.18.0.11", {"rabbit@198.18.0.11"});
  s.kv.members["n2"] = member("n2", "198.18.0.12", {"rabbit@198.18.0.12"});
  return s;
}

Plan decided(const Snapshot& s, Role role = Role::follower, std::string* note = nullptr) {
  Plan plan;
  plan.role = role;
  std::string reason = decide_broker(plan, s);
  if (note) *note = reason;
  return plan;
}

TEST(DecideBrokerTest, WritesTheConfigFirstAndStartsTheStoppedUnitWithIt) {
  Snapshot s = n2_alone();
  s.broker.conf_file.reset();
  s.units["ha-rabbitmq.service"] = UnitView{"inactive", "dead", 0, 0};
  Plan plan = decided(s);
  const auto* apply = plan.find<ApplyBrokerConf>();
  ASSERT_NE(apply, nullptr);
  EXPECT_TRUE(apply->start);
  EXPECT_TRUE(contains(apply->text, "cluster_partition_handling = pause_minority"));
  // A running broker gets the file for its next start, not a restart.
  s.units["ha-rabbitmq.service"] = UnitView{"active", "running", 0, 1};
  plan = decided(s);
  ASSERT_NE(plan.find<ApplyBrokerConf>(), nullptr);
  EXPECT_FALSE(plan.find<ApplyBrokerConf>()->start);
  EXPECT_FALSE(plan.has<RestartBroker>());
}

TEST(DecideBrokerTest, StartsAStoppedUnitWhoseConfigIsWritten) {
  Snapshot s = n2_alone();
  s.units["ha-rabbitmq.service"] = UnitView{"failed", "failed", 0, 0};
  EXPECT_TRUE(decided(s).has<StartBroker>());
  EXPECT_EQ(broker_problem(s), "broker failed");
}

TEST(DecideBrokerTest, TheFirstNodeFoundsTheClusterOnlyOnceConsulAnswered) {
  Snapshot s = n2_alone();
  s.broker.seed.reset();
  Plan plan = decided(s);
  const auto* claim = plan.find<ClaimBrokerSeed>();
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->seed, (rabbitmq::BrokerSeed{"n2", "rabbit@198.18.0.12"}));
  s.broker.seed_known = false;
  EXPECT_TRUE(decided(s).actions.empty()) << "no answer from Consul yet: the key may hold a founder";
  s.broker.seed_known = true;
  s.consul.quorum_reachable = false;
  EXPECT_TRUE(decided(s).actions.empty());
  s.consul.quorum_reachable = true;
  s.broker.seed_error = "not a JSON object";
  std::string note;
  EXPECT_TRUE(decided(s, Role::follower, &note).actions.empty());
  EXPECT_TRUE(contains(note, "not acted on"));
}

// Consul's data lost: the founder's key gone, while n1's and n3's brokers run
// clustered and n2's alone (it had not joined yet). n2 must not be named
// founder: the others would never join it, and it would never join them.
TEST(DecideBrokerTest, AfterConsulLostItsDataABrokerAloneNeverFoundsBesideARunningCluster) {
  Snapshot s = n2_alone();
  s.broker.seed.reset();
  s.kv.members["n1"] = member("n1", "198.18.0.11", {"rabbit@198.18.0.11", "rabbit@198.18.0.13"});
  std::string note;
  EXPECT_FALSE(decided(s, Role::follower, &note).has<ClaimBrokerSeed>()) << note;
  EXPECT_TRUE(contains(note, "n1's broker runs in a cluster")) << note;
  // A broker of that cluster names itself founder again; n2 then joins it.
  s.self = "n1";
  s.self_address = "198.18.0.11";
  s.broker.facts = alone("198.18.0.11");
  s.broker.facts->nodes.push_back({"rabbit@198.18.0.13", true, {}, false, false});
  Plan plan = decided(s);
  const auto* claim = plan.find<ClaimBrokerSeed>();
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->seed.node, "n1");
}

TEST(DecideBrokerTest, AnEmptyBrokerAloneJoinsTheFoundersCluster) {
  Snapshot s = n2_alone();
  Plan plan = decided(s);
  const auto* join = plan.find<JoinBrokerCluster>();
  ASSERT_NE(join, nullptr);
  EXPECT_EQ(join->address, "198.18.0.11");
  EXPECT_EQ(join->node, "n1");
  EXPECT_EQ(broker_problem(s), "broker outside the cluster");
  // The founder is down: any member of its cluster will do.
  s.kv.members.erase("n1");
  s.kv.members["n3"] = member("n3", "198.18.0.13", {"rabbit@198.18.0.11", "rabbit@198.18.0.13"});
  plan = decided(s);
  ASSERT_NE(plan.find<JoinBrokerCluster>(), nullptr);
  EXPECT_EQ(plan.find<JoinBrokerCluster>()->node, "n3");
  // Nobody of the founder's cluster answers: nothing to join yet.
  s.kv.members.erase("n3");
  EXPECT_FALSE(decided(s).has<JoinBrokerCluster>());
}

TEST(DecideBrokerTest, NeverJoinsWhenItWouldLoseMessagesOrCannotWork) {
  Snapshot s = n2_alone();
  s.broker.facts = alone("198.18.0.12", 3);
  std::string note;
  EXPECT_FALSE(decided(s, Role::follower, &note).has<JoinBrokerCluster>());
  EXPECT_TRUE(contains(note, "holding 3 message(s)"));
  // A cookie that differs: reported, never "fixed".
  s = n2_alone();
  s.kv.members["n1"].broker_cookie = "deadbeef";
  EXPECT_FALSE(decided(s, Role::follower, &note).has<JoinBrokerCluster>());
  EXPECT_TRUE(contains(note, "Erlang cookie differs from n1's"));
  // A stale read (the API stopped answering) is no ground for a join.
  s = n2_alone();
  s.broker.read_error = "management API: timeout";
  EXPECT_FALSE(decided(s).has<JoinBrokerCluster>());
  // Clustered with another node already: never joined elsewhere (that resets it).
  s = n2_alone();
  s.broker.facts->nodes.push_back({"rabbit@198.18.0.13", true, {}, false, false});
  EXPECT_FALSE(decided(s).has<JoinBrokerCluster>());
  // The founder itself never joins anyone.
  s = n2_alone();
  s.broker.seed = rabbitmq::BrokerSeed{"n2", "rabbit@198.18.0.12"};
  EXPECT_TRUE(decided(s).actions.empty());
  EXPECT_EQ(broker_problem(s), "");
}

// Two brokers joining one cluster at once can corrupt the joiner's schema:
// joins go one at a time, lone brokers in name order.
TEST(DecideBrokerTest, JoinsGoOneAtATimeInNameOrder) {
  Snapshot s = n2_alone();
  s.kv.members["n3"] = member("n3", "198.18.0.13", {"rabbit@198.18.0.13"});
  s.kv.members["n3"].broker_state = "joining the cluster";
  std::string note;
  EXPECT_FALSE(decided(s, Role::follower, &note).has<JoinBrokerCluster>()) << "n3's join runs";
  EXPECT_TRUE(contains(note, "n3 joins first")) << note;
  // A lone broker with a larger name waits for this one, not the other way round.
  s.kv.members["n3"].broker_state = "running, 1 of 1 nodes";
  EXPECT_TRUE(decided(s).has<JoinBrokerCluster>());
  // One with a smaller name goes first...
  s.kv.members["m9"] = member("m9", "198.18.0.19", {"rabbit@198.18.0.19"});
  s.kv.members["m9"].broker_state = "running, 1 of 1 nodes";
  EXPECT_FALSE(decided(s, Role::follower, &note).has<JoinBrokerCluster>());
  EXPECT_TRUE(contains(note, "m9 joins first")) << note;
  // ...unless it is stuck silent: then it blocks no one.
  s.kv.members["m9"].broker_state = "silent: management API: connect: Connection refused";
  EXPECT_TRUE(decided(s).has<JoinBrokerCluster>());
  // The founder's lone broker is the cluster: it never makes anyone wait.
  s.kv.members.erase("m9");
  s.kv.members["n1"].broker_state = "running, 1 of 1 nodes";
  EXPECT_TRUE(decided(s).has<JoinBrokerCluster>());
  // While this node's join runs, its record says so.
  s.busy.insert(Job::join_broker_cluster);
  EXPECT_EQ(broker_summary(s), "joining the cluster");
}

TEST(DecideBrokerTest, AFailedJoinIsTriedAgainAfterTheWait) {
  Snapshot s = n2_alone();
  s.broker.join_error = "failed";
  s.broker.retry_after = milliseconds(30000);
  s.broker.since_join_failed = milliseconds(1000);
  EXPECT_FALSE(decided(s).has<JoinBrokerCluster>());
  s.broker.since_join_failed = milliseconds(30000);
  EXPECT_TRUE(decided(s).has<JoinBrokerCluster>());
}

Snapshot n1_in_cluster_with_a_gone_node() {
  Snapshot s = n2_alone();
  s.self = "n1";
  s.self_address = "198.18.0.11";
  s.broker.seed = rabbitmq::BrokerSeed{"n1", "rabbit@198.18.0.11"};
  BrokerFacts f = alone("198.18.0.11");
  f.nodes.push_back({"rabbit@198.18.0.12", true, {}, false, false});
  f.nodes.push_back({"rabbit@198.18.0.14", false, {}, false, false});
  s.broker.facts = f;
  s.known.nodes["n1"] = {"n1", "198.18.0.11", ""};
  s.known.nodes["n2"] = {"n2", "198.18.0.12", ""};
  return s;
}

// /api/queues waits on a member whose host vanished; /api/nodes does not.
TEST(DecideBrokerTest, AFailedQueuesReadBlocksAJoinButNotAForget) {
  Snapshot s = n2_alone();
  s.broker.queues_error = "the quorum queues: timeout after 2000 ms (read)";
  std::string note;
  EXPECT_FALSE(decided(s, Role::follower, &note).has<JoinBrokerCluster>()) << "what a join would reset is unknown";
  EXPECT_TRUE(contains(note, "its queues are not read")) << note;
  s = n1_in_cluster_with_a_gone_node();
  s.broker.queues_error = "the quorum queues: timeout after 2000 ms (read)";
  EXPECT_TRUE(decided(s, Role::leader).has<ForgetBrokerNode>());
  EXPECT_EQ(broker_problem(s), "");
}

TEST(DecideBrokerTest, TheLeaderForgetsABrokerWhoseNodeLeftForGood) {
  Snapshot s = n1_in_cluster_with_a_gone_node();
  Plan plan = decided(s, Role::leader);
  ASSERT_NE(plan.find<ForgetBrokerNode>(), nullptr);
  EXPECT_EQ(plan.find<ForgetBrokerNode>()->address, "198.18.0.14");
  EXPECT_FALSE(decided(s, Role::follower).has<ForgetBrokerNode>()) << "the leader only";
  // Still one of the cluster's nodes (only down): kept.
  s.known.nodes["n4"] = {"n4", "198.18.0.14", ""};
  EXPECT_FALSE(decided(s, Role::leader).has<ForgetBrokerNode>());
  // Running: RabbitMQ refuses to forget a running node; not asked.
  s = n1_in_cluster_with_a_gone_node();
  s.broker.facts->nodes[2].running = true;
  EXPECT_FALSE(decided(s, Role::leader).has<ForgetBrokerNode>());
  // Consul's node list unknown: nothing is forgotten on an empty picture.
  s = n1_in_cluster_with_a_gone_node();
  s.known.nodes.clear();
  EXPECT_FALSE(decided(s, Role::leader).has<ForgetBrokerNode>());
}

// n1's broker: nothing listens on its management API for `silent_for`.
Snapshot n1_silent_for(milliseconds silent_for) {
  Snapshot s = n1_in_cluster_with_a_gone_node();
  s.broker.read_error = "management API: connect: Connection refused";
  s.broker.refused = true;
  s.broker.unfit_after = milliseconds(5000);
  s.broker.start_grace = milliseconds(30000);
  s.broker.stuck_after = milliseconds(60000);
  s.broker.silent_for = silent_for;
  return s;
}

TEST(DecideBrokerTest, ABrokerSilentTooLongIsRestartedOnlyWhenNothingListensAndTheOthersRun) {
  Snapshot s = n1_silent_for(milliseconds(3000));
  EXPECT_EQ(broker_problem(s), "") << "one slow answer does not make the node unfit";
  s.broker.silent_for = milliseconds(5000);
  EXPECT_TRUE(decided(s).actions.empty()) << "starting, or paused in a minority: it resumes by itself";
  EXPECT_EQ(broker_problem(s), "broker not answering");
  s.broker.silent_for = milliseconds(60000);
  EXPECT_TRUE(decided(s).has<RestartBroker>());
  s.consul.quorum_reachable = false;
  EXPECT_FALSE(decided(s).has<RestartBroker>()) << "this node may be the one cut off";
  s.consul.quorum_reachable = true;
  // A slow answer (the API waits on a peer that just crashed) is a busy broker: never restarted.
  s.broker.refused = false;
  s.broker.read_error = "management API: timeout after 2000 ms";
  EXPECT_FALSE(decided(s).has<RestartBroker>());
  // No other broker runs: restarting this one would help nothing.
  s.broker.refused = true;
  s.kv.members["n2"].broker_members.clear();
  EXPECT_FALSE(decided(s).has<RestartBroker>());
}

// n1's broker was restarted with another cookie (a different secrets file):
// it cannot reach its peers. Said, and never restarted in a loop or wiped.
TEST(DecideBrokerTest, ASilentBrokerWhoseCookieNoRunningPeerSharesIsReportedNotRestarted) {
  Snapshot s = n1_silent_for(milliseconds(120000));
  s.broker.cookie_fingerprint = "deadbeef";
  s.kv.members["n3"] = member("n3", "198.18.0.13", {"rabbit@198.18.0.12", "rabbit@198.18.0.13"});
  std::string note;
  Plan plan = decided(s, Role::follower, &note);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(contains(note, "its Erlang cookie differs from n2's and n3's")) << note;
  EXPECT_TRUE(contains(note, "data is never wiped")) << note;
  EXPECT_EQ(broker_problem(s), "broker's Erlang cookie differs from the cluster's");
  EXPECT_EQ(broker_summary(s), "silent: its Erlang cookie differs from n2's and n3's");
  // One running peer shares its cookie: the others are the odd ones, and a
  // broker stuck with nothing listening is restarted as ever.
  s.kv.members["n3"].broker_cookie = "deadbeef";
  EXPECT_TRUE(decided(s).has<RestartBroker>());
  EXPECT_EQ(broker_problem(s), "broker not answering");
  // A peer whose broker does not run says nothing about this node's cookie.
  s.kv.members["n3"].broker_members.clear();
  s.kv.members["n2"].broker_members.clear();
  EXPECT_EQ(broker_problem(s), "broker not answering");
}

TEST(DecideBrokerTest, AStaleClusterViewChangesNothingAndIsNoProblem) {
  Snapshot s = n2_alone();
  s.broker.facts_error = "the cluster view: timeout after 2000 ms";
  std::string note;
  EXPECT_FALSE(decided(s, Role::follower, &note).has<JoinBrokerCluster>());
  EXPECT_TRUE(contains(note, "stale"));
  s = n1_in_cluster_with_a_gone_node();
  s.broker.facts_error = "the cluster view: timeout after 2000 ms";
  EXPECT_EQ(broker_problem(s), "");
  EXPECT_FALSE(decided(s, Role::leader).has<ForgetBrokerNode>());
}

TEST(DecideBrokerTest, AnAlarmTheLocalCheckReportsMakesTheNodeUnfit) {
  Snapshot s = n1_in_cluster_with_a_gone_node();
  s.broker.local_alarm = "memory";
  EXPECT_EQ(broker_problem(s), "broker alarm");
  EXPECT_EQ(broker_summary(s), "alarm: memory");
}

TEST(DecideBrokerTest, AnAlarmedOrPartitionedBrokerMakesTheNodeUnfit) {
  Snapshot s = n1_in_cluster_with_a_gone_node();
  EXPECT_EQ(broker_problem(s), "");
  s.broker.facts->nodes[0].memory_alarm = true;
  EXPECT_EQ(broker_problem(s), "broker memory alarm");
  s.broker.facts->nodes[0].memory_alarm = false;
  s.broker.facts->nodes[0].disk_alarm = true;
  EXPECT_EQ(broker_problem(s), "broker disk alarm");
  s.broker.facts->nodes[0].disk_alarm = false;
  // A partition listed by a broker that sees a majority run: the side
  // pause_minority keeps serving, fit.
  s.broker.facts->nodes[0].partitions = {"rabbit@198.18.0.12"};
  EXPECT_EQ(broker_problem(s), "");
  // In the minority of its own view (1 of 3 running): unfit.
  s.broker.facts->nodes[1].running = false;
  EXPECT_EQ(broker_problem(s), "broker partitioned from rabbit@198.18.0.12");
}

// After a heal, a broker may still list the partition, running alone in its
// view while its peers run together: restarted (RabbitMQ's recovery for the
// untrusted side) once pause_minority had its chance, and only while this
// node reaches Consul's quorum (else it may be the one still cut off).
TEST(DecideBrokerTest, AMinoritySideStillPartitionedAfterTheGraceIsRestarted) {
  Snapshot s = n1_in_cluster_with_a_gone_node();
  s.broker.facts->nodes[0].partitions = {"rabbit@198.18.0.12"};
  s.broker.facts->nodes[1].running = false;  // 1 of 3 running in n1's view
  s.kv.members["n2"].broker_members = {"rabbit@198.18.0.12", "rabbit@198.18.0.13"};
  s.broker.partition_grace = milliseconds(15000);
  s.broker.partitioned_for = milliseconds(5000);
  std::string note;
  EXPECT_FALSE(decided(s, Role::follower, &note).has<RestartBroker>()) << "pause_minority may still end it";
  EXPECT_TRUE(contains(note, "partitioned from rabbit@198.18.0.12, 1 of 3 running")) << note;
  s.broker.partitioned_for = milliseconds(15000);
  EXPECT_TRUE(decided(s).has<RestartBroker>());
  s.consul.quorum_reachable = false;
  EXPECT_FALSE(decided(s).has<RestartBroker>()) << "this node may be the one cut off";
  s.consul.quorum_reachable = true;
  // No peer sees more of the cluster run: nothing says this side is the untrusted one.
  s.kv.members["n2"].broker_members = {"rabbit@198.18.0.12"};
  EXPECT_FALSE(decided(s).has<RestartBroker>());
}

// The driver's clock for its views (components/rabbitmq/view_clock.hpp).
using ViewClock = rabbitmq::ViewClock;
const ViewClock::Clock::time_point kT0{};

TEST(BrokerViewClockTest, AViewReadBeforeARestartLandsStaleAndStartsNoPartitionClock) {
  ViewClock views;
  views.viewed(true, kT0);  // partitioned since t0
  const auto began = views.read_begun();
  views.broker_interrupted();  // the supervisor restarts the broker
  EXPECT_FALSE(views.current(began)) << "the read begun before the restart speaks of the old run";
  EXPECT_TRUE(views.stale());
  EXPECT_FALSE(views.partitioned_for(kT0 + std::chrono::seconds(20))) << "the old partition's clock is gone";
  // The restarted broker's first views still list the partition: a new clock.
  EXPECT_TRUE(views.current(views.read_begun()));
  views.viewed(true, kT0 + std::chrono::seconds(20));
  EXPECT_FALSE(views.stale());
  EXPECT_EQ(*views.partitioned_for(kT0 + std::chrono::seconds(22)), std::chrono::seconds(2));
}

TEST(BrokerViewClockTest, APartitionCountsOnlyWhileEveryViewListsIt) {
  ViewClock views;
  EXPECT_TRUE(views.stale()) << "nothing read yet";
  views.viewed(true, kT0);
  views.viewed(true, kT0 + std::chrono::seconds(5));
  EXPECT_EQ(*views.partitioned_for(kT0 + std::chrono::seconds(10)), std::chrono::seconds(10));
  views.viewed(false, kT0 + std::chrono::seconds(11));
  EXPECT_FALSE(views.partitioned_for(kT0 + std::chrono::seconds(12)));
  views.viewed(true, kT0 + std::chrono::seconds(12));
  views.broker_interrupted();  // silent: paused by pause_minority, or stopped
  EXPECT_FALSE(views.partitioned_for(kT0 + std::chrono::seconds(30)));
}

TEST(DecideBrokerTest, AViewKeptFromTheBrokersLastRunIsNeverActedOn) {
  // What the driver shows while its clock says stale: the partitioned view of
  // the broker before its restart, with the error that keeps it from acting.
  Snapshot s = n1_in_cluster_with_a_gone_node();
  s.broker.facts->nodes[0].partitions = {"rabbit@198.18.0.12"};
  s.broker.facts->nodes[1].running = false;
  s.kv.members["n2"].broker_members = {"rabbit@198.18.0.12", "rabbit@198.18.0.13"};
  s.broker.partitioned_for = milliseconds(60000);
  ASSERT_TRUE(decided(s).has<RestartBroker>());
  s.broker.facts_error = "not read again since the broker was restarted or silent";
  EXPECT_FALSE(decided(s).has<RestartBroker>());
}

TEST(DecideBrokerTest, PublishesItsStateMembersAndCookie) {
  Snapshot s = n1_in_cluster_with_a_gone_node();
  cluster::MemberRecord r;
  publish_broker(s, r);
  EXPECT_EQ(r.broker_state, "running, 2 of 3 nodes");
  EXPECT_EQ(r.broker_members, (std::vector<std::string>{"rabbit@198.18.0.11", "rabbit@198.18.0.12"}));
  EXPECT_EQ(r.broker_cookie, "c0ffee");
  // Silent: no members are vouched for (a joining node must not pick it).
  s.broker.read_error = "timeout";
  s.broker.silent_for = milliseconds(6000);
  cluster::MemberRecord silent;
  publish_broker(s, silent);
  EXPECT_TRUE(silent.broker_members.empty());
  EXPECT_TRUE(contains(silent.broker_state, "silent"));
}

TEST(BrokerRecordTest, TheMemberRecordCarriesTheBrokerFields) {
  cluster::MemberRecord m = member("n1", "198.18.0.11", {"rabbit@198.18.0.11"});
  m.broker_state = "running, 1 of 1 nodes";
  auto back = cluster::decode_member(cluster::encode(m));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(*back.record, m);
  std::string text = cluster::encode(m);
  text.replace(text.find("[\"rabbit@198.18.0.11\"]"), 22, "\"rabbit@198.18.0.11\"");
  auto bad = cluster::decode_member(text);
  EXPECT_FALSE(bad.record);
  EXPECT_EQ(bad.error, "broker_members is not a list");
}

}  // namespace
}  // namespace hasup::loop
