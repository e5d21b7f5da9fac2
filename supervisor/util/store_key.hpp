#pragma once
// The cluster's store key: the `store_key=` line of the secrets file every
// node holds (root only; components/patroni/generate-secrets makes it: 32
// random bytes, base64). Secrets that pass through the store (Consul's KV,
// which an operator's token reads) never do as text: the store holds a random
// nonce, and each node derives the secret from it with this key
// (derive_secret: HMAC-SHA256), the same on every node, unknown to anyone
// without the secrets file. Errors never hold the key nor the text given.
#include <array>
#include <cstddef>
#include <string>

#include "supervisor/util/result.hpp"

namespace hasup::secret {

struct Error {
  std::string message;
};

template <class T>
using Result = hasup::Result<T, Error>;

inline constexpr const char* kStoreKeyName = "store_key";  // its line in the secrets file
inline constexpr std::size_t kStoreKeyBytes = 32;          // HMAC-SHA256's key

// The store key's bytes, wiped (OPENSSL_cleanse) when the key goes away.
// Made by parse_store_key / read_store_key only.
class StoreKey {
 public:
  StoreKey(const StoreKey&) = default;
  StoreKey& operator=(const StoreKey&) = default;
  ~StoreKey();
  const unsigned char* data() const { return bytes_.data(); }

 private:
  StoreKey() = default;
  std::array<unsigned char, kStoreKeyBytes> bytes_{};
  friend Result<StoreKey> parse_store_key(const std::string& base64_text);
};

// The key from its base64 text (standard alphabet, padded): exactly 32 bytes
// once decoded, or an error that says what is wrong, never quoting the text.
Result<StoreKey> parse_store_key(const std::string& base64_text);

// The key from a secrets file ("key=value" lines, '#' comments): its
// store_key= line. Errors name the file and, when the line is missing, how to
// add it (generate-secrets --add-missing, then the file on every node).
Result<StoreKey> read_store_key(const std::string& secrets_file_path);

// HMAC-SHA256(key, context): 32 bytes, the same for the same key and context
// on every node, and nothing about one context tells another.
std::string derive_secret(const StoreKey& key, const std::string& context);

}  // namespace hasup::secret
