#pragma once
// Secrets carried through the store (Consul's KV, which an operator's token
// reads) sealed, never as plain text: AES-256-GCM under the cluster's store
// key, the `store_key=` line of the secrets file every node holds (root only;
// components/patroni/generate-secrets makes it: 32 random bytes, base64).
//
// A sealed value is the text "v1:" + base64(12-byte random nonce || ciphertext
// || 16-byte tag). Its `context` (what it is for, e.g. "db-login/3") is
// authenticated with it but not stored in it: a value sealed for one purpose
// does not open as another, and one altered or sealed under another key does
// not open at all. Errors never hold the key, the plaintext nor the text given.
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
inline constexpr std::size_t kStoreKeyBytes = 32;          // AES-256

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

// `plaintext` sealed for `context`: "v1:..." as above, a new random nonce at
// every call (the same text sealed twice gives two values). "" only when
// OpenSSL could give no random bytes or no cipher: the caller writes nothing.
std::string seal(const StoreKey& key, const std::string& plaintext, const std::string& context);

// The plaintext of a value seal() made with this key and this context, or why
// not: "not a sealed value ..." (not seal()'s format), "sealed with another
// key, for another purpose than CONTEXT, or altered" (GCM's tag refused it).
Result<std::string> open_sealed(const StoreKey& key, const std::string& sealed, const std::string& context);

}  // namespace hasup::secret
