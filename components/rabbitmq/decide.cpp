#include "components/rabbitmq/decide.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "supervisor/util/host_name.hpp"

namespace hasup::loop {

using cluster::Role;
using rabbitmq::BrokerFacts;

namespace {

std::string append(std::string note, const std::string& more) {
  if (more.empty()) return note;
  return note.empty() ? more : note + "; " + more;
}

std::string seconds_text(std::chrono::milliseconds d) { return std::to_string(d.count() / 1000) + " s"; }

const UnitView* unit_of(const Snapshot& s) {
  auto it = s.units.find(s.broker.unit);
  return it == s.units.end() ? nullptr : &it->second;
}

// A read that answered in this cycle's view: the only kind a cluster change may rest on.
const BrokerFacts* fresh_facts(const BrokerView& b) {
  return b.facts && b.read_error.empty() && b.facts_error.empty() ? &*b.facts : nullptr;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// In the founder's cluster: its node list holds the seed, or any other node
// (a broker clustered with others is never joined elsewhere: that resets it).
bool in_seed_cluster(const BrokerFacts& f, const rabbitmq::BrokerSeed& seed) {
  return f.node == seed.broker || f.find(seed.broker) || f.nodes.size() > 1;
}

// A live member whose broker runs in the founder's cluster and answers: the
// seed itself first, else any other (the founder may be down for good).
const cluster::MemberRecord* join_target(const Snapshot& s, const rabbitmq::BrokerSeed& seed) {
  const cluster::MemberRecord* target = nullptr;
  for (const auto& [name, m] : s.kv.members) {
    if (name == s.self || !contains(m.broker_members, seed.broker) || !is_ipv4_literal(m.address)) continue;
    if (name == seed.node) return &m;
    if (!target) target = &m;
  }
  return target;
}

// Live members whose broker runs with an Erlang cookie other than this
// node's (both fingerprints known). Brokers with different cookies cannot
// talk at all: a joining node is refused, a clustered one waits for its
// peers' tables or pauses in a minority of one.
std::vector<std::string> running_with_other_cookie(const Snapshot& s) {
  std::vector<std::string> names;
  if (s.broker.cookie_fingerprint.empty()) return names;
  for (const auto& [name, m] : s.kv.members)
    if (name != s.self && !m.broker_members.empty() && !m.broker_cookie.empty() &&
        m.broker_cookie != s.broker.cookie_fingerprint)
      names.push_back(name);
  return names;
}

bool running_with_same_cookie(const Snapshot& s) {
  for (const auto& [name, m] : s.kv.members)
    if (name != s.self && !m.broker_members.empty() && m.broker_cookie == s.broker.cookie_fingerprint) return true;
  return false;
}

// "its Erlang cookie differs from n1's and n3's" when no running peer shares
// it (then this node is the odd one out); "" otherwise.
std::string odd_cookie(const Snapshot& s) {
  const auto others = running_with_other_cookie(s);
  if (others.empty() || running_with_same_cookie(s)) return {};
  std::string names;
  for (std::size_t i = 0; i < others.size(); ++i)
    names += (i == 0 ? "" : i + 1 == others.size() ? " and " : ", ") + others[i] + "'s";
  return "its Erlang cookie differs from " + names;
}

const char* kCookieAdvice =
    "the secrets file on this node differs from the cluster's: data is never wiped to fix it";

// What a member publishes while its join runs, and while its broker runs
// alone (broker_summary).
const char* kJoiningState = "joining the cluster";
std::string running_state(std::size_t running, std::size_t nodes) {
  return "running, " + std::to_string(running) + " of " + std::to_string(nodes) + " nodes";
}

// Joins go one at a time, in name order, as RabbitMQ's own peer discovery
// does with a lock: without it a lab run's first boot left n2's broker silent
// after its join, and at its next boot mnesia refused with "Failed to merge
// schema: combine_error" (concurrent joins the likely cause). The member this
// node waits for: one whose join runs, or a lone broker (not the founder)
// with a smaller name that answers. A member stuck silent blocks no one.
std::string joins_first(const Snapshot& s, const rabbitmq::BrokerSeed& seed) {
  for (const auto& [name, m] : s.kv.members) {
    if (name == s.self || name == seed.node) continue;
    if (m.broker_state == kJoiningState) return name;
    if (name < s.self && m.broker_state == running_state(1, 1)) return name;
  }
  return {};
}

// In the minority of its own view: half the nodes or fewer run.
bool in_minority(const BrokerFacts& f) { return f.running().size() * 2 <= f.nodes.size(); }

// A broker that still lists a partition after its links are back, in the
// minority of its view while a peer's broker sees more of the cluster run, is
// on the untrusted side: RabbitMQ's documented recovery is to restart it. Seen
// in a lab run: after `lab partition` and heal, n3's broker ran "1 of 3" and
// every broker listed the partition, so no node was fit for the floating IP.
std::string decide_partition(Plan& plan, const Snapshot& s, const BrokerFacts& f) {
  const auto* self = f.self();
  if (!self || self->partitions.empty() || !in_minority(f)) return {};
  const std::string note = "broker: partitioned from " + self->partitions.front() + ", " +
                           std::to_string(f.running().size()) + " of " + std::to_string(f.nodes.size()) + " running";
  bool peer_sees_more = false;
  for (const auto& [name, m] : s.kv.members)
    peer_sees_more = peer_sees_more || (name != s.self && m.broker_members.size() > f.running().size());
  if (!peer_sees_more || !s.consul.quorum_reachable) return note + " (this node may be the one cut off: waiting)";
  if (s.broker.partitioned_for < s.broker.partition_grace) return note + " (pause_minority may end it)";
  if (want(plan, s, RestartBroker{"partitioned from " + self->partitions.front() + " in a minority of its view, while a peer's broker sees more run"}))
    return note + ", while a peer's broker sees more run: restarting it (the untrusted side)";
  return note;
}

bool retry_due(const std::optional<std::chrono::milliseconds>& since_failed, std::chrono::milliseconds after) {
  return !since_failed || *since_failed >= after;
}

std::string decide_seed(Plan& plan, const Snapshot& s, const BrokerFacts& f) {
  const BrokerView& b = s.broker;
  if (!b.seed_known) return "broker: waiting for Consul's answer on the cluster's founder";
  if (!b.seed_error.empty()) return "broker: the founder key in Consul is unreadable (" + b.seed_error + "): not acted on";
  if (!b.seed) {
    // Create-only in Consul: of nodes that ask at once, one founds.
    if (!s.consul.quorum_reachable) return "broker: no founder yet; waiting for Consul's quorum";
    // Consul's data lost takes the key while the brokers run on, clustered:
    // the founder named again must be one of that cluster's. A broker alone
    // named instead would stay alone for good: the clustered ones count as
    // in its cluster (in_seed_cluster) and never join it.
    if (f.nodes.size() <= 1)
      for (const auto& [name, m] : s.kv.members)
        if (name != s.self && m.broker_members.size() > 1)
          return "broker: no founder in Consul (its data lost?) while " + name +
                 "'s broker runs in a cluster: a node of that cluster is named founder, this one joins it";
    if (want(plan, s, ClaimBrokerSeed{{s.self, f.node}})) return "broker: founding the cluster (" + f.node + ")";
    return "broker: founding the cluster";
  }
  const auto& seed = *b.seed;
  if (in_seed_cluster(f, seed)) return {};
  // Alone, and not the founder: join the founder's cluster, if nothing is lost by it.
  const cluster::MemberRecord* target = join_target(s, seed);
  if (!target) return "broker: alone; no member of " + seed.node + "'s cluster answers yet to join";
  if (contains(running_with_other_cookie(s), target->name))
    return "broker: alone; its Erlang cookie differs from " + target->name + "'s, so it cannot join (" +
           kCookieAdvice + ")";
  // A join resets this broker: what it holds must be known now.
  if (!b.queues_error.empty())
    return "broker: alone; its queues are not read (" + b.queues_error + "): not joining until they are";
  if (f.messages > 0)
    return "broker: alone, holding " + std::to_string(f.messages) +
           " message(s): not joining " + seed.node + "'s cluster, which would delete them (an operator decides)";
  if (!retry_due(b.since_join_failed, b.retry_after))
    return "broker: the join failed (" + b.join_error + "); trying again within " + seconds_text(b.retry_after);
  if (const auto first = joins_first(s, seed); !first.empty())
    return "broker: alone; " + first + " joins first (one join at a time)";
  if (want(plan, s, JoinBrokerCluster{target->address, target->name}))
    return "broker: alone; joining the cluster through " + target->name + " (" +
           rabbitmq::broker_name_of(target->address) + ")";
  return "broker: joining the cluster";
}

// The leader removes from the broker cluster a node that is no longer one of
// the cluster's nodes (an operator forgot it) once its broker is down.
std::string decide_forget(Plan& plan, const Snapshot& s, const BrokerFacts& f) {
  if (plan.role != Role::leader || !s.kv.known || s.known.nodes.empty()) return {};
  std::set<std::string> addresses;
  for (const auto& [name, node] : s.known.nodes) addresses.insert(node.address);
  for (const auto& n : f.nodes) {
    auto address = rabbitmq::address_of_broker(n.name);
    if (n.name == f.node || n.running || !address || addresses.count(*address)) continue;
    if (!retry_due(s.broker.since_forget_failed, s.broker.retry_after))
      return "broker: forgetting " + n.name + " failed (" + s.broker.forget_error + "); trying again later";
    if (want(plan, s, ForgetBrokerNode{*address})) return "broker: " + n.name + " left the cluster for good: forgetting it";
    return {};
  }
  return {};
}

}  // namespace

std::string broker_summary(const Snapshot& s) {
  const BrokerView& b = s.broker;
  if (!b.enabled) return {};
  const UnitView* unit = unit_of(s);
  if (unit && !unit->running_or_starting()) return "stopped (" + unit->active_state + ")";
  if (s.busy.count(Job::join_broker_cluster)) return kJoiningState;
  // No running count of seconds: the member record is written again whenever this changes.
  if (!b.read_error.empty()) {
    const auto cookie = odd_cookie(s);
    return cookie.empty() ? "silent: " + b.read_error : "silent: " + cookie;
  }
  if (!b.local_alarm.empty()) return "alarm: " + b.local_alarm;
  if (!b.facts) return "starting";
  return running_state(b.facts->running().size(), b.facts->nodes.size());
}

std::string broker_problem(const Snapshot& s) {
  const BrokerView& b = s.broker;
  if (!b.enabled) return {};
  const UnitView* unit = unit_of(s);
  if (unit && !unit->running_or_starting()) return "broker " + unit->active_state;
  // A silent broker is starting, or paused in a minority (pause_minority stops its listeners).
  if (!b.read_error.empty() && b.silent_for >= b.unfit_after)
    return odd_cookie(s).empty() ? "broker not answering" : "broker's Erlang cookie differs from the cluster's";
  if (!b.local_alarm.empty()) return "broker alarm";
  if (!b.facts) return b.read_error.empty() ? "" : "broker not answering";
  const BrokerFacts& f = *b.facts;
  if (const auto* self = f.self()) {
    if (self->memory_alarm) return "broker memory alarm";
    if (self->disk_alarm) return "broker disk alarm";
    // pause_minority keeps the majority side serving: a partition is this
    // node's problem when its own view is a minority (the side that must
    // pause, or be restarted by decide_partition).
    if (!self->partitions.empty() && in_minority(f)) return "broker partitioned from " + self->partitions.front();
  }
  if (b.seed && !in_seed_cluster(f, *b.seed)) return "broker outside the cluster";
  return {};
}

std::string decide_broker(Plan& plan, const Snapshot& s) {
  const BrokerView& b = s.broker;
  if (!b.enabled || s.shutting_down) return {};
  if (!b.template_error.empty()) return "broker: " + b.template_error;
  auto rendered = rabbitmq::render_broker_conf(b.template_text, b.conf_model);
  if (!rendered.error.empty()) return "broker: rabbitmq.conf not rendered: " + rendered.error;
  const UnitView* unit = unit_of(s);
  const bool running = unit && unit->running_or_starting();
  if (b.conf_file != rendered.text) {
    // rabbitmq.conf is read at start only: a running broker takes it at its next start.
    if (want(plan, s, ApplyBrokerConf{rendered.text, s.units_connected && unit && !running}))
      return running ? "broker: rabbitmq.conf changed (taken at the broker's next start)" : "broker: writing rabbitmq.conf";
    return "broker: writing rabbitmq.conf";
  }
  if (!s.units_connected || !unit) return "broker: waiting for systemd";
  if (!running) {
    if (s.busy.count(Job::join_broker_cluster) || s.busy.count(Job::restart_broker)) return {};
    if (want(plan, s, StartBroker{})) return "broker: starting " + b.unit + " (" + unit->active_state + ")";
    return {};
  }
  if (!b.read_error.empty()) {
    // Silent with its unit up: starting, or paused in a minority, which
    // ends by itself when the partition heals. Restarted only when nothing
    // listens (a slow answer is a busy broker, not a stuck one) for
    // stuck_after, while this node reaches Consul's quorum (so it is not
    // the one cut off) and another node's broker runs in the cluster.
    // A cookie no running peer shares: a restart meets the same refusal.
    if (const auto cookie = odd_cookie(s); !cookie.empty() && b.silent_for >= b.start_grace)
      return "broker: silent; " + cookie + " (" + kCookieAdvice + ")";
    bool peers_run = false;
    for (const auto& [name, m] : s.kv.members) peers_run = peers_run || (name != s.self && !m.broker_members.empty());
    if (!b.refused || b.silent_for < b.stuck_after || !s.consul.quorum_reachable || !peers_run ||
        s.busy.count(Job::join_broker_cluster))
      // No count of seconds here: the reason is logged whenever it changes.
      return b.silent_for < b.start_grace ? std::string{} : "broker: silent (" + b.read_error + ")";
    if (want(plan, s, RestartBroker{"nothing listens for " + seconds_text(b.silent_for) +
                                    " while Consul's quorum answers and other brokers run"}))
      return "broker: nothing listens for " + seconds_text(b.silent_for) +
             " while this node reaches Consul's quorum and other brokers run: restarting it";
    return {};
  }
  if (!b.facts_error.empty() || !b.facts)
    return b.facts_error.empty() ? "" : "broker: the cluster view is stale (" + b.facts_error + ")";
  const BrokerFacts* f = fresh_facts(b);
  if (auto partition = decide_partition(plan, s, *f); !partition.empty()) return partition;
  std::string note = decide_seed(plan, s, *f);
  return append(note, decide_forget(plan, s, *f));
}

void publish_broker(const Snapshot& s, cluster::MemberRecord& r) {
  r.broker_state = broker_summary(s);
  r.broker_cookie = s.broker.enabled ? s.broker.cookie_fingerprint : "";
  if (const BrokerFacts* f = fresh_facts(s.broker)) r.broker_members = f->running();
}

}  // namespace hasup::loop
