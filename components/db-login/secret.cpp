#include "components/db-login/secret.hpp"

#include <openssl/crypto.h>

#include "supervisor/util/api_token.hpp"
#include "supervisor/util/base64.hpp"

namespace hasup::db_login {

std::string login_password(const secret::StoreKey& key, LoginSecret which, std::uint64_t generation,
                           const std::string& nonce) {
  const char* domain = which == LoginSecret::db_password ? "db-login/" : "replication-login/";
  std::string digest = secret::derive_secret(key, domain + std::to_string(generation) + "/" + nonce);
  std::string password = base64_encode(digest);
  OPENSSL_cleanse(digest.data(), digest.size());
  for (char& ch : password) ch = ch == '+' ? '.' : ch == '/' ? '_' : ch;
  while (!password.empty() && password.back() == '=') password.pop_back();
  return password;
}

std::string new_nonce() { return random_hex(16); }

}  // namespace hasup::db_login
