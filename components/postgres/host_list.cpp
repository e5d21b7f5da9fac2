#include "components/postgres/host_list.hpp"

#include <libpq-fe.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "supervisor/util/number_from.hpp"

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

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

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

std::chrono::milliseconds conninfo_connect_timeout(const std::string& conninfo, std::chrono::milliseconds fallback) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (!options) return fallback;
  auto timeout = fallback;
  for (auto* o = options; o->keyword; ++o) {
    if (std::strcmp(o->keyword, "connect_timeout") != 0 || !o->val) continue;
    // 0 (libpq: wait forever) is no bound at all: the fallback applies.
    if (auto seconds = number_from<int>(o->val); seconds && *seconds > 0) timeout = std::chrono::seconds(*seconds);
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

RaceResult race_connect(const std::vector<HostAttempt>& attempts, std::chrono::milliseconds timeout,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  using Clock = std::chrono::steady_clock;
  struct Racer {
    PGconn* connection;
    PostgresPollingStatusType state;
    std::size_t host;
  };
  RaceResult out;
  auto failed = [&](const Racer& r, const std::string& why) {
    out.errors += (out.errors.empty() ? "" : "; ") + attempts[r.host].label + ": " + why;
  };
  std::vector<Racer> racing;
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    PGconn* c = start_connect(attempts[i], extra);
    if (!c) {
      out.errors += (out.errors.empty() ? "" : "; ") + attempts[i].label + ": out of memory";
      continue;
    }
    racing.push_back({c, PQstatus(c) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING, i});
  }
  const auto deadline = Clock::now() + timeout;
  while (!out.connection) {
    // libpq's own message, one line: "...failed: Connection refused\n\tIs the server..."
    for (auto it = racing.begin(); it != racing.end();) {
      if (it->state != PGRES_POLLING_FAILED) {
        ++it;
        continue;
      }
      failed(*it, one_line(PQerrorMessage(it->connection)));
      PQfinish(it->connection);
      it = racing.erase(it);
    }
    if (racing.empty()) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    std::vector<pollfd> fds;
    for (const auto& r : racing)
      fds.push_back({PQsocket(r.connection), static_cast<short>(r.state == PGRES_POLLING_WRITING ? POLLOUT : POLLIN), 0});
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left));
    if (ready < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < racing.size() && ready > 0; ++i) {
      if (!fds[i].revents) continue;
      racing[i].state = PQconnectPoll(racing[i].connection);
      if (racing[i].state == PGRES_POLLING_OK && !out.connection) {
        out.connection = racing[i].connection;
        out.host = racing[i].host;
        racing[i].connection = nullptr;
      }
    }
  }
  for (auto& r : racing) {
    if (!r.connection) continue;
    if (!out.connection) failed(r, "no connection within " + std::to_string(timeout.count()) + " ms");
    PQfinish(r.connection);
  }
  return out;
}

std::chrono::milliseconds connect_budget(const std::string& conninfo, std::chrono::milliseconds fallback) {
  std::string error;
  const auto hosts = std::max<std::size_t>(split_hosts(conninfo, error).size(), 1);
  return conninfo_connect_timeout(conninfo, fallback) * static_cast<long>(hosts);
}

}  // namespace hasup::db
