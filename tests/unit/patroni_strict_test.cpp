// decide_db() keeping Patroni's synchronous_mode_strict (its config key) to
// what cluster.durability says: the supervisors' leader sets it through its
// own Patroni once they differ, once at a time, again after a pause when
// Patroni refused; nothing before the key was read.
#include <gtest/gtest.h>

#include <optional>

#include "components/postgres/decide.hpp"
#include "supervisor/loop/plan.hpp"

namespace hasup {
namespace {

using loop::SetPatroniStrict;

loop::Snapshot leader_with_patroni(bool strict_in_force, bool wanted) {
  loop::Snapshot s;
  s.self = "n1";
  s.durability = wanted ? "strict" : "available";
  s.units_connected = true;
  s.units["ha-patroni.service"] = loop::UnitView{"active", "running", 0, 0};
  s.db.enabled = true;
  s.db.backend = "patroni";
  s.db.unit = "ha-patroni.service";
  s.db.cluster_known = true;
  s.db.cluster.backend = "patroni";
  s.db.cluster.initialized = true;
  s.db.cluster.leader = s.db.cluster.primary = "n2";
  s.db.cluster.strict_in_force = strict_in_force;
  s.db.patroni.leader_woken_for = "n2";
  s.db.patroni.model.synchronous_mode_strict = wanted;
  return s;
}

struct Decided {
  std::optional<SetPatroniStrict> action;
  std::string reason;
};

Decided decide(const loop::Snapshot& s, cluster::Role role = cluster::Role::leader) {
  loop::Plan plan;
  plan.role = role;
  Decided d;
  d.reason = loop::decide_db(plan, s);
  if (const auto* a = plan.find<SetPatroniStrict>()) d.action = *a;
  return d;
}

TEST(PatroniStrict, TheLeaderSetsWhatTheDurabilityRuleSays) {
  auto to_strict = decide(leader_with_patroni(false, true));
  EXPECT_EQ(to_strict.action, (SetPatroniStrict{true}));
  EXPECT_NE(to_strict.reason.find("its synchronous_mode_strict is false, cluster.durability \"strict\" wants true"),
            std::string::npos)
      << to_strict.reason;
  EXPECT_EQ(decide(leader_with_patroni(true, false)).action, (SetPatroniStrict{false}));
  EXPECT_EQ(decide(leader_with_patroni(true, true)).action, std::nullopt) << "in force already";
  EXPECT_EQ(decide(leader_with_patroni(false, true), cluster::Role::follower).action, std::nullopt)
      << "only the leader speaks for the cluster";
}

TEST(PatroniStrict, NothingIsSetBeforeTheKeyIsKnownOrWhilePatroniIsDown) {
  auto no_key = leader_with_patroni(false, true);
  no_key.db.cluster.strict_in_force = std::nullopt;
  EXPECT_EQ(decide(no_key).action, std::nullopt);
  auto down = leader_with_patroni(false, true);
  down.units["ha-patroni.service"] = loop::UnitView{"inactive", "dead", 0, 0};
  auto d = decide(down);
  EXPECT_EQ(d.action, std::nullopt);
  EXPECT_NE(d.reason.find("set once this node's Patroni runs"), std::string::npos) << d.reason;
  auto busy = leader_with_patroni(false, true);
  busy.busy.insert(loop::Job::set_patroni_strict);
  EXPECT_EQ(decide(busy).action, std::nullopt) << "one call at a time";
}

TEST(PatroniStrict, ARefusalIsAskedAgainAfterAPause) {
  auto s = leader_with_patroni(false, true);
  s.db.patroni.strict_refused = loop::PatroniFiles::StrictRefusal{"HTTP 401", std::chrono::milliseconds(2000)};
  auto d = decide(s);
  EXPECT_EQ(d.action, std::nullopt);
  EXPECT_NE(d.reason.find("Patroni refused (HTTP 401), asked again soon"), std::string::npos) << d.reason;
  s.db.patroni.strict_refused->ago = std::chrono::milliseconds(10000);
  EXPECT_EQ(decide(s).action, (SetPatroniStrict{true}));
}

}  // namespace
}  // namespace hasup
