#include "supervisor/util/sealed_secret.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string_view>

#include "supervisor/util/base64.hpp"
#include "supervisor/util/files.hpp"

namespace hasup::secret {

namespace {

constexpr const char* kPrefix = "v1:";
constexpr std::size_t kPrefixSize = 3;
constexpr std::size_t kNonceBytes = 12;  // GCM's own nonce size
constexpr std::size_t kTagBytes = 16;

// Wipes a string that held key bytes or a plaintext before it goes away.
struct Wipe {
  std::string& text;
  ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
};

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() { return {EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free}; }

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The context as GCM's additional authenticated data (none when empty).
bool add_context(EVP_CIPHER_CTX* c, const std::string& context) {
  int n = 0;
  return context.empty() || EVP_CipherUpdate(c, nullptr, &n, bytes(context), static_cast<int>(context.size())) == 1;
}

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

std::string seal(const StoreKey& key, const std::string& plaintext, const std::string& context) {
  if (plaintext.size() > INT_MAX / 2 || context.size() > INT_MAX / 2) return {};
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  unsigned char* nonce = bytes(out);
  unsigned char* cipher_text = nonce + kNonceBytes;
  unsigned char* tag = cipher_text + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1) return {};
  auto c = new_context();
  int n = 0, last = 0;
  if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
      !add_context(c.get(), context) ||
      EVP_EncryptUpdate(c.get(), cipher_text, &n, bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(c.get(), cipher_text + n, &last) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) != 1)
    return {};
  return kPrefix + base64_encode(out);
}

Result<std::string> open_sealed(const StoreKey& key, const std::string& sealed, const std::string& context) {
  if (sealed.compare(0, kPrefixSize, kPrefix) != 0) return Error{"not a sealed value (it does not start with v1:)"};
  auto decoded = base64_decode(sealed.substr(kPrefixSize));
  if (!decoded) return Error{"not a sealed value (" + decoded.error().message + " after v1:)"};
  const std::string& raw = decoded.value();
  if (raw.size() < kNonceBytes + kTagBytes || raw.size() > INT_MAX / 2 || context.size() > INT_MAX / 2)
    return Error{"not a sealed value (" + std::to_string(raw.size()) + " bytes after v1:, a nonce and a tag are " +
                 std::to_string(kNonceBytes + kTagBytes) + ")"};
  const unsigned char* nonce = bytes(raw);
  const unsigned char* cipher_text = nonce + kNonceBytes;
  const std::size_t size = raw.size() - kNonceBytes - kTagBytes;
  std::string tag = raw.substr(kNonceBytes + size);
  std::string plaintext(size, '\0');
  auto c = new_context();
  int n = 0, last = 0;
  if (!c || EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
      !add_context(c.get(), context) ||
      EVP_DecryptUpdate(c.get(), bytes(plaintext), &n, cipher_text, static_cast<int>(size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(c.get(), bytes(plaintext) + n, &last) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return Error{"sealed with another key, for another purpose than \"" + context + "\", or altered"};
  }
  return plaintext;
}

}  // namespace hasup::secret
