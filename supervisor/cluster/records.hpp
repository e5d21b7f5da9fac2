#pragma once
// The JSON records the supervisors share through Consul. Each carries a schema
// number: a record written by a newer, incompatible version is reported as
// unreadable rather than guessed at.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hasup::cluster {

// The member record's layout has a number. A supervisor reads every schema
// from kOldestMemberSchema to newest_member_schema() and writes the newest
// that every registered node and every live member reads (cluster/
// member_schema.hpp), so during a rolling upgrade the older nodes keep reading
// the newer ones' records; the new layout is written once the last node is upgraded.
inline constexpr int kOldestMemberSchema = 1;
// 1 in every build but the lab's upgrade test's, which raises it (HASUP_MEMBER_SCHEMA).
int newest_member_schema();
inline constexpr int kClusterStateSchema = 1;

enum class Role { starting, follower, leader, maintenance, cut_off, stopping };
std::string to_string(Role role);
std::optional<Role> role_from_string(const std::string& text);

struct MemberRecord {
  int schema = kOldestMemberSchema;        // the layout it is written in
  int reads_schema = kOldestMemberSchema;  // the newest layout its writer reads
  std::string name;
  std::string address;
  Role role = Role::starting;
  std::string health = "ok";   // "ok" or what is wrong, in a few words
  std::map<std::string, std::string> versions;  // supervisor, consul, ...
  std::string syncthing_device_id;              // filled once syncthing is managed
  // The device ids this node's syncthing has in its config (besides its own):
  // a peer dials this node only once it is listed here (syncthing::dials).
  std::vector<std::string> syncthing_peers;
  // The replicated folders on this node, in a few words: "in sync, 2 peers",
  // "needs 12 items", "syncthing unreachable". Empty: files not managed.
  std::string files_state;
  // The nginx config this node serves: "gen N FINGERPRINT"; the fingerprint
  // names the upstream set, equal on nodes that route the same way. Empty: no nginx.
  std::string nginx_config;
  // The floating IP on this node: keepalived's VRRP state and whether the
  // address is on its interface. Empty / false: no floating IP here.
  std::string vrrp_state;
  bool holds_vip = false;
  std::string vip_settings;  // "vrid 51 198.18.0.100/24": equal on every node, else VRRP cannot work
  // The message broker here: its state in a few words ("running, 3 of 3
  // nodes"), the running nodes of its cluster while it answers (a joining
  // node looks for the founder among them), and its Erlang cookie's
  // fingerprint (nodes whose cookies differ cannot cluster). Empty: no broker.
  std::string broker_state;
  std::vector<std::string> broker_members;
  std::string broker_cookie;
  // The cluster's settings this node applied (the store's index; 0 none), the
  // keys waiting for its restart, and why it refused the store's ("" none).
  std::uint64_t settings_index = 0;
  std::vector<std::string> settings_pending;
  std::string settings_error;
  // The manager's database login generation this node's REST service was
  // given (components/db-login); 0 none yet; absent: no REST service here.
  std::optional<std::uint64_t> db_login_generation;
  // The replication login generation this node's Patroni runs with; absent:
  // not the Patroni backend here.
  std::optional<std::uint64_t> replication_login_generation;
  // The index of this node's copy of Patroni's records (components/patroni/
  // keys_copy.hpp); absent: no copy (never saw the cluster initialised).
  std::optional<std::uint64_t> patroni_keys_index;
  // How many write-backs that copy comes after (keys_copy.hpp); absent: none
  // (and from a supervisor that did not count them, the same: it took its
  // copy before any write-back it could have counted).
  std::optional<std::uint64_t> patroni_keys_write_backs;
  // The revisions of this node's copies of the rotating logins' records
  // (components/db-login/record_copy.hpp); absent: no copy.
  std::optional<std::uint64_t> db_login_copy_revision;
  std::optional<std::uint64_t> replication_login_copy_revision;
  // The switchover whose write hold this node's upload gate holds with no
  // write left at the REST service ("" none); absent: its gate holds no writes
  // (switchover.hold_writes = false), so a switchover does not wait for it.
  std::optional<std::string> writes_held;
  // Whether this node's database filesystem is full (supervisor/util/
  // filesystem_space.hpp); absent: not measured (no database here, or statvfs failed).
  std::optional<bool> data_full;
  // The generation of this node's syncthing API key (components/syncthing/
  // key_record.hpp; 0 the install's) and why its newest rotation failed ("" it
  // did not); absent: files not managed here.
  std::optional<std::uint64_t> syncthing_key_generation;
  std::string syncthing_key_error;
  std::string since;                             // UTC time of the last role/health change
  std::uint64_t leader_epoch = 0;               // when role == leader

  bool operator==(const MemberRecord&) const = default;
};

std::string encode(const MemberRecord& record);
// The names of the fields (as encoded) that differ between two records: what
// a publish changes, said in the loop's reason.
std::vector<std::string> changed_fields(const MemberRecord& before, const MemberRecord& after);
// Whole record or an error naming what is wrong; never a partial record.
struct MemberDecode {
  std::optional<MemberRecord> record;
  std::string error;
};
MemberDecode decode_member(const std::string& json_text);

// A node that belongs to the cluster, whether it is alive now or not. Unlike
// the member record it is not tied to a session: a crashed node stays a VRRP
// peer (else it could never hear the holder's adverts when it comes back).
struct NodeRegistration {
  std::string name;
  std::string address;
  // Like the address, it outlives a crash: the peers keep the device (and
  // share the folder with it) while the node is down, so it catches up when
  // it comes back. Empty: files not managed on that node.
  std::string syncthing_device_id;
  // The newest member-record schema the node's supervisor reads; 1 for a
  // registration written before the field existed. Kept while the node is
  // down, so an upgrade of the others does not write what it cannot read.
  int reads_member_schema = kOldestMemberSchema;
  bool operator==(const NodeRegistration&) const = default;
};
std::string encode(const NodeRegistration& node);
std::optional<NodeRegistration> decode_node(const std::string& json_text);

// An operator's `hactl forget NAME`: the node left the cluster for good. The
// tombstone outlives the registration it removed, so every node that
// remembers NAME (cluster/known_nodes.hpp) lets it go too; a later
// registration of NAME (the node provisioned again) removes the tombstone.
struct ForgottenNode {
  std::string name;
  std::string at;  // UTC, when the operator asked
  bool operator==(const ForgottenNode&) const = default;
};
std::string encode(const ForgottenNode& forgotten);
std::optional<ForgottenNode> decode_forgotten(const std::string& json_text);

struct LeaderValue {  // the leader lock's value: who took it, for display
  std::string name;
  std::string address;
};
std::string encode(const LeaderValue& value);
std::optional<LeaderValue> decode_leader_value(const std::string& json_text);

struct MaintenanceIntent {
  bool enabled = true;
  std::string requested_by;
  std::string at;
};
std::string encode(const MaintenanceIntent& intent);
std::optional<MaintenanceIntent> decode_maintenance(const std::string& json_text);

// The leader's published view of the cluster: written only under the leader
// lock (a fenced transaction), read by everyone.
struct ClusterState {
  std::string leader;
  std::uint64_t epoch = 0;
  std::vector<std::string> members;  // sorted names
  std::string changed_at;

  bool operator==(const ClusterState&) const = default;
};
std::string encode(const ClusterState& state);
struct ClusterStateDecode {
  std::optional<ClusterState> state;
  std::string error;
};
ClusterStateDecode decode_cluster_state(const std::string& json_text);

std::string utc_now_iso8601();

}  // namespace hasup::cluster
