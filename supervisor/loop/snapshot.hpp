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

#include "components/keepalived/model.hpp"
#include "components/patroni/model.hpp"
#include "components/postgres/model.hpp"
#include "components/postgres/probe.hpp"
#include "components/nginx/model.hpp"
#include "components/syncthing/model.hpp"
#include "components/syncthing/observe_parse.hpp"
#include "components/systemd/unit_state.hpp"
#include "supervisor/cluster/records.hpp"

namespace hasup::loop {

// Slow work that runs outside the cycle; while one runs, decide() does not ask for it again.
enum class Job { identify_agent, register_service, open_session, publish_member, acquire_leadership,
                 release_leadership, publish_cluster_state, close_session, set_vip_fault, apply_keepalived_conf,
                 start_keepalived, register_node, apply_nginx_conf, start_nginx,
                 apply_patroni_conf, start_patroni, set_vip_preference, bootstrap_stolon,
                 start_stolon_units, apply_syncthing_config, start_syncthing };
std::string to_string(Job job);
std::string to_string(const std::set<Job>& jobs);  // "a,b"; "" when none

struct ConsulLink {
  bool agent_known = false;   // /v1/agent/self answered at least once
  std::string agent_node;     // the local agent's node name (sessions live on it)
  std::string agent_version;
  bool ever_reached_quorum = false;
  bool quorum_reachable = false;  // a consistent read succeeded within the bound
  std::chrono::milliseconds since_quorum_contact{0};
  std::chrono::milliseconds quorum_loss_timeout{0};
  std::string quorum_error;   // why the last quorum probe failed (empty after a success)
  std::string last_error;     // newest failure of any call to Consul, for status
};

struct SessionView {
  std::string id;
  bool valid = false;
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
  std::map<std::string, std::string> registered;          // node name -> address, alive or not
  std::map<std::string, std::string> registered_devices;  // node name -> syncthing device id (unvalidated)
  std::optional<cluster::ClusterState> cluster_state;
};

// A systemd unit as the unit manager last saw it.
struct UnitView {
  std::string active_state;  // active, inactive, failed, activating, ...
  std::string sub_state;
  std::uint64_t n_restarts = 0;
  std::uint32_t main_pid = 0;

  bool running_or_starting() const { return systemd::running_or_starting(active_state); }
  bool reloadable() const { return systemd::reloadable(active_state); }
  bool serving() const { return systemd::serving(active_state); }
};

// The floating IP on this node: what keepalived is told, read from the files.
struct VipView {
  bool enabled = false;
  std::string template_text;                 // templates/keepalived.conf.mustache
  std::string template_error;                // when it could not be read
  std::optional<std::string> current_conf;   // keepalived.conf as it is; nullopt: absent
  std::optional<bool> fault_now;             // the track file says FAULT; nullopt: absent
  keepalived::VrrpModel base;                // from config; decide() adds the peers
  std::string unit;                          // keepalived's systemd unit
  std::string vrrp_state;                    // keepalived's last notify: MASTER, BACKUP, FAULT, STOP; "" unknown
  bool holds_address = false;                // the floating IP is on this node's interface now
  // How long this node has had a local problem (local_problem() not empty),
  // and how long one must last before the IP goes to a fit node: a failure
  // every node sees at once (a database failover) then moves nothing.
  std::optional<bool> preferred_now;        // the preference track file says 1; nullopt: absent
  std::chrono::milliseconds problem_for{0};
  std::chrono::milliseconds unfit_grace{0};
};

// One Consul service whose passing instances nginx routes to, as last read.
struct WatchedService {
  std::string name;
  bool known = false;            // Consul answered at least once
  std::uint64_t index = 0;       // Consul's index of that answer
  nginx::ServiceSet set;         // passing instances that passed validation
  std::vector<std::string> rejected;  // why each other instance was refused (Consul data, sanitized)
  std::set<std::string> failing_nodes;  // Consul nodes whose instance fails its checks
  std::string error;             // the newest watch failure; the set above stays in use
};

// nginx on this node: what it serves, what Consul says it should serve, and
// the timing facts the debounce needs (all relative to the snapshot).
struct NginxView {
  bool enabled = false;
  std::string template_text;
  std::string template_error;
  nginx::NginxModel base;                       // from config; decide() adds the services
  std::vector<WatchedService> services;         // in config order
  std::optional<std::string> current_body;      // the config nginx was last given; nullopt: none yet
  std::uint64_t generation = 0;                 // of current_body: one more per applied config
  std::string fingerprint;                      // of current_body's upstream set
  std::string rejected_body;                    // the newest render that `nginx -t` refused
  std::string rejected_error;
  std::string last_error;                       // the newest failure to apply or reload
  std::uint64_t reloads = 0;                    // since this supervisor started
  std::chrono::milliseconds since_change{0};    // since the inputs last changed
  std::chrono::milliseconds since_first_unapplied{0};  // since the first change not yet applied
  std::optional<std::chrono::milliseconds> since_last_apply;  // nullopt: never applied
  std::chrono::milliseconds wait_min{0};
  std::chrono::milliseconds wait_max{0};
  std::chrono::milliseconds reload_interval{0};
  std::string unit;
};

// PostgreSQL HA on this node: what the backend's keys in Consul say about the
// cluster, what the probes saw, and (Patroni) the files the supervisor renders.
struct DbView {
  bool enabled = false;
  std::string backend;                      // patroni, stolon
  // The cluster as its HA manager reports it in Consul.
  bool cluster_known = false;               // Consul answered at least once
  db::DbClusterView cluster;                // the newest whole view
  std::string cluster_error;                // why the newest read was refused (the last view stays)
  // Probes of this node (nullopt: none finished yet).
  std::optional<db::EndpointProbe> endpoint;
  std::optional<db::LocalProbe> local;
  std::chrono::milliseconds endpoint_failing_for{0};  // 0 while the last write probe succeeded
  std::chrono::milliseconds unfit_after{0};
  // Patroni: rendered by decide() from these, compared with the files.
  std::string patroni_template;
  std::string bootstrap_template;
  std::string template_error;               // a template or the secrets file could not be read
  patroni::PatroniModel model;              // from config and secrets
  std::optional<std::string> current_conf;  // patroni.yml as it is; nullopt: absent
  std::optional<std::string> current_sql;
  std::string unit;
  std::string last_error;                   // newest failure to write or reload
  // stolon: the initial cluster spec (rendered at load; empty with
  // template_error), its units, and the newest bootstrap's outcome.
  std::string stolon_spec;
  std::vector<std::string> stolon_units;
  std::string bootstrap_outcome;
};

// A peer of this node's syncthing, as it last reported.
struct SyncPeerView {
  std::string name;
  std::string device_id;
  bool connected = false;
  // Per folder id: how far the peer is from the folder's global state.
  std::map<std::string, syncthing::Completion> completion;
  bool operator==(const SyncPeerView&) const = default;
};

// The replicated folders on this node: syncthing's identity and config as it
// answered, its peers, what this node still misses, and conflict copies.
struct FilesView {
  bool enabled = false;
  std::string unit;
  std::vector<syncthing::Folder> folders;
  std::string listen_address;                     // tcp://SELF:SYNC_PORT
  int sync_port = 0;
  bool api_known = false;                         // syncthing's API answered at least once
  std::string api_error;                          // the newest failure to read it; empty after a success
  std::chrono::milliseconds api_failing_for{0};  // since the last whole read (0 while reads succeed)
  std::string device_id;                          // this node's, once read
  std::optional<std::string> current_config;      // GET /rest/config as last read
  std::map<std::string, SyncPeerView> peers;      // by device id: the devices syncthing knows, but self
  std::map<std::string, syncthing::FolderStatus> folder_status;  // by folder id, this node's own
  std::chrono::milliseconds behind_for{0};        // this node missing items its peers have, since
  std::chrono::milliseconds unfit_after{0};
  std::size_t conflicts = 0;                      // conflict copies found by the newest search
  std::vector<std::string> conflict_examples;     // a few of their paths
  std::string last_error;                         // newest failure to apply the config
};

struct Snapshot {
  std::string self;
  std::string self_address;
  std::map<std::string, std::string> versions;
  std::string wall_time;  // UTC, for "since" stamps
  ConsulLink consul;
  bool service_registered = false;
  SessionView session;
  KvView kv;
  std::set<Job> busy;
  bool shutting_down = false;
  bool units_connected = false;               // the unit manager reaches systemd
  std::map<std::string, UnitView> units;      // watched units, by name
  VipView vip;
  NginxView nginx;
  DbView db;
  FilesView files;
};

}  // namespace hasup::loop
