#pragma once
// Plain values exchanged with Consul's HTTP API (v1, as served by Consul 1.8).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "supervisor/util/result.hpp"

namespace hasup::consul {

struct Error {
  enum class Kind { transport, timeout, status, parse };
  Kind kind = Kind::transport;
  int status = 0;  // HTTP status for Kind::status
  std::string message;
  std::string to_string() const;
};

template <class T>
using Result = hasup::Result<T, Error>;

struct KvEntry {
  std::string key;
  std::string value;  // decoded from base64
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  std::uint64_t lock_index = 0;
  std::uint64_t flags = 0;
  std::string session;  // empty when not locked
};

struct KvRead {
  std::uint64_t index = 0;  // X-Consul-Index, for the next blocking query
  std::optional<KvEntry> entry;  // empty when the key does not exist
};

struct KvTree {
  std::uint64_t index = 0;
  std::vector<KvEntry> entries;
};

enum class Consistency { normal, stale, consistent };

struct ReadOptions {
  Consistency consistency = Consistency::normal;
  std::uint64_t index = 0;              // > 0 makes it a blocking query
  std::chrono::seconds wait{0};         // with index: how long Consul may hold it
};

struct PutOptions {
  std::optional<std::uint64_t> cas;  // ?cas=N (0: only if absent)
  std::string acquire;               // ?acquire=SESSION
  std::string release;               // ?release=SESSION
};

struct SessionSpec {
  enum class Behavior { release, remove };
  std::string name;
  std::string node;                   // empty: the agent's node
  std::vector<std::string> checks;    // check ids; serfHealth is not implied
  std::chrono::seconds ttl{0};        // 0: none
  std::chrono::milliseconds lock_delay{15000};
  Behavior behavior = Behavior::release;
};

struct SessionInfo {
  std::string id;
  std::string name;
  std::string node;
  std::vector<std::string> checks;
  std::string behavior;
  std::string ttl;
  std::uint64_t create_index = 0;
};

struct TxnOp {
  enum class Verb { set, cas, lock, unlock, get, check_index, check_session, check_not_exists, remove, delete_cas };
  Verb verb = Verb::get;
  std::string key;
  std::string value;
  std::uint64_t index = 0;
  std::string session;
};

struct TxnResult {
  bool committed = false;
  std::vector<KvEntry> entries;     // results of the ops that return one
  std::vector<std::string> errors;  // "op N: what", when not committed
};

struct CheckDefinition {
  std::string id;
  std::string name;
  std::chrono::milliseconds ttl{0};  // a TTL check the owner passes itself
  std::string initial_status = "passing";
  std::chrono::seconds deregister_critical_after{0};  // 0: never
};

struct ServiceRegistration {
  std::string id;
  std::string name;
  std::string address;
  int port = 0;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::vector<CheckDefinition> checks;
};

struct ServiceInstance {
  std::string node;
  std::string node_address;
  std::string service_id;
  std::string service;
  std::string address;  // service address (empty in Consul means: the node's)
  int port = 0;
  std::vector<std::string> tags;
  std::string status;  // worst of its checks: passing, warning, critical
  bool node_alive = true;  // its node's serfHealth check passes (gossip has the node alive)
};

struct HealthList {
  std::uint64_t index = 0;
  std::vector<ServiceInstance> instances;
};

// How the agent protects itself, from its DebugConfig; nullopt when this
// Consul does not say (no DebugConfig, or the field missing).
struct AgentProtections {
  std::optional<bool> gossip_encrypted;  // a key, and both directions verified
  std::optional<bool> rpc_tls;           // incoming RPC verified, outgoing TLS, server name checked
  std::optional<bool> acls_deny;         // ACLs on, default policy deny
  std::optional<bool> api_https_only;    // an HTTPS port, and no plain HTTP one
};

struct AgentSelf {
  std::string node_name;
  std::string datacenter;
  std::string version;
  bool server = false;
  AgentProtections protections;
};

// One node as the local agent's gossip (serf) sees it: GET /v1/agent/members.
// Local knowledge: it needs no Raft leader, so it stays current while the
// servers elect one.
struct GossipMember {
  std::string name;     // the Consul node name
  std::string address;  // the address it gossips from
  // serf's member status: "alive", "leaving", "left", "failed" ("none" or
  // "unknown N" for anything else).
  std::string status;
};

// Check id -> status ("passing", "warning", "critical"): the local agent's
// own view (GET /v1/agent/checks) or the catalog's for one node
// (GET /v1/health/node/NODE). The two differ while anti-entropy catches up.
using CheckStatuses = std::map<std::string, std::string>;

}  // namespace hasup::consul
