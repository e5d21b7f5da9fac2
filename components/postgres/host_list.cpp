#include "components/postgres/host_list.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>


namespace hasup::db {

namespace {

std::vector<std::string> comma_list(const char* value) {
  std::vector<std::string> out;
  if (!value || !*value) return out;
  std::string text(value), item;
  for (char c : text) {
    if (c == ',') {
      out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  out.push_back(item);
  return out;
}

}  // namespace

std::vector<HostAttempt> split_hosts(const std::string& conninfo, std::string& error) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &message);
  if (!options) {
    error = message ? "conninfo does not parse: " + std::string(message) : "conninfo does not parse";
    if (message) PQfreemem(message);
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    return {};
  }
  std::vector<std::string> hosts, hostaddrs, ports;
  std::vector<std::pair<std::string, std::string>> rest;
  for (auto* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string keyword = o->keyword;
    if (keyword == "host") hosts = comma_list(o->val);
    else if (keyword == "hostaddr") hostaddrs = comma_list(o->val);
    else if (keyword == "port") ports = comma_list(o->val);
    else rest.emplace_back(keyword, o->val);
  }
  PQconninfoFree(options);
  const std::size_t count = std::max({hosts.size(), hostaddrs.size(), std::size_t{1}});
  // libpq's own rules: the lists align; one port serves every host.
  if ((!hosts.empty() && hosts.size() != count) || (!hostaddrs.empty() && hostaddrs.size() != count) ||
      (ports.size() > 1 && ports.size() != count)) {
    error = "conninfo: host, hostaddr and port lists differ in length";
    return {};
  }
  std::vector<HostAttempt> out;
  for (std::size_t i = 0; i < count; ++i) {
    HostAttempt a;
    std::string host = hosts.empty() ? "" : hosts[i];
    std::string port = ports.empty() ? "" : ports.size() == 1 ? ports[0] : ports[i];
    if (!host.empty()) a.keywords.push_back("host"), a.values.push_back(host);
    if (!hostaddrs.empty() && !hostaddrs[i].empty()) a.keywords.push_back("hostaddr"), a.values.push_back(hostaddrs[i]);
    if (!port.empty()) a.keywords.push_back("port"), a.values.push_back(port);
    for (const auto& [k, v] : rest) a.keywords.push_back(k), a.values.push_back(v);
    std::string shown = !hostaddrs.empty() && !hostaddrs[i].empty() ? hostaddrs[i] : host.empty() ? "localhost" : host;
    a.label = (shown.find(':') != std::string::npos ? "[" + shown + "]" : shown) + ":" + (port.empty() ? "5432" : port);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<std::size_t> connect_order(std::size_t count, std::size_t first, const std::vector<bool>& recently_silent) {
  std::vector<std::size_t> answering, silent;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t host = (first + i) % count;
    (host < recently_silent.size() && recently_silent[host] ? silent : answering).push_back(host);
  }
  answering.insert(answering.end(), silent.begin(), silent.end());
  return answering;
}

std::chrono::milliseconds conninfo_connect_timeout(const std::string& conninfo, std::chrono::milliseconds fallback) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (!options) return fallback;
  auto timeout = fallback;
  for (auto* o = options; o->keyword; ++o) {
    if (std::strcmp(o->keyword, "connect_timeout") != 0 || !o->val) continue;
    int seconds = 0;
    const char* end = o->val + std::strlen(o->val);
    auto [stop, ec] = std::from_chars(o->val, end, seconds);
    // 0 (libpq: wait forever) is no bound at all: the fallback applies.
    if (ec == std::errc() && stop == end && seconds > 0) timeout = std::chrono::seconds(seconds);
  }
  PQconninfoFree(options);
  return timeout;
}

pg_conn* start_connect(const HostAttempt& attempt, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<const char*> keywords, values;
  for (std::size_t i = 0; i < attempt.keywords.size(); ++i) {
    keywords.push_back(attempt.keywords[i].c_str());
    values.push_back(attempt.values[i].c_str());
  }
  for (const auto& [k, v] : extra)
    if (std::find(attempt.keywords.begin(), attempt.keywords.end(), k) == attempt.keywords.end()) {
      keywords.push_back(k.c_str());
      values.push_back(v.c_str());
    }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  return PQconnectStartParams(keywords.data(), values.data(), 0);
}

std::chrono::milliseconds connect_budget(const std::string& conninfo, std::chrono::milliseconds fallback) {
  std::string error;
  const auto hosts = std::max<std::size_t>(split_hosts(conninfo, error).size(), 1);
  return conninfo_connect_timeout(conninfo, fallback) * static_cast<long>(hosts);
}

}  // namespace hasup::db
