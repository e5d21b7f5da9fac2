#pragma once
// Proof of privilege for the status API's writes (POST /maintenance,
// /forget): a random token the supervisor makes at every start and writes to
// a root-only file. hactl, run as root, reads it and sends it as
// "Authorization: Bearer TOKEN"; any other local user cannot read it, so the
// API on loopback obeys root alone. Reads (GET) need nothing: they change nothing.
#include <cstddef>
#include <string>

namespace hasup {

inline constexpr const char* kDefaultTokenFile = "/run/ha-supervisor/api-token";

// `bytes` random bytes from the kernel, as hex digits; "" when the kernel gave none.
std::string random_hex(std::size_t bytes);

// 32 random bytes from the kernel, as 64 hex digits; "" when the kernel gave none.
inline std::string new_write_token() { return random_hex(32); }

// The token file, whole, mode 0600 (root only): "" or why it was not written.
std::string install_write_token(const std::string& path, const std::string& token);

// The token in a file written by install_write_token (trailing newline
// dropped), or nullopt-like "" with `error` set: missing, unreadable, empty.
std::string read_write_token(const std::string& path, std::string& error);

// What an Authorization header proves: the request may write (ok), it
// brought no token (missing: 401) or a wrong one (wrong: 403).
enum class Proof { ok, missing, wrong };
Proof check_authorization(const std::string& authorization_header, const std::string& token);

}  // namespace hasup
