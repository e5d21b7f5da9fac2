#pragma once
// A generation's password, derived on every node from the cluster's store
// key and the generation's nonce (record.hpp says why derived, not carried).
#include <cstdint>
#include <string>

#include "supervisor/util/store_key.hpp"

namespace hasup::db_login {

// HMAC-SHA256(store key, "db-login/GENERATION/NONCE"), as 43 characters of
// [A-Za-z0-9._]: the secrets file's password alphabet, safe in SQL and conninfo.
std::string login_password(const secret::StoreKey& key, std::uint64_t generation, const std::string& nonce);

// 16 random bytes from the kernel as 32 hex digits: a new rotation's nonce; "" when the kernel gave none.
std::string new_nonce();

}  // namespace hasup::db_login
