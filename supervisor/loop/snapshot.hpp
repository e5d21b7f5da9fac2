#pragma once
// One immutable picture of the world, taken at the start of a cycle. decide()
// sees only this; everything it needs to choose is in here.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

// Each component's part: its view, in its own folder.
#include "components/cold-start/view.hpp"
#include "components/dead-peers/view.hpp"
#include "components/db-login/view.hpp"
#include "components/members-only/view.hpp"
#include "components/pause/view.hpp"
#include "components/keepalived/view.hpp"
#include "supervisor/consul/types.hpp"
#include "components/nginx/view.hpp"
#include "components/postgres/view.hpp"
#include "components/rabbitmq/view.hpp"
#include "components/switchover/view.hpp"
#include "components/syncthing/view.hpp"
#include "components/systemd/unit_state.hpp"
#include "supervisor/cluster/records.hpp"
#include "supervisor/loop/stale_file.hpp"

namespace hasup::loop {

// Slow work that runs outside the cycle; while one runs, decide() does not ask for it again.
enum class Job { identify_agent, register_service, open_session, publish_member, acquire_leadership,
                 release_leadership, publish_cluster_state, close_session, set_vip_fault, apply_keepalived_conf,
                 start_keepalived, register_node, apply_nginx_conf, start_nginx,
                 apply_patroni_conf, start_patroni, set_vip_preference, bootstrap_stolon,
                 start_stolon_units, apply_syncthing_config, start_syncthing, apply_vrrp_filter, remember_nodes,
                 apply_dead_peers, resync_consul_agent, apply_members_only,
                 apply_broker_conf, start_broker, restart_broker, claim_broker_seed, join_broker_cluster,
                 forget_broker_node, restore_settings, start_login_rotation, apply_client_login,
                 finish_login_rotation, accept_cold_start, drop_cold_start_accept,
                 restore_patroni_keys, restore_login_record, write_switchover, ask_patroni_switchover,
                 wake_patroni, wake_patroni_for_leader, set_write_hold, set_patroni_pause, set_patroni_strict,
                 wake_patroni_for_sync, rotate_syncthing_key };
std::string to_string(Job job);
std::string to_string(const std::set<Job>& jobs);  // "a,b"; "" when none

// A check of this node on which the catalog and the local agent disagree
// (CatalogDriftPoll), and for how long so far.
struct CheckDrift {
  std::string check;
  std::string agent;    // the status the local agent runs
  std::string catalog;  // the catalog's, or "missing"
  std::chrono::milliseconds lasted{0};
};

struct ConsulLink {
  bool agent_known = false;   // /v1/agent/self answered at least once
  std::string agent_node;     // the local agent's node name (sessions live on it)
  std::string agent_version;
  consul::AgentProtections agent_protections;  // from /v1/agent/self, at start
  bool ever_reached_quorum = false;
  bool quorum_reachable = false;  // a consistent read succeeded within the bound
  std::chrono::milliseconds since_quorum_contact{0};
  std::chrono::milliseconds quorum_loss_timeout{0};
  std::string quorum_error;   // why the last quorum probe failed (empty after a success)
  // The local agent's gossip: address -> serf status ("alive", "failed", ...),
  // from GET /v1/agent/members, polled (GossipPoll); known once it answered.
  // Current while the servers elect a leader, when the quorum probe fails.
  bool gossip_known = false;
  std::map<std::string, std::string> gossip;
  std::string gossip_error;  // the last poll's failure ("" after a success)
  // The catalog's disagreements with the local agent on this node's checks
  // (empty when none, or when either could not be read), and how long ago
  // the agent was last asked for a full sync (unset: never).
  std::vector<CheckDrift> catalog_drift;
  std::optional<std::chrono::milliseconds> agent_resync_ago;
  std::string last_error;     // newest failure of any call to Consul, for status
};

struct SessionView {
  std::string id;
  bool valid = false;
};

// How long ago Consul last refused this session the member key or the leader
// lock (unset: no refusal since the last success). Within the lock-delay
// after the previous holder's session ended Consul refuses every acquire, so
// the next try waits a little instead of hammering Consul with writes.
struct LockRefusals {
  std::optional<std::chrono::milliseconds> member_ago;
  std::optional<std::chrono::milliseconds> leader_ago;
};

struct LeaderLock {
  std::string session;      // holder
  std::uint64_t epoch = 0;  // the lock key's ModifyIndex when acquired: the fencing token
  std::string name;         // holder's node name, from the lock value
};

struct UnreadableRecord {
  std::string key;
  std::string error;
};

// The cluster's keys as last read from Consul.
struct KvView {
  bool known = false;
  std::map<std::string, cluster::MemberRecord> members;  // live, readable records by name
  std::map<std::string, std::string> member_sessions;     // name -> session holding the record
  std::vector<UnreadableRecord> unreadable;
  std::optional<LeaderLock> leader;                        // absent: the lock is free
  std::set<std::string> maintenance;                       // nodes with maintenance intent
  std::map<std::string, std::string> maintenance_requested_by;  // node -> who asked (the intent's words)
  std::map<std::string, std::string> registered;          // node name -> address, alive or not
  std::map<std::string, std::string> registered_devices;  // node name -> syncthing device id (unvalidated)
  std::map<std::string, int> registered_reads_schema;      // node name -> newest member schema it reads
  std::set<std::string> forgotten;                         // tombstones: nodes an operator forgot
  std::optional<cluster::ClusterState> cluster_state;
  // A key's value as stored, with its ModifyIndex (a check-and-set's token).
  struct StoredValue {
    std::string text;
    std::uint64_t index = 0;  // the key's ModifyIndex
  };
  // PREFIX/settings as stored (checked by the engine, against this node's file).
  std::optional<StoredValue> settings;
  // PREFIX/credentials/db-login and .../replication-login as stored (components/db-login reads them).
  std::optional<StoredValue> db_login;
  std::optional<StoredValue> replication_login;
  // PREFIX/intent/cold-start as stored: the operator's accepted founder (components/cold-start).
  std::optional<StoredValue> cold_start;
  // PREFIX/intent/switchover as stored: the newest planned switchover (components/switchover).
  std::optional<StoredValue> switchover;
  // PREFIX/intent/pause as stored: the cluster paused or resumed (components/pause).
  std::optional<StoredValue> pause;
  // PREFIX/credentials/syncthing-key as stored: the API keys' rotation (components/syncthing/key_record.hpp).
  std::optional<StoredValue> syncthing_key;
};

// The cluster's nodes, alive or not, as every component uses them (VRRP peers,
// syncthing devices, the database's host list): built by
// cluster::known_nodes from Consul's registrations and this node's memory.
struct KnownNodes {
  std::map<std::string, cluster::NodeRegistration> nodes;  // by name, this node included
  // Remembered, missing from Consul, never forgotten: kept as peers (Consul's
  // data lost or reset, or an ACL token that cannot read nodes/).
  std::set<std::string> kept;
  // What this node remembers: the memory file as last read or written.
  std::map<std::string, cluster::NodeRegistration> remembered;
  std::string memory_error;  // the memory file could not be read or written
};

// A systemd unit as the unit manager last saw it.
struct UnitView {
  std::string active_state;  // active, inactive, failed, activating, ...
  std::string sub_state;
  std::uint64_t n_restarts = 0;
  std::uint32_t main_pid = 0;
  // When it last changed state (started, restarted, finished a reload):
  // systemd's StateChangeTimestamp; nullopt unknown (stale_file.hpp).
  std::optional<WallTime> state_changed{};

  bool running_or_starting() const { return systemd::running_or_starting(active_state); }
  bool reloadable() const { return systemd::reloadable(active_state); }
  bool serving() const { return systemd::serving(active_state); }
};

// The cluster's settings on this node (the engine applies them).
struct SettingsView {
  std::uint64_t applied_index = 0;   // the store's index of the settings in effect; 0: none
  std::string applied_text = "{}";   // those settings, as stored
  std::vector<std::string> pending;  // keys whose new value waits for a restart
  std::string error;                 // the store's settings refused: why ("" none)
};

struct Snapshot {
  std::string self;
  std::string self_address;
  std::string durability;  // cluster.durability: the appliance's rule
  // The rule this node's upload gate says it runs by (cluster.gate_durability_file),
  // read on a node that replicates files: "" not said; gate_durability_error why.
  std::string gate_durability;
  std::string gate_durability_error;
  std::map<std::string, std::string> versions;
  std::string wall_time;  // UTC, for "since" stamps
  std::int64_t wall_ms = 0;  // the same instant in Unix ms: for times any node may compare (a switchover's phases)
  ConsulLink consul;
  bool service_registered = false;
  SessionView session;
  LockRefusals refused;
  KvView kv;
  SettingsView settings;
  KnownNodes known;
  std::set<Job> busy;
  bool shutting_down = false;
  bool units_connected = false;               // the unit manager reaches systemd
  std::map<std::string, UnitView> units;      // watched units, by name
  VipView vip;
  NginxView nginx;
  DbView db;
  LoginView db_login;
  LoginView replication_login;
  ColdStartView cold_start;
  SwitchoverView switchover;
  PauseView pause;
  FilesView files;
  DeadPeersView dead_peers;
  MembersOnlyView members_only;
  BrokerView broker;
};

}  // namespace hasup::loop
