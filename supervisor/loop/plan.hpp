#pragma once
// What decide() asks for: typed actions, one struct per job, each carrying
// exactly what its job needs. The engine runs the cluster's own actions and
// hands the others to the driver that owns them.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "supervisor/cluster/records.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// What an apply job does with the service's unit once the file is written,
// decided from the snapshot's unit state: the job does not look again.
enum class AfterWrite { nothing, reload, start };

// The cluster's actions (the engine: Consul agent, session, records, leadership).
struct IdentifyAgent {
  static constexpr Job job = Job::identify_agent;
  bool operator==(const IdentifyAgent&) const = default;
};
struct RegisterService {
  static constexpr Job job = Job::register_service;
  bool operator==(const RegisterService&) const = default;
};
struct OpenSession {
  static constexpr Job job = Job::open_session;
  bool operator==(const OpenSession&) const = default;
};
struct PublishMember {
  static constexpr Job job = Job::publish_member;
  cluster::MemberRecord record;
  bool operator==(const PublishMember&) const = default;
};
struct AcquireLeadership {
  static constexpr Job job = Job::acquire_leadership;
  std::string session;
  bool operator==(const AcquireLeadership&) const = default;
};
struct ReleaseLeadership {
  static constexpr Job job = Job::release_leadership;
  std::uint64_t epoch = 0;  // the fencing token decided on
  std::string session;      // the lock's session
  bool operator==(const ReleaseLeadership&) const = default;
};
struct PublishClusterState {
  static constexpr Job job = Job::publish_cluster_state;
  cluster::ClusterState state;
  std::uint64_t epoch = 0;  // the write commits only while the lock is at this epoch
  std::string session;      // ... and held by this session
  bool operator==(const PublishClusterState&) const = default;
};
struct CloseSession {
  static constexpr Job job = Job::close_session;
  std::string session;
  bool operator==(const CloseSession&) const = default;
};
struct RegisterNode {
  static constexpr Job job = Job::register_node;
  std::string syncthing_device_id;  // "" while not known
  bool operator==(const RegisterNode&) const = default;
};
// This node's memory of the cluster's nodes (cluster/known_nodes.hpp), written
// to node.known_nodes_file so it outlives a restart and a reboot.
struct RememberNodes {
  static constexpr Job job = Job::remember_nodes;
  std::map<std::string, cluster::NodeRegistration> nodes;
  bool operator==(const RememberNodes&) const = default;
};

// The store lost the cluster's settings (Consul's data rebuilt): the leader
// writes back its copy, create-only, when no live member applied newer ones.
struct RestoreSettings {
  static constexpr Job job = Job::restore_settings;
  std::string text;
  std::uint64_t index = 0;  // the index this copy had in the lost store (for the log)
  bool operator==(const RestoreSettings&) const = default;
};

// The local Consul agent reloads, which syncs its whole state to the catalog
// (catalog_sync.hpp says when).
struct ResyncConsulAgent {
  static constexpr Job job = Job::resync_consul_agent;
  std::string disagreements;  // in words, for the log
  bool operator==(const ResyncConsulAgent&) const = default;
};

// The floating IP (components/keepalived/driver).
struct SetVipFault {
  static constexpr Job job = Job::set_vip_fault;
  bool fault = false;
  bool operator==(const SetVipFault&) const = default;
};
struct SetVipPreference {
  static constexpr Job job = Job::set_vip_preference;
  bool preferred = false;
  bool operator==(const SetVipPreference&) const = default;
};
struct ApplyKeepalivedConf {
  static constexpr Job job = Job::apply_keepalived_conf;
  std::string text;  // the whole keepalived.conf
  AfterWrite after = AfterWrite::nothing;  // reload when running; keepalived is started by StartKeepalived
  bool catch_up = false;  // the file already holds `text`; keepalived runs an older one (stale_file.hpp)
  bool operator==(const ApplyKeepalivedConf&) const = default;
};
// The kernel's VRRP filter: an nft script that replaces its table whole.
struct ApplyVrrpFilter {
  static constexpr Job job = Job::apply_vrrp_filter;
  std::string ruleset;
  bool operator==(const ApplyVrrpFilter&) const = default;
};
struct StartKeepalived {
  static constexpr Job job = Job::start_keepalived;
  bool operator==(const StartKeepalived&) const = default;
};

// nginx (components/nginx/driver).
struct ApplyNginxConf {
  static constexpr Job job = Job::apply_nginx_conf;
  std::string text;  // the whole file: header line and body
  std::uint64_t generation = 0;
  AfterWrite after = AfterWrite::start;  // reload when running, else start
  bool catch_up = false;  // the file already holds `text`; nginx runs an older one (stale_file.hpp)
  bool operator==(const ApplyNginxConf&) const = default;
};
struct StartNginx {
  static constexpr Job job = Job::start_nginx;
  bool operator==(const StartNginx&) const = default;
};

// PostgreSQL HA (components/postgres/driver): Patroni's and stolon's jobs.
struct ApplyPatroniConf {
  static constexpr Job job = Job::apply_patroni_conf;
  std::string yml;  // patroni.yml
  std::string sql;  // the bootstrap SQL
  AfterWrite after = AfterWrite::nothing;  // reload when running, start when not, nothing without systemd
  bool catch_up = false;  // the files already hold these; Patroni runs an older one (stale_file.hpp)
  bool operator==(const ApplyPatroniConf&) const = default;
};
// Consul has lost Patroni's records and this node holds the newest copy of a
// majority's: written back, create-only (components/patroni/keys_copy.hpp).
// Consul has lost a rotating login's record and this node holds the newest
// copy of a majority's: written back, create-only (components/db-login/record_copy.hpp).
struct RestoreLoginRecord {
  static constexpr Job job = Job::restore_login_record;
  db_login::LoginSecret secret = db_login::LoginSecret::db_password;
  std::string text;           // the copy, encoded
  std::uint64_t revision = 0; // the copy's, for the log
  bool operator==(const RestoreLoginRecord&) const = default;
};

struct RestorePatroniKeys {
  static constexpr Job job = Job::restore_patroni_keys;
  std::uint64_t index = 0;  // the copy's, for the log
  bool operator==(const RestorePatroniKeys&) const = default;
};
struct StartPatroni {
  static constexpr Job job = Job::start_patroni;
  bool operator==(const StartPatroni&) const = default;
};
struct BootstrapStolon {
  static constexpr Job job = Job::bootstrap_stolon;
  std::string spec;  // the initial cluster spec
  bool operator==(const BootstrapStolon&) const = default;
};
struct StartStolonUnits {
  static constexpr Job job = Job::start_stolon_units;
  std::vector<std::string> units;  // the stopped ones, in start order: sentinel, keeper, proxy
  bool operator==(const StartStolonUnits&) const = default;
};

// The replicated folders (components/syncthing/driver).
struct ApplySyncthingConfig {
  static constexpr Job job = Job::apply_syncthing_config;
  std::string body;     // the whole config for PUT /rest/config
  std::string changes;  // what changes, in words
  bool operator==(const ApplySyncthingConfig&) const = default;
};
struct StartSyncthing {
  static constexpr Job job = Job::start_syncthing;
  bool operator==(const StartSyncthing&) const = default;
};
// This node's syncthing gets a new API key (components/syncthing/key_rotation.hpp).
struct RotateSyncthingKey {
  static constexpr Job job = Job::rotate_syncthing_key;
  std::uint64_t generation = 0;
  bool operator==(const RotateSyncthingKey&) const = default;
};

// Dead peers (components/dead-peers): an nft script that replaces its table whole.
struct ApplyDeadPeers {
  static constexpr Job job = Job::apply_dead_peers;
  std::string script;
  std::map<std::string, std::string> peers;  // name -> address refused, for the log
  bool operator==(const ApplyDeadPeers&) const = default;
};

// Members-only ports (components/members-only): an nft script that replaces its table whole.
struct ApplyMembersOnly {
  static constexpr Job job = Job::apply_members_only;
  std::string script;
  bool operator==(const ApplyMembersOnly&) const = default;
};

// The message broker (components/rabbitmq/driver).
struct ApplyBrokerConf {
  static constexpr Job job = Job::apply_broker_conf;
  std::string text;    // the whole rabbitmq.conf
  bool start = false;  // start the unit once written (it is not running)
  bool operator==(const ApplyBrokerConf&) const = default;
};
struct StartBroker {
  static constexpr Job job = Job::start_broker;
  bool operator==(const StartBroker&) const = default;
};
struct RestartBroker {
  static constexpr Job job = Job::restart_broker;
  std::string why;
  bool operator==(const RestartBroker&) const = default;
};
// Create-only in Consul: the first node to ask founds the broker cluster.
struct ClaimBrokerSeed {
  static constexpr Job job = Job::claim_broker_seed;
  rabbitmq::BrokerSeed seed;
  bool operator==(const ClaimBrokerSeed&) const = default;
};
// This node's broker (alone, empty) joins the cluster of the broker at `address`.
struct JoinBrokerCluster {
  static constexpr Job job = Job::join_broker_cluster;
  std::string address;  // a running member's address (an IPv4 literal)
  std::string node;     // its node name, for the log
  bool operator==(const JoinBrokerCluster&) const = default;
};
// The broker cluster forgets rabbit@address, a node gone for good.
struct ForgetBrokerNode {
  static constexpr Job job = Job::forget_broker_node;
  std::string address;
  bool operator==(const ForgetBrokerNode&) const = default;
};

// The rotating logins: the manager's database login and the replication
// login (components/db-login/driver). Both secrets' steps share the jobs, so
// two rotations under way take their steps in turn.
// Leader: the rotation's login gets its new password on the primary (derived: components/db-login/secret.hpp).
struct StartLoginRotation {
  static constexpr Job job = Job::start_login_rotation;
  db_login::LoginSecret secret = db_login::LoginSecret::db_password;
  std::uint64_t generation = 0;
  std::string login;
  std::uint64_t record_index = 0;  // the record's write is a check-and-set on it
  bool operator==(const StartLoginRotation&) const = default;
};
// The database login only: this node's REST service is given the login (its conninfo file rewritten, the unit reloaded).
struct ApplyClientLogin {
  static constexpr Job job = Job::apply_client_login;
  std::uint64_t generation = 0;
  std::string login;
  std::string nonce;  // with the store key, names its password (components/db-login/secret.hpp)
  bool operator==(const ApplyClientLogin&) const = default;
};
// Leader: every live node switched; the previous login is refused from now on.
struct FinishLoginRotation {
  static constexpr Job job = Job::finish_login_rotation;
  db_login::LoginSecret secret = db_login::LoginSecret::db_password;
  std::uint64_t generation = 0;
  std::string previous_login;
  std::uint64_t record_index = 0;
  bool operator==(const FinishLoginRotation&) const = default;
};

// The operator accepted this node as the founder after a power loss
// (components/cold-start): its Patroni is asked to fail over to it.
struct AcceptColdStart {
  static constexpr Job job = Job::accept_cold_start;
  std::string node;
  bool operator==(const AcceptColdStart&) const = default;
};
// The primary's node: the cluster has a primary again; the acceptance is removed
// (check-and-set on its index) and `said` logged.
struct DropColdStartAccept {
  static constexpr Job job = Job::drop_cold_start_accept;
  std::uint64_t index = 0;
  std::string said;
  bool operator==(const DropColdStartAccept&) const = default;
};

// The leader (components/switchover): the switchover's record moved on,
// check-and-set on its index, and `said` logged.
struct WriteSwitchover {
  static constexpr Job job = Job::write_switchover;
  std::string text;
  std::uint64_t index = 0;
  std::string said;
  bool operator==(const WriteSwitchover&) const = default;
};
// The leader: Patroni asked to switch `leader` over to `candidate`.
struct AskPatroniSwitchover {
  static constexpr Job job = Job::ask_patroni_switchover;
  std::string id;
  std::string leader;
  std::string candidate;
  bool operator==(const AskPatroniSwitchover&) const = default;
};
// The switchover's old primary: this node's Patroni runs its HA loop now
// rather than at its next loop_wait (a no-op PATCH /config wakes it), to act
// on the switchover `id` Patroni was asked for (`step`: demote).
struct WakePatroni {
  static constexpr Job job = Job::wake_patroni;
  std::string id;
  std::string step;
  bool operator==(const WakePatroni&) const = default;
};
// Every node but the new leader: this node's Patroni runs its HA loop now
// (as WakePatroni) because the leader key's member changed to `leader` ("":
// the key is gone, the standbys race for it; a name: the others follow it).
struct WakePatroniForLeader {
  static constexpr Job job = Job::wake_patroni_for_leader;
  std::string leader;
  bool operator==(const WakePatroniForLeader&) const = default;
};
// The leader key's holder: its Patroni runs its HA loop now (as WakePatroni)
// while its sync key names members that are gone (`gone`), so it drops them
// from synchronous_standby_names in fewer seconds.
struct WakePatroniForSyncKey {
  static constexpr Job job = Job::wake_patroni_for_sync;
  std::vector<std::string> gone;
  bool operator==(const WakePatroniForSyncKey&) const = default;
};
// Every node: the upload gate's hold file written (id) or removed (id "").
struct SetWriteHold {
  static constexpr Job job = Job::set_write_hold;
  std::string id;
  std::int64_t until_ms = 0;
  bool operator==(const SetWriteHold&) const = default;
};

// The leader (components/pause): Patroni's own pause set or cleared to
// follow the cluster's.
struct SetPatroniPause {
  static constexpr Job job = Job::set_patroni_pause;
  bool paused = false;
  bool operator==(const SetPatroniPause&) const = default;
};
// The leader (components/postgres): Patroni's synchronous_mode_strict set to
// what cluster.durability says (strict: commits wait for a standby).
struct SetPatroniStrict {
  static constexpr Job job = Job::set_patroni_strict;
  bool strict = false;
  bool operator==(const SetPatroniStrict&) const = default;
};

using Action = std::variant<IdentifyAgent, RegisterService, OpenSession, PublishMember, AcquireLeadership,
                            ReleaseLeadership, PublishClusterState, CloseSession, RegisterNode, RememberNodes,
                            RestoreSettings, ResyncConsulAgent, SetVipFault,
                            SetVipPreference, ApplyKeepalivedConf, ApplyVrrpFilter, StartKeepalived, ApplyNginxConf, StartNginx,
                            ApplyPatroniConf, RestorePatroniKeys, StartPatroni, BootstrapStolon, StartStolonUnits, ApplySyncthingConfig,
                            StartSyncthing, ApplyDeadPeers, ApplyMembersOnly, ApplyBrokerConf, StartBroker,
                            RestartBroker, ClaimBrokerSeed, JoinBrokerCluster, ForgetBrokerNode,
                            StartLoginRotation, ApplyClientLogin, FinishLoginRotation, RestoreLoginRecord, AcceptColdStart,
                            DropColdStartAccept, WriteSwitchover, AskPatroniSwitchover, WakePatroni, WakePatroniForLeader,
                            SetWriteHold,
                            SetPatroniPause, SetPatroniStrict, WakePatroniForSyncKey, RotateSyncthingKey>;

inline Job job_of(const Action& action) {
  return std::visit([](const auto& a) { return std::decay_t<decltype(a)>::job; }, action);
}

struct Plan {
  cluster::Role role = cluster::Role::starting;
  std::vector<Action> actions;
  std::string reason;  // one line, logged when it changes
  // Something is due later without any event (a debounce running out): run
  // a cycle after this long.
  std::optional<std::chrono::milliseconds> wake_after;
  // Asks for a cycle within `delay` (the earliest of every such ask wins).
  void wake_within(std::chrono::milliseconds delay) { wake_after = wake_after ? std::min(*wake_after, delay) : delay; }

  // The first action of type T, or nullptr. Not on a temporary plan: the
  // pointer would outlive it (has<T>() answers there).
  template <class T>
  const T* find() const& {
    for (const auto& a : actions)
      if (const T* found = std::get_if<T>(&a)) return found;
    return nullptr;
  }
  template <class T>
  const T* find() const&& = delete;
  template <class T>
  bool has() const {
    for (const auto& a : actions)
      if (std::holds_alternative<T>(a)) return true;
    return false;
  }
};

// Adds the action unless the same job is already running; false when busy.
inline bool want(Plan& plan, const Snapshot& s, Action action) {
  if (s.busy.count(job_of(action))) return false;
  plan.actions.push_back(std::move(action));
  return true;
}

}  // namespace hasup::loop
