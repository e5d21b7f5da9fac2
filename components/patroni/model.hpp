#pragma once
// What patroni.yml says for one node: the supervisor's db.* settings, this
// node's identity and the cluster's secrets. Rendered by render.hpp.
#include <string>
#include <vector>

namespace hasup::patroni {

// The role Patroni creates for streaming replication at bootstrap; a
// rotation of its password alternates it with REPLICATION_ROLE_alt.
inline constexpr const char* kReplicationRole = "replicator";
// The user of Patroni's REST API (its password: DbSecrets::rest_api), for
// patronictl and the supervisor's own requests (components/cold-start).
inline constexpr const char* kRestApiUser = "patroni";

struct DbSecrets {       // one file, the same on every node (components/patroni/install.sh)
  std::string superuser;    // postgres
  std::string replication;  // replicator
  std::string rewind;       // rewinder
  std::string manager;      // the manager's own role
  std::string rest_api;     // Patroni's REST API: its unsafe endpoints (POST, PATCH, ...) need it
  // Patroni's Consul ACL token (consul_acl_patroni); empty: Consul without ACLs.
  std::string consul_token;
};

struct PatroniModel {
  std::string node_name;
  std::string scope;
  std::string namespace_ = "service";
  std::string address;          // this node's address: REST API and PostgreSQL
  int port = 5432;
  int api_port = 8008;
  std::string consul_host = "127.0.0.1";
  int consul_port = 8500;
  std::string consul_ca_file;   // set: HTTPS to the agent, checked against this CA
  std::string data_dir;
  std::string bin_dir;
  std::string runtime_dir;      // sockets and pgpass
  std::string log_dir;
  std::string peer_network;     // CIDR the nodes' addresses must be in (db.peer_network)
  // pg_hba admits these hosts only: the cluster's nodes, this one included
  // (cluster::node_addresses, those inside peer_network). Not from config:
  // filled by the decision from Consul's view.
  std::vector<std::string> peer_addresses;
  std::string post_bootstrap;   // command Patroni runs once after initdb
  int ttl_s = 20;
  int loop_wait_s = 1;
  int retry_timeout_s = 4;
  long long maximum_lag_on_failover = 1048576;
  bool synchronous_mode = true;
  // Quorum commit (Patroni 4): a commit waits for any one of the standbys
  // (ANY 1 (...)), so losing one standby costs no write; a candidate needs
  // the others' votes. Only with synchronous_mode.
  bool synchronous_quorum = false;
  bool synchronous_mode_strict = false;
  std::string manager_user = "manager";
  // The replication login in use (secrets.replication is its password), and
  // every login pg_hba admits for replication. Both change with a rotation
  // (components/db-login): the login not in use gets a new password, every
  // node moves to it, the previous one is refused.
  std::string replication_user = kReplicationRole;
  std::vector<std::string> replication_logins{kReplicationRole};
  std::string manager_database = "manager";
  DbSecrets secrets;
};

}  // namespace hasup::patroni
