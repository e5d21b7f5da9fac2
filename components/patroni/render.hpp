#pragma once
// patroni.yml and the bootstrap SQL from templates/ and a PatroniModel. Pure:
// the caller reads the templates and writes the files. Every value is checked
// against what it may hold where it lands (YAML scalars, SQL literals).
#include <string>

#include "components/patroni/model.hpp"
#include "supervisor/util/config_template.hpp"
#include "supervisor/util/store_key.hpp"

namespace hasup::patroni {

RenderedConfig render_patroni_yml(const std::string& template_text, const PatroniModel& model);
RenderedConfig render_bootstrap_sql(const std::string& template_text, const PatroniModel& model);

// The cluster's secrets file: "superuser=...", "replication=...", "rewind=...",
// "manager=...", "patroni_api=..." lines, '#' comments. Passwords of 16..128
// characters from [A-Za-z0-9._~-], so they are safe in YAML, SQL and conninfo
// strings. The file also holds Consul's keys (kConsulKeyPrefix: the gossip
// key, the TLS certificate, the ACL tokens), which components/consul/install.sh
// reads, not Patroni: they are skipped here, except Patroni's own ACL token
// (kPatroniConsulTokenKey, a UUID; optional: without it Consul has no ACLs),
// the broker's (kRabbitKeyPrefix: components/rabbitmq/install.sh reads them)
// and the store key (secret::kStoreKeyName: the supervisor's, from which it
// derives the secrets it names in the store; supervisor/util/store_key.hpp).
inline constexpr const char* kConsulKeyPrefix = "consul_";
inline constexpr const char* kRabbitKeyPrefix = "rabbitmq_";
inline constexpr const char* kPatroniConsulTokenKey = "consul_acl_patroni";
struct SecretsParse {
  DbSecrets secrets;
  std::string error;  // names the line and key, never the value
};
SecretsParse parse_secrets(const std::string& text);

}  // namespace hasup::patroni
