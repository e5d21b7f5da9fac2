#include "supervisor/util/store_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "supervisor/util/base64.hpp"
#include "supervisor/util/files.hpp"

namespace hasup::secret {

namespace {

// Wipes a string that held key bytes before it goes away.
struct Wipe {
  std::string& text;
  ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
};

const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

StoreKey::~StoreKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<StoreKey> parse_store_key(const std::string& base64_text) {
  if (base64_text.empty()) return Error{"the store key is empty (expected 32 random bytes in base64)"};
  auto decoded = base64_decode(base64_text);
  if (!decoded) return Error{"the store key is " + decoded.error().message + " (expected 32 random bytes in base64)"};
  Wipe wipe{decoded.value()};
  if (decoded.value().size() != kStoreKeyBytes)
    return Error{"the store key is " + std::to_string(decoded.value().size()) + " bytes, not " +
                 std::to_string(kStoreKeyBytes) + " (expected 32 random bytes in base64)"};
  StoreKey key;
  std::copy(decoded.value().begin(), decoded.value().end(), key.bytes_.begin());
  return key;
}

Result<StoreKey> read_store_key(const std::string& path) {
  auto read = read_small_file(path, kSmallFileLimit);
  Wipe wipe_file{read.content};
  if (!read.ok()) return Error{"cannot read the secrets file " + path + ": " + read.problem};
  const std::string name = std::string(kStoreKeyName) + "=";
  std::string_view rest = read.content, value;
  int number = 0, found_at = 0;
  while (!rest.empty()) {
    ++number;
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, name.size()) != name) continue;
    if (found_at != 0)
      return Error{path + ": line " + std::to_string(number) + ": a second " + name + " line (the first is line " +
                   std::to_string(found_at) + "): one key, the same on every node"};
    found_at = number;
    value = line.substr(name.size());
  }
  if (found_at == 0)
    return Error{path + ": no " + name + " line (a file made before the store key existed: " +
                 "components/patroni/generate-secrets --add-missing " + path +
                 " adds it; then install that file on every node)"};
  std::string text(value);
  Wipe wipe_text{text};
  auto key = parse_store_key(text);
  if (!key) return Error{path + ": line " + std::to_string(found_at) + ": " + key.error().message};
  return key;
}

std::string derive_secret(const StoreKey& key, const std::string& context) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(kStoreKeyBytes), bytes(context), context.size(), digest,
            &length))
    throw std::runtime_error("HMAC-SHA256 is not available from OpenSSL");
  std::string out(reinterpret_cast<const char*>(digest), length);
  OPENSSL_cleanse(digest, sizeof digest);
  return out;
}

}  // namespace hasup::secret
