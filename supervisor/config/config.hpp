#pragma once
// The supervisor's configuration: plain values, filled by the loader from a
// libconfig++ file checked against one schema (schema.cpp). Nothing here is
// half-filled: a Config exists only when the whole file passed every check.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasup::config {

struct NodeConfig {
  std::string name;     // this machine's member name, unique in the cluster
  std::string address;  // address peers and clients use to reach this node
  // This node's memory of the cluster's nodes (cluster/known_nodes.hpp).
  std::string known_nodes_file = "/var/lib/ha-supervisor/known-nodes.json";
  std::string settings_file = "/var/lib/ha-supervisor/cluster-settings.json";
};

// The appliance's durability rule, one for the database and the uploads
// (README, "Durability"): "available", a node alone acknowledges writes with
// one copy and says so, the copies catch up when a peer is back; "strict", a
// write needs a second copy, so a node alone refuses it. The upload gate
// gets the same value (components/upload-gate: replication.durability).
inline bool strict_durability(std::string_view durability) { return durability == "strict"; }

struct ClusterConfig {
  std::string durability = "available";
  // Where this node's upload gate says which rule it runs by (its
  // replication.durability_file): hactl status shows it, and a difference.
  std::string gate_durability_file = "/run/ha-upload-gate/durability";
  bool strict() const { return strict_durability(durability); }
};

struct ConsulConfig {
  std::string host = "127.0.0.1";  // the local Consul agent
  int port = 8500;
  std::string token;       // ACL token (secret: never logged)
  std::string token_file;  // or a file holding it (read at load)
  // Non-empty: HTTPS to the agent, its certificate checked against this CA
  // only and for `host`. Empty: plain HTTP (a test bed's agent).
  std::string ca_file;
  std::string key_prefix = "ha-supervisor";
  int request_timeout_ms = 2000;      // every non-blocking call
  int session_ttl_s = 15;             // 0 = no TTL; else 10..86400 (Consul's bounds)
  int lock_delay_ms = 3500;           // Consul lock-delay after session invalidation
  int check_ttl_ms = 3000;            // the supervisor's liveness check in Consul
  // No quorum for this long -> cut off. 4 s: a Consul Raft election after its
  // leader dies leaves healthy nodes without quorum for up to 3.0 s (measured,
  // bench_handover (d)), ~4 s now and then in the lab since (the floating IP
  // rides that out: vip.election_grace_ms); the bound must not mistake an
  // election for a partition.
  int quorum_loss_timeout_ms = 4000;
  int probe_interval_ms = 500;        // consistent-read probe of the quorum
  int gossip_poll_interval_ms = 200;  // GET /v1/agent/members on the local agent
  int blocking_wait_s = 30;           // ?wait= of blocking queries
};

struct LoopConfig {
  int interval_ms = 1000;   // cycle timer when nothing wakes the loop
  int log_repeat_s = 60;    // repeat an unchanged decision in the log this often
};

struct ApiConfig {
  std::string listen = "127.0.0.1";
  int port = 8801;
  std::string token_file = "/run/ha-supervisor/api-token";  // util/api_token.hpp
};

struct VipConfig {
  std::string address;  // "198.18.0.100/24"; empty: no floating IP here
  std::string interface = "eth0";
  int virtual_router_id = 51;
  int priority = 100;
  int advert_interval_ms = 100;
  std::string keepalived_conf = "/etc/keepalived/keepalived.conf";
  std::string template_path = "/usr/local/share/ha-supervisor/templates/keepalived.conf.mustache";
  std::string track_file = "/run/ha-supervisor/vip-fault";
  std::string notify_fifo = "/run/ha-supervisor/vrrp-notify.fifo";
  std::string keepalived_unit = "keepalived.service";
  int unfit_grace_ms = 3000;
  // Without a Consul quorum but in the gossip majority (the servers are
  // electing a leader), the IP stays where it is this much past the cut-off;
  // a supervisor restarted on the holder keeps it this long while it rejoins.
  int election_grace_ms = 6000;
  // Added to the priority of the database primary's node (0: no preference).
  int db_primary_weight = 20;
  std::string preference_file = "/run/ha-supervisor/vip-db-primary";
  // The kernel drops VRRP packets from any host that is not a member (nft).
  bool vrrp_filter = true;
  std::string nft = "/usr/sbin/nft";
  // Touched every second from the loop; keepalived goes to FAULT by itself
  // once it is older than heartbeat_max_age_s (a dead or hung supervisor).
  std::string heartbeat_file = "/run/ha-supervisor/alive";
  int heartbeat_max_age_s = 10;
  std::string heartbeat_check = "/usr/local/lib/ha-supervisor/heartbeat-fresh";
  bool enabled() const { return !address.empty(); }
};

struct SystemdConfig {
  std::string watch_units;  // comma-separated unit names whose state the loop follows
  std::string bus_address;  // empty: the system bus
};

// nginx in front of the REST service: its config is rendered from a template
// with the passing instances of `services` in Consul.
struct NginxConfig {
  bool enabled = false;
  std::string services = "rest-service";  // comma-separated Consul service names
  std::string template_path = "/usr/local/share/ha-supervisor/templates/nginx.conf.mustache";
  std::string conf_path = "/etc/ha-supervisor/nginx/nginx.conf";
  std::string unit = "ha-nginx.service";
  std::string binary = "/usr/sbin/nginx";
  std::string listen_address;  // empty: every address of the node
  int listen_port = 80;
  std::string user = "www-data";
  std::string runtime_dir = "/run/ha-nginx";
  std::string log_dir = "/var/log/ha-nginx";
  std::string resources_dir = "/opt/manager/resources";
  int wait_min_ms = 50;
  int wait_max_ms = 1000;
  int reload_interval_ms = 1000;
  int check_timeout_ms = 5000;
  // What one client, and all of them, may have in progress on /api/ (nginx's
  // limit_conn; beyond: 503 with Retry-After). max_requests stays below the
  // upload gate's limits.max_connections_per_client (320): nginx's connections
  // to the gate come from one address, the Consul check's too.
  int max_requests_per_client = 128;
  int max_requests = 256;
  // Longest wait for the gate's answer: at least its upstream_timeout_ms
  // (120 s) plus its replication.max_timeout_ms (600 s), which it may spend
  // holding an upload's answer before a byte goes back.
  int upstream_read_timeout_s = 720;
  // The operators (an htpasswd file nginx reads) who may read the status page
  // through nginx at /ha-status/ui; empty: not published (loopback API only).
  std::string status_page_users_file;
};

// PostgreSQL HA: the backend that runs it (Patroni rendered and run by the
// supervisor; stolon's parts from components/stolon), where the supervisor
// reads the cluster's state in Consul, and the probes of the local endpoint.
struct DbConfig {
  std::string backend = "none";  // none, patroni, stolon
  std::string scope = "manager-db";  // Patroni scope / stolon cluster name
  std::string patroni_namespace = "service";
  std::string stolon_prefix = "stolon/cluster";
  // libpq conninfo (keyword=value) of what local clients use; empty: every
  // registered node's address, target_session_attrs=read-write.
  std::string endpoint;
  std::string local;  // this node's own PostgreSQL; empty: 127.0.0.1 on db.port
  std::string secrets_file = "/etc/ha-supervisor/db-secrets";
  std::string peer_network;  // CIDR the nodes' PostgreSQL accept connections from
  int port = 5432;
  int api_port = 8008;
  std::string data_dir = "/var/lib/ha-patroni/data";
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string runtime_dir = "/run/ha-patroni";
  std::string log_dir = "/var/log/ha-patroni";
  std::string patroni_template = "/usr/local/share/ha-supervisor/templates/patroni.yml.mustache";
  std::string bootstrap_template = "/usr/local/share/ha-supervisor/templates/patroni-bootstrap.sql.mustache";
  std::string patroni_conf = "/etc/ha-supervisor/patroni/patroni.yml";
  std::string bootstrap_sql = "/etc/ha-supervisor/patroni/bootstrap.sql";
  std::string post_bootstrap = "/usr/local/lib/ha-patroni/post-bootstrap";
  std::string unit = "ha-patroni.service";
  // stolon (components/stolon/install.sh installs the binaries and units).
  std::string stolonctl = "/opt/stolon/bin/stolonctl";
  std::string stolon_spec_template = "/usr/local/share/ha-supervisor/templates/stolon-cluster-spec.json.mustache";
  std::string stolon_spec_file = "/etc/ha-supervisor/stolon/cluster-spec.json";
  std::string stolon_units = "stolon-sentinel.service,stolon-keeper.service,stolon-proxy.service";
  int stolon_keeper_port = 5433;  // the keeper's PostgreSQL; db.port is the proxy's
  int ttl_s = 20;  // Patroni 4 raises anything below 20 to 20
  int loop_wait_s = 1;
  int retry_timeout_s = 4;
  // off, on, quorum; strict and quorum-strict: on and quorum spelt with
  // cluster.durability = strict, which they need (schema.cpp's rule).
  std::string synchronous = "quorum";
  std::string manager_user = "manager";
  std::string manager_database = "manager";
  // The REST service's conninfo file the supervisor writes at a login rotation.
  std::string rest_conninfo_file;
  std::string rest_conninfo;  // hosts, database, timeouts; the login is appended
  std::string rest_unit = "rest-standin.service";
  int probe_interval_ms = 1000;
  int probe_timeout_ms = 1000;
  int unfit_after_ms = 3000;
  bool enabled() const { return backend != "none"; }
};

// The resources folder(s), replicated between the nodes by syncthing: the
// supervisor keeps syncthing's devices and folders following the cluster's
// membership, through its REST API (components/syncthing).
struct FilesConfig {
  bool enabled = false;
  std::string folders = "/opt/manager/resources";  // comma-separated absolute paths
  std::string api_address = "127.0.0.1";           // syncthing's REST API (loopback only)
  int api_port = 8384;
  std::string api_key_file = "/etc/ha-syncthing/api-key";
  // The upload gate's copy of that key, rewritten when the key rotates ("" or
  // missing: no gate on this node).
  std::string gate_api_key_file = "/etc/ha-upload-gate/syncthing-api-key";
  int sync_port = 22000;  // syncthing's port for the peers, the same on every node
  std::string unit = "ha-syncthing.service";
  int poll_interval_ms = 1000;
  int unfit_after_ms = 10000;
  int conflict_scan_interval_ms = 10000;
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error
};

// Dead peers (components/dead-peers): this node's TCP to a node Consul's
// gossip calls failed gets a reset at once instead of a connect timeout.
struct DeadPeersConfig {
  bool enabled = false;
  std::string nft = "/usr/sbin/nft";
  std::string script_file = "/run/ha-supervisor/dead-peers.nft";
  int consul_serf_port = 8301;  // never refused: serf reconnects over it
  int consul_server_port = 8300;  // never refused: Raft reaches a healed node at once
};

// Members-only ports (components/members-only): TCP ports on the node's
// address that only the cluster's nodes may connect to (the upload gate's).
struct MembersOnlyConfig {
  bool enabled = false;
  std::string ports = "8100";  // comma-separated TCP ports
  std::string nft = "/usr/sbin/nft";
  std::string script_file = "/run/ha-supervisor/members-only.nft";
};

// The message broker (components/rabbitmq): RabbitMQ clustered through Consul.
struct BrokerConfig {
  bool enabled = false;
  std::string unit = "ha-rabbitmq.service";
  std::string template_path = "/usr/local/share/ha-supervisor/templates/rabbitmq.conf.mustache";
  std::string conf_path = "/etc/ha-rabbitmq/rabbitmq.conf";
  std::string conf_group = "rabbitmq";  // the broker reads the file as this group
  std::string definitions_file = "/etc/ha-rabbitmq/definitions.json";
  std::string password_file = "/etc/ha-rabbitmq/supervisor-password";  // the management API's, root only
  std::string cookie_fingerprint_file = "/etc/ha-rabbitmq/cookie-fingerprint";
  std::string amqp_address = "0.0.0.0";
  int amqp_port = 5672;
  int management_port = 15672;
  std::string partition_handling = "pause_minority";
  std::string memory_high_watermark = "0.4";
  int poll_interval_ms = 1000;
  int request_timeout_ms = 2000;
  int unfit_after_ms = 5000;
  int start_grace_ms = 30000;
  int stuck_after_ms = 60000;
  int retry_after_ms = 30000;
};

// Planned switchovers (components/switchover): this node's upload gate holds
// new writes while the database changes primary. The supervisor writes the
// hold file; the gate writes the other once no write is left at the REST service.
struct SwitchoverConfig {
  bool hold_writes = true;
  std::string write_hold_file = "/run/ha-supervisor/write-hold";
  std::string write_held_file = "/run/ha-upload-gate/write-held";
};

struct Config {
  NodeConfig node;
  ClusterConfig cluster;
  ConsulConfig consul;
  LoopConfig loop;
  ApiConfig api;
  LogConfig log;
  VipConfig vip;
  SystemdConfig systemd;
  NginxConfig nginx;
  DbConfig db;
  FilesConfig files;
  DeadPeersConfig dead_peers;
  MembersOnlyConfig members_only;
  BrokerConfig broker;
  SwitchoverConfig switchover;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 0 when the error has no single line (missing key, cross-key rule)
  std::string key;
  std::string message;
  // "FILE:LINE: KEY: MESSAGE" (or "FILE: KEY: MESSAGE" without a line)
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
  // Accepted, but to be said: a key that moved, read under its new name.
  std::vector<ConfigError> notices;
};

LoadResult load_file(const std::string& path);
// `origin` names the text in error messages, in place of a file path.
LoadResult load_string(const std::string& text, const std::string& origin);

// The cluster's settings, the store's JSON object {"group.key": value} of
// cluster-wide keys (schema.hpp: KeySpec::cluster_wide), laid over `base` (a
// node's file): each value is checked as a file's is, then the rules between
// keys on the result. Errors name `origin`; config is set only without errors.
LoadResult overlay_cluster_settings(const Config& base, const std::string& json_text, const std::string& origin);

// What a SIGHUP reload would change: keys applied live, keys needing a restart.
struct ReloadDiff {
  std::vector<std::string> live;
  std::vector<std::string> needs_restart;
};
ReloadDiff diff(const Config& running, const Config& loaded);
// Copies every key the schema marks live from `loaded` into `running` (the
// others wait for a restart), except live keys that would break a rule
// between keys beside the restart keys' old values: those wait too, and are
// listed with needs_restart.
ReloadDiff apply_live_keys(Config& running, const Config& loaded);

// Every key: type, default, allowed range and help text (for --help-config).
std::string describe_schema();

}  // namespace hasup::config
