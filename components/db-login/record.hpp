#pragma once
// The manager's database login and its rotation (hactl rotate db-password),
// as the cluster keeps them in Consul (cluster/keys.hpp: db_login()).
//
// Why two logins used in turn: PostgreSQL gives a role one password, so a
// new password for the role every REST service uses would fail every client
// between the ALTER ROLE and its own switch. Instead the manager's role owns
// the data and two login roles act as it: MANAGER and MANAGER_alt (which
// logs in as MANAGER_alt and SETs ROLE to MANAGER). A rotation gives the
// login not in use a new password, moves every node's clients to it, and
// only then takes the login away from the previous one: both work in
// between, so no request fails, and the old password is refused at the end.
//
// The password never travels: KV, readable by tokens that must not learn it,
// holds a random nonce per generation, and each node derives the password
// from it with the cluster's store key (the secrets file's store_key, on
// every node, root only): login_password() in secret.hpp. Deriving rather
// than carrying also makes every step safe to repeat: a leader that takes
// over mid-way sets the very same password again.
#include <cstdint>
#include <optional>
#include <string>

namespace hasup::db_login {

// The secrets that rotate this way: the manager's database password (its
// clients: every node's REST service) and the replication password (its
// clients: every node's Patroni, for streaming, base backups and rewinds).
// Each has its record, its two logins (its base role and BASE_alt) and its
// own derivation, so one's password never names the other's.
enum class LoginSecret { db_password, replication_password };
// As hactl and the API name it: "db-password", "replication-password".
std::string secret_name(LoginSecret secret);
// As the logs and status lines say it: "db login", "replication login".
std::string login_label(LoginSecret secret);
std::optional<LoginSecret> parse_login_secret(const std::string& name);

// The login clients use from a generation on. Generation 0 is the install's
// (the secrets file's manager= password for MANAGER).
struct LoginCredential {
  std::uint64_t generation = 0;
  std::string login;
  std::string nonce;  // with the store key, names its password (secret.hpp)
  bool operator==(const LoginCredential&) const = default;
};

enum class RotationStep {
  requested,  // written by the API; the leader sets the new password next
  switching,  // the new login works; every node moves its clients to it
};
std::string to_string(RotationStep step);

struct LoginRotation {
  std::uint64_t generation = 0;
  RotationStep step = RotationStep::requested;
  std::string login;           // the login of this generation
  std::string previous_login;  // the one in use before, retired at the end
  std::string nonce;           // with the store key, names the new password (random, not secret alone)
  std::string requested_by;
  std::string requested_at;    // UTC
  std::string switching_at;    // UTC, when the new login started to work
  bool operator==(const LoginRotation&) const = default;
};

// How the newest rotation ended.
struct RotationOutcome {
  std::uint64_t generation = 0;
  bool done = false;     // false: failed, nothing changed for the clients
  std::string detail;    // what was done, or why it failed
  std::string requested_at;
  std::string finished_at;
  bool operator==(const RotationOutcome&) const = default;
};

struct LoginRecord {
  // One more at every write (the request, each step, the end): of two copies
  // of the record, the newer has the larger (record_copy.hpp). Not Consul's
  // ModifyIndex: a Consul rebuilt from nothing counts its indexes from 1 again.
  // Records written before it existed read as 0.
  std::uint64_t revision = 0;
  std::optional<LoginCredential> current;  // absent: the install's login is in use
  std::optional<LoginRotation> rotation;   // absent: none under way
  std::optional<RotationOutcome> last;
  bool operator==(const LoginRecord&) const = default;

  std::uint64_t current_generation() const { return current ? current->generation : 0; }
  // What a node's clients should use now: the rotation's login once it works.
  std::optional<LoginCredential> target() const;
};

std::string encode(const LoginRecord& record);
// Whole record or an error naming what is wrong; never a partial record.
struct LoginDecode {
  std::optional<LoginRecord> record;
  std::string error;
};
LoginDecode decode_login_record(const std::string& json_text);

// What makes a well-formed record unusable here: a login that is not the
// generation's (the leader runs SQL with it), a nonce that is not 32 hex digits.
std::string record_problem(const LoginRecord& record, const std::string& base_user);

// The login of a generation: the secret's base role itself (the manager's
// role, replicator), then its alternate BASE_alt, in turn.
std::string login_for(std::uint64_t generation, const std::string& base_user);

// A new rotation's record, or why none may start now.
struct RotationRequest {
  std::optional<LoginRecord> record;
  std::string refusal;
};
RotationRequest request_rotation(const std::optional<LoginRecord>& stored, const std::string& base_user,
                                 const std::string& requested_by, const std::string& now, const std::string& nonce);

}  // namespace hasup::db_login
