#include "components/patroni/render.hpp"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <optional>
#include <sstream>

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/node_name.hpp"

namespace hasup::patroni {

namespace {

using kainjow::mustache::data;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// A plain YAML scalar that cannot start a comment, a mapping or a flow.
bool plain_token(const std::string& v, const std::string& extra) {
  if (v.empty()) return false;
  for (char c : v)
    if (!is_alnum(c) && extra.find(c) == std::string::npos) return false;
  return true;
}

bool password_ok(const std::string& v) { return v.size() >= 16 && v.size() <= 128 && plain_token(v, "._~-"); }
bool path_ok(const std::string& v) { return !v.empty() && v.front() == '/' && plain_token(v, "/._-@+"); }
bool sql_name_ok(const std::string& v) {
  return !v.empty() && v.size() <= 63 && !(v.front() >= '0' && v.front() <= '9') && plain_token(v, "_") &&
         v.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
}
bool cidr_ok(const std::string& v) {
  auto slash = v.find('/');
  if (slash == std::string::npos) return false;
  std::string bits = v.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !plain_token(bits, "")) return false;
  int n = std::stoi(bits);
  std::string ip = v.substr(0, slash);
  return is_ip_literal(ip) && n >= 0 && n <= (ip.find(':') != std::string::npos ? 128 : 32);
}
bool port_ok(int p) { return p >= 1 && p <= 65535; }

// 8-4-4-4-12 lowercase hex digits: what Consul takes as a token's SecretID.
bool is_uuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = text[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<std::string> model_problem(const PatroniModel& m) {
  auto bad = [](const std::string& what) { return std::optional<std::string>("refusing to render " + what); };
  if (!is_node_name(m.node_name)) return bad("node name: it must be " + std::string(kNodeNameFormat));
  if (!plain_token(m.scope, "-_")) return bad("scope: it must be [A-Za-z0-9_-]");
  if (!plain_token(m.namespace_, "-_")) return bad("namespace: it must be [A-Za-z0-9_-]");
  if (!is_ipv4_literal(m.address))
    return bad("address: Patroni needs this node's IPv4 address");
  if (!host_problem(m.consul_host).empty()) return bad("Consul host");
  for (int p : {m.port, m.api_port, m.consul_port})
    if (!port_ok(p)) return bad("port " + std::to_string(p));
  for (const auto* p : {&m.data_dir, &m.bin_dir, &m.runtime_dir, &m.log_dir})
    if (!path_ok(*p)) return bad("path: each must be absolute, of [A-Za-z0-9/._-@+]");
  if (!m.consul_ca_file.empty() && !path_ok(m.consul_ca_file))
    return bad("Consul CA file: it must be an absolute path of [A-Za-z0-9/._-@+]");
  if (!cidr_ok(m.peer_network)) return bad("peer network: it must be an address with a prefix length");
  // Nobody but the nodes reaches PostgreSQL: without an address there would
  // be no replica either.
  if (m.peer_addresses.empty()) return bad("pg_hba: no node address");
  for (const auto& a : m.peer_addresses)
    if (!is_ip_literal(a)) return bad("pg_hba: a node address is not an IP address");
  // A command line of paths and plain words, split by Patroni with shlex.
  if (m.post_bootstrap.empty() || m.post_bootstrap.front() != '/' || !plain_token(m.post_bootstrap, "/._-@+ "))
    return bad("post_bootstrap command");
  if (m.ttl_s < 1 || m.loop_wait_s < 1 || m.retry_timeout_s < 1 || m.maximum_lag_on_failover < 0)
    return bad("timing: ttl, loop_wait and retry_timeout must be positive");
  if (!sql_name_ok(m.manager_user) || !sql_name_ok(m.manager_database))
    return bad("manager user or database: they must be lowercase SQL names");
  if (!sql_name_ok(m.replication_user) || m.replication_logins.empty() ||
      std::find(m.replication_logins.begin(), m.replication_logins.end(), m.replication_user) ==
          m.replication_logins.end())
    return bad("replication login: it must be a lowercase SQL name that pg_hba admits");
  for (const auto& login : m.replication_logins)
    if (!sql_name_ok(login)) return bad("replication logins: each must be a lowercase SQL name");
  for (const auto* s :
       {&m.secrets.superuser, &m.secrets.replication, &m.secrets.rewind, &m.secrets.manager, &m.secrets.rest_api})
    if (!password_ok(*s)) return bad("passwords: each must be 16..128 of [A-Za-z0-9._~-]");
  if (!m.secrets.consul_token.empty() && !is_uuid(m.secrets.consul_token)) return bad("Consul token: it must be a UUID");
  return std::nullopt;
}

data model_data(const PatroniModel& m) {
  data d;
  d.set("node_name", m.node_name);
  d.set("scope", m.scope);
  d.set("namespace", m.namespace_);
  d.set("address", m.address);
  d.set("port", std::to_string(m.port));
  d.set("api_port", std::to_string(m.api_port));
  d.set("consul_host", m.consul_host.find(':') != std::string::npos ? "[" + m.consul_host + "]" : m.consul_host);
  d.set("consul_port", std::to_string(m.consul_port));
  d.set("consul_https", data(m.consul_ca_file.empty() ? data::type::bool_false : data::type::bool_true));
  d.set("consul_ca_file", m.consul_ca_file);
  d.set("data_dir", m.data_dir);
  d.set("bin_dir", m.bin_dir);
  d.set("runtime_dir", m.runtime_dir);
  d.set("log_dir", m.log_dir);
  data hosts = data::type::list;
  for (const auto& a : m.peer_addresses)
    hosts.push_back(data("cidr", a + (a.find(':') != std::string::npos ? "/128" : "/32")));
  d.set("peer_hosts", hosts);
  d.set("post_bootstrap", m.post_bootstrap);
  d.set("ttl", std::to_string(m.ttl_s));
  d.set("loop_wait", std::to_string(m.loop_wait_s));
  d.set("retry_timeout", std::to_string(m.retry_timeout_s));
  d.set("maximum_lag_on_failover", std::to_string(m.maximum_lag_on_failover));
  d.set("synchronous_mode", !m.synchronous_mode ? "false" : m.synchronous_quorum ? "quorum" : "true");
  d.set("synchronous_mode_strict", m.synchronous_mode_strict ? "true" : "false");
  d.set("superuser_password", m.secrets.superuser);
  d.set("replication_user", m.replication_user);
  d.set("replication_password", m.secrets.replication);
  std::string logins;
  for (const auto& login : m.replication_logins) logins += (logins.empty() ? "" : ",") + login;
  d.set("replication_logins", logins);
  d.set("rewind_password", m.secrets.rewind);
  d.set("manager_user", m.manager_user);
  d.set("manager_database", m.manager_database);
  d.set("manager_password", m.secrets.manager);
  d.set("rest_api_user", kRestApiUser);
  d.set("rest_api_password", m.secrets.rest_api);
  d.set("consul_token_set", data(m.secrets.consul_token.empty() ? data::type::bool_false : data::type::bool_true));
  d.set("consul_token", m.secrets.consul_token);
  return d;
}

RenderedConfig render_checked(const std::string& template_text, const PatroniModel& model) {
  if (auto problem = model_problem(model)) return {.text = {}, .error = *problem};
  return render_config(template_text, model_data(model));
}

}  // namespace

RenderedConfig render_patroni_yml(const std::string& template_text, const PatroniModel& model) {
  return render_checked(template_text, model);
}

RenderedConfig render_bootstrap_sql(const std::string& template_text, const PatroniModel& model) {
  return render_checked(template_text, model);
}

SecretsParse parse_secrets(const std::string& text) {
  SecretsParse out;
  struct Slot {
    const char* key;
    std::string* value;
    bool seen = false;
  };
  Slot slots[] = {{"superuser", &out.secrets.superuser},     {"replication", &out.secrets.replication},
                  {"rewind", &out.secrets.rewind},           {"manager", &out.secrets.manager},
                  {"patroni_api", &out.secrets.rest_api}};
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      out.error = "line " + std::to_string(number) + ": expected key=value";
      return out;
    }
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    if (key == kPatroniConsulTokenKey) {
      if (!is_uuid(value)) {
        out.error = "line " + std::to_string(number) + ": " + key + ": must be a UUID (Consul's token format)";
        return out;
      }
      out.secrets.consul_token = value;
      continue;
    }
    // The same file carries the cluster's other secrets; they are not Patroni's.
    if (key.rfind(kConsulKeyPrefix, 0) == 0 || key.rfind(kRabbitKeyPrefix, 0) == 0 || key == secret::kStoreKeyName)
      continue;
    Slot* slot = nullptr;
    for (auto& s : slots)
      if (key == s.key) slot = &s;
    if (!slot) {
      out.error = "line " + std::to_string(number) +
                  ": unknown key (expected superuser, replication, rewind, manager, patroni_api, Consul's " +
                  kConsulKeyPrefix + "*, RabbitMQ's " + kRabbitKeyPrefix + "* or " + secret::kStoreKeyName + ")";
      return out;
    }
    if (!password_ok(value)) {
      out.error = "line " + std::to_string(number) + ": " + key + ": must be 16..128 characters of [A-Za-z0-9._~-]";
      return out;
    }
    *slot->value = value;
    slot->seen = true;
  }
  for (const auto& s : slots)
    if (!s.seen) {
      out.error = std::string("missing ") + s.key + "=" +
                  " (an older file: components/patroni/generate-secrets --add-missing FILE adds it)";
      return out;
    }
  return out;
}

}  // namespace hasup::patroni
