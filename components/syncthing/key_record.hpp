#pragma once
// The rotation of syncthing's API keys (hactl rotate syncthing-key), as stored
// in Consul at PREFIX/credentials/syncthing-key (cluster/keys.hpp): only the
// generation the operator asked for, who asked and when. Each node's key is its
// own, made on that node from the kernel's random bytes, and never leaves it:
// the API listens on loopback, and nothing but the node's own supervisor and
// upload gate uses it. A node whose key is from an older generation makes a
// new one (components/syncthing/key_rotation.hpp); a node down meanwhile does
// so when it returns.
#include <cstdint>
#include <optional>
#include <string>

namespace hasup::syncthing {

struct KeyRotationRecord {
  std::uint64_t generation = 0;  // 1 for the first rotation; the install's keys are generation 0
  std::string by;                // "api@n2"
  std::string at;                // UTC, as the API wrote it
  bool operator==(const KeyRotationRecord&) const = default;
};

std::string encode(const KeyRotationRecord& record);

// A whole record or why not; never half-used.
struct KeyRotationDecode {
  std::optional<KeyRotationRecord> record;
  std::string error;
};
KeyRotationDecode decode_key_rotation(const std::string& text);

// A new API key: 32 letters and digits from the kernel's random bytes (the
// same alphabet as install.sh's); "" when the kernel gave none.
std::string new_api_key();

// A rotation under way on the node (its journal beside the key file, written
// before anything else changes: key_rotator.hpp): "KEY\nGENERATION\nPREVIOUS\n".
struct PendingKey {
  std::string key;
  std::uint64_t generation = 0;
  std::string previous;
  bool operator==(const PendingKey&) const = default;
};
std::string encode(const PendingKey& pending);
std::optional<PendingKey> decode_pending_key(const std::string& text);

// A key as install.sh and new_api_key make them: 20 to 128 letters and digits.
bool usable_api_key(const std::string& key);

// The key in a key file: its first line, without the line end or trailing
// blanks; "" when the file cannot be read. The one reading of a key file for
// the supervisor, the rotation and the clients.
std::string read_api_key_file(const std::string& path);

}  // namespace hasup::syncthing
