#pragma once
// A generation's password, derived on every node from the cluster's store
// key and the generation's nonce (record.hpp says why derived, not carried).
#include <cstdint>
#include <string>

#include "components/db-login/record.hpp"
#include "supervisor/util/store_key.hpp"

namespace hasup::db_login {

// HMAC-SHA256(store key, "db-login/GENERATION/NONCE") for the database
// password, "replication-login/..." for the replication password, as 43
// characters of [A-Za-z0-9._]: the secrets file's password alphabet, safe in
// SQL, conninfo and patroni.yml.
std::string login_password(const secret::StoreKey& key, LoginSecret secret, std::uint64_t generation,
                           const std::string& nonce);

// 16 random bytes from the kernel as 32 hex digits: a new rotation's nonce; "" when the kernel gave none.
std::string new_nonce();

}  // namespace hasup::db_login
