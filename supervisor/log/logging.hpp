#pragma once
// spdlog set up once for the daemon. Every line passes through a sink that
// replaces registered secrets (the Consul ACL token, ...) with "[redacted]",
// so no code path, including error text echoed from a remote service, can put
// a secret in the log.
#include <spdlog/spdlog.h>

#include <string>

namespace hasup::log {

// Logs to stderr (journald picks it up under systemd).
void init(const std::string& level);
bool set_level(const std::string& level);  // false for an unknown level name
void add_secret(const std::string& secret);
void clear_secrets();
std::string redact(const std::string& text);

}  // namespace hasup::log
