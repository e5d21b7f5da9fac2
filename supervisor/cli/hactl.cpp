// hactl: the operator's command line. It reads the local supervisor's status
// API and writes intent through it; it never talks to the services itself.
#include <filesystem>
#include <set>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "supervisor/util/api_token.hpp"
#include "supervisor/cli/hactl_args.hpp"
#include "supervisor/cli/cold_start_text.hpp"
#include "supervisor/cli/event_table.hpp"
#include "supervisor/cli/rotation_text.hpp"
#include "supervisor/cli/settings_table.hpp"
#include "supervisor/cli/status_table.hpp"
#include "supervisor/cli/switchover_text.hpp"
#include "supervisor/cli/pause_text.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/util/command.hpp"
#include "supervisor/util/printable.hpp"

namespace {

struct Target {
  hasup::http::Endpoint endpoint{"127.0.0.1", 8801};
  std::string token_file = hasup::kDefaultTokenFile;
};

hasup::http::Outcome call(const Target& t, hasup::http::Method method, const std::string& path,
                          const std::string& body = {}, const std::string& token = {}) {
  hasup::http::Request request;
  request.method = method;
  request.target = path;
  request.body = body;
  if (!body.empty()) request.content_type = "application/json";
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  hasup::http::Policy policy;
  policy.timeout = std::chrono::milliseconds(5000);
  return hasup::http::request_sync(t.endpoint, request, policy);
}

int unreachable(const Target& t, const hasup::http::Outcome& o) {
  std::cerr << "hactl: cannot reach the supervisor at " << t.endpoint.host << ":" << t.endpoint.port << ": "
            << o.error << "\n(is ha-supervisor running? is --api or --config right?)\n";
  return 3;
}

// The API's write token, or "" after saying why there is none (not root, no
// supervisor running): a write is then not even tried.
std::string write_token(const Target& t, const char* command) {
  std::string error;
  std::string token = hasup::read_write_token(t.token_file, error);
  if (token.empty())
    std::cerr << "hactl: " << command << " needs the supervisor's API token: " << error
              << "\n(it is readable by root only: run hactl as root; is ha-supervisor running?)\n";
  return token;
}

struct ApiOfConfig {
  hasup::cli::ApiAddress address;
  std::string token_file;
};

// The API address in a supervisor config file, as the ha-supervisor installed
// beside hactl reads it: hactl has no config parser of its own, so it cannot
// drift from the daemon's schema. nullopt after printing why.
std::optional<ApiOfConfig> api_of_config(const std::string& config) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::cerr << "hactl: --config: cannot tell where hactl is installed: " << ec.message() << "\n";
    return std::nullopt;
  }
  const std::string supervisor = (self.parent_path() / "ha-supervisor").string();
  auto run = hasup::run_command({supervisor, "--print-api", config}, std::chrono::seconds(10));
  if (!run.ok()) {
    if (run.error.empty() && !run.timed_out && run.exit_code == 1)
      std::cerr << run.output;  // the file's errors, one per line with file:line
    else
      std::cerr << "hactl: --config needs " << supervisor << ": " << run.summary() << "\n";
    return std::nullopt;
  }
  std::string line = run.output.substr(0, run.output.find('\n'));
  auto address = hasup::cli::parse_api_address(line);
  if (!address) {
    std::cerr << "hactl: " << supervisor << " --print-api said '" << line << "', not HOST:PORT\n";
    return std::nullopt;
  }
  std::string rest = run.output.size() > line.size() ? run.output.substr(line.size() + 1) : "";
  return ApiOfConfig{*address, rest.substr(0, rest.find('\n'))};
}

nlohmann::json json_or_null(const hasup::http::Outcome& o) {
  auto doc = nlohmann::json::parse(o.response.body, nullptr, false);
  if (doc.is_discarded()) {
    std::cerr << "hactl: the supervisor answered something that is not JSON (status " << o.response.status << ")\n";
    return nullptr;
  }
  return doc;
}

// The API's JSON answer, when it answered 200. Otherwise what went wrong is
// printed (the API's "error", and each of its "errors" when there are
// several) and `exit` is hactl's status: 3 when there is no usable answer,
// `refused_exit` when the API said no.
struct Answer {
  nlohmann::json doc;
  int exit = 0;
};
Answer ask(const Target& t, hasup::http::Method method, const std::string& path, int refused_exit,
           const std::string& body = {}, const std::string& token = {}) {
  auto o = call(t, method, path, body, token);
  if (!o.ok) return {nullptr, unreachable(t, o)};
  auto doc = json_or_null(o);
  if (doc.is_null()) return {nullptr, 3};
  if (o.response.status == 200) return {doc, 0};
  std::cerr << "hactl: " << doc.value("error", o.response.body) << "\n";
  if (auto errors = doc.find("errors"); errors != doc.end() && errors->is_array() && errors->size() > 1)
    for (const auto& e : *errors) std::cerr << "  " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
  return {doc, refused_exit};
}

// GET /events, printed; with --follow, asked again every second, and only
// the events not printed yet are printed (until interrupted).
int events(const Target& t, const hasup::cli::HactlCommand& c) {
  std::string since = c.since_seconds_ago ? hasup::cli::utc_seconds_ago(*c.since_seconds_ago) : c.since;
  std::set<std::string> printed;
  bool first = true;
  while (true) {
    std::string path = "/events";
    std::string sep = "?";
    if (!since.empty()) path += sep + "since=" + hasup::http::url_encode(since), sep = "&";
    if (!c.node.empty()) path += sep + "node=" + hasup::http::url_encode(c.node);
    auto [doc, exit] = ask(t, hasup::http::Method::get, path, 2);
    if (exit != 0) return exit;
    if (c.json && !c.follow) {
      std::cout << doc.dump(2) << "\n";
      return 0;
    }
    if (c.json) {
      for (const auto& e : doc["events"])
        if (e.is_object() && printed.insert(e.value("id", "")).second) std::cout << e.dump() << "\n";
    } else {
      std::cout << hasup::cli::render_events(doc, printed, first || !c.follow);
    }
    std::cout.flush();
    if (!c.follow) return 0;
    first = false;
    // The next asks start at the newest event seen: the list stays short.
    if (auto list = doc.find("events"); list != doc.end() && list->is_array() && !list->empty())
      since = list->back().value("at", since);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

// POST /rotate, then GET /rotate every half second until the rotation ends,
// each step printed once. Exit 0 only when it ended done: the new login in
// use on every live node and the previous one refused.
int rotate(const Target& t, const hasup::cli::HactlCommand& c) {
  auto token = write_token(t, "rotate");
  if (token.empty()) return 1;
  auto [asked, exit] = ask(t, hasup::http::Method::post, "/rotate", 1, nlohmann::json{{"secret", c.secret}}.dump(), token);
  if (exit != 0) return exit;
  const auto generation = asked.value("generation", 0ULL);
  std::cout << asked.value("status", "") << "\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(c.timeout_s);
  std::string said;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto [doc, read_exit] = ask(t, hasup::http::Method::get, "/rotate", 1);
    if (read_exit != 0) continue;  // the node may be busy; the deadline bounds the wait
    const auto& state = doc[c.secret];
    const auto& last = state["last"];
    if (last.is_object() && last.value("generation", 0ULL) == generation) {
      const bool done = last.value("outcome", "") == "done";
      std::cout << (done ? "done: " : "failed: ") << last.value("detail", "") << "\n";
      return done ? 0 : 1;
    }
    std::string now = hasup::cli::render_rotation_step(state);
    if (now != said) std::cout << now << "\n";
    said = now;
  }
  std::cerr << "hactl: the rotation is still under way after " << c.timeout_s << " s (" << said
            << "); it goes on without hactl: hactl status shows it\n";
  return 1;
}

// GET /cold-start (with --dry-run, the preview of accepting NODE); with
// --accept, POST it, then GET every second until the cluster has a primary.
// Exit 0 only when NODE is primary (or the dry run allows it); 1 when refused
// or another member became primary.
int cold_start(const Target& t, const hasup::cli::HactlCommand& c) {
  using hasup::http::Method;
  if (c.accept.empty() && !c.cancel) {
    auto [doc, exit] = ask(t, Method::get, "/cold-start", 1);
    if (exit == 0) std::cout << hasup::cli::render_cold_start(doc);
    return exit;
  }
  if (c.dry_run) {
    auto [doc, exit] = ask(t, Method::get, "/cold-start?accept=" + hasup::http::url_encode(c.accept), 1);
    if (exit != 0) return exit;
    std::cout << hasup::cli::render_cold_start(doc) << hasup::cli::render_accept_preview(doc["preview"]);
    return doc["preview"].value("allowed", false) ? 0 : 1;
  }
  auto token = write_token(t, "cold-start");
  if (token.empty()) return 1;
  if (c.cancel) {
    auto [doc, exit] = ask(t, Method::post, "/cold-start", 1, nlohmann::json{{"cancel", true}}.dump(), token);
    if (exit == 0) std::cout << doc.value("status", "") << "\n";
    return exit;
  }
  auto [asked, exit] = ask(t, Method::post, "/cold-start", 1, nlohmann::json{{"accept", c.accept}}.dump(), token);
  if (exit != 0) {
    if (asked.is_object() && asked.contains("refusal")) std::cerr << hasup::cli::render_accept_preview(asked);
    return exit;
  }
  std::cout << hasup::cli::render_accept_preview(asked) << asked.value("status", "") << "\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(c.timeout_s);
  std::string said;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto [doc, read_exit] = ask(t, Method::get, "/cold-start", 1);
    if (read_exit != 0) continue;  // the node may be busy; the deadline bounds the wait
    const std::string primary = doc.value("primary", "");
    if (!primary.empty()) {
      if (primary == c.accept) std::cout << "done: " << c.accept << " is primary\n";
      else std::cout << "not done: " << hasup::terminal_safe(primary) << " became primary first\n";
      return primary == c.accept ? 0 : 1;
    }
    std::string now = hasup::cli::render_cold_start(doc);
    if (now != said) std::cout << now;
    said = now;
  }
  std::cerr << "hactl: " << c.accept << " is not primary after " << c.timeout_s
            << " s; the acceptance stays and its node keeps asking: hactl cold-start shows it\n";
  return 1;
}

// GET /switchover?preview (--dry-run), or POST /switchover, then GET every
// half second until it ends, each phase printed once. Exit 0 only when it
// ended done: the new primary serves writes (and holds the floating IP).
int switchover(const Target& t, const hasup::cli::HactlCommand& c) {
  using hasup::http::Method;
  const std::string to_query = c.to.empty() ? "" : "&to=" + hasup::http::url_encode(c.to);
  if (c.dry_run) {
    auto [doc, exit] = ask(t, Method::get, "/switchover?preview=1" + to_query, 1);
    if (exit != 0) return exit;
    std::cout << hasup::cli::render_switchover_preview(doc["preview"]);
    return doc["preview"].contains("refusal") ? 1 : 0;
  }
  auto token = write_token(t, "switchover");
  if (token.empty()) return 1;
  nlohmann::json body = nlohmann::json::object();
  if (!c.to.empty()) body["to"] = c.to;
  auto [asked, exit] = ask(t, Method::post, "/switchover", 1, body.dump(), token);
  if (exit != 0) return exit;
  const std::string id = asked.value("id", "");
  std::cout << hasup::cli::render_switchover_preview(asked) << asked.value("status", "") << "\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(c.timeout_s);
  std::string said;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto [doc, read_exit] = ask(t, Method::get, "/switchover", 1);
    if (read_exit != 0) continue;  // the node may be busy; the deadline bounds the wait
    const auto& last = doc["last"];
    if (!last.is_object() || last.value("id", "") != id) continue;
    const std::string phase = last.value("phase", "");
    std::string now = hasup::cli::render_switchover_step(last);
    if (phase == "done" || phase == "failed") {
      std::cout << now << "\n";
      return phase == "done" ? 0 : 1;
    }
    // The phase, not its growing duration: one line per phase.
    if (phase != said) std::cout << now << "\n";
    said = phase;
  }
  std::cerr << "hactl: the switchover is still under way after " << c.timeout_s << " s (phase " << said
            << "); it goes on without hactl: hactl status shows it\n";
  return 1;
}

// POST /pause: the answer's status, then the pause as the API sees it.
int pause(const Target& t, const hasup::cli::HactlCommand& c, bool paused) {
  auto token = write_token(t, paused ? "pause" : "resume");
  if (token.empty()) return 1;
  nlohmann::json body{{"paused", paused}};
  if (!c.reason.empty()) body["reason"] = c.reason;
  auto [asked, exit] = ask(t, hasup::http::Method::post, "/pause", 1, body.dump(), token);
  if (exit != 0) return exit;
  std::cout << asked.value("status", "") << "\n" << hasup::cli::render_pause(asked["pause"]);
  return 0;
}

int main(int argc, char** argv) {
  using hasup::cli::HactlCommand;
  auto parsed = hasup::cli::parse_hactl_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.command) {
    std::cerr << "hactl: " << parsed.error << "\n" << hasup::cli::kHactlUsage;
    return 2;
  }
  const HactlCommand& c = *parsed.command;
  Target target;
  if (c.api) {
    target.endpoint.host = *c.api;
    target.endpoint.port = *c.api_port;
  } else if (c.config) {
    auto api = api_of_config(*c.config);
    if (!api) return 2;
    target.endpoint.host = api->address.host;
    target.endpoint.port = api->address.port;
    if (!api->token_file.empty()) target.token_file = api->token_file;
  }
  if (c.token_file) target.token_file = *c.token_file;
  using hasup::http::Method;
  switch (c.kind) {
    case HactlCommand::Kind::status: {
      auto o = call(target, Method::get, "/cluster");
      if (!o.ok) return unreachable(target, o);
      auto doc = nlohmann::json::parse(o.response.body, nullptr, false);
      if (doc.is_discarded()) {
        std::cerr << "hactl: the supervisor answered something that is not JSON (status " << o.response.status
                  << ")\n";
        return 3;
      }
      if (c.json)
        std::cout << doc.dump(2) << "\n";
      else
        std::cout << hasup::cli::render_status_table(doc);
      return 0;
    }
    case HactlCommand::Kind::health:
    case HactlCommand::Kind::leader: {
      auto o = call(target, Method::get, c.kind == HactlCommand::Kind::health ? "/health" : "/leader");
      if (!o.ok) return unreachable(target, o);
      std::cout << o.response.body;
      return o.response.status == 200 ? 0 : 1;
    }
    case HactlCommand::Kind::maintenance: {
      nlohmann::json body{{"enabled", c.maintenance_on}};
      if (!c.node.empty()) body["node"] = c.node;
      auto token = write_token(target, "maintenance");
      if (token.empty()) return 1;
      auto o = call(target, Method::post, "/maintenance", body.dump(), token);
      if (!o.ok) return unreachable(target, o);
      std::cout << o.response.body;
      return o.response.status == 202 ? 0 : 1;
    }
    case HactlCommand::Kind::events: return events(target, c);
    case HactlCommand::Kind::incidents:
    case HactlCommand::Kind::incident: {
      const bool one = c.kind == HactlCommand::Kind::incident;
      auto [doc, exit] =
          ask(target, Method::get, one ? "/incidents?id=" + hasup::http::url_encode(c.incident) : "/incidents", 1);
      if (exit != 0) return exit;
      if (c.json)
        std::cout << doc.dump(2) << "\n";
      else
        std::cout << (one ? hasup::cli::render_incident(doc) : hasup::cli::render_incidents(doc));
      return 0;
    }
    case HactlCommand::Kind::settings_show: {
      auto [doc, exit] = ask(target, Method::get, "/settings", 1);
      if (exit != 0) return exit;
      std::cout << (c.json ? doc.dump(2) + "\n" : hasup::cli::render_settings(doc));
      return 0;
    }
    case HactlCommand::Kind::settings_set:
    case HactlCommand::Kind::settings_unset: {
      nlohmann::json body = nlohmann::json::object();
      if (c.kind == HactlCommand::Kind::settings_set) {
        body["set"] = nlohmann::json::object();
        for (const auto& [key, value] : c.settings) body["set"][key] = value;
      } else {
        body["unset"] = c.unset;
      }
      auto token = write_token(target, "settings");
      if (token.empty()) return 1;
      auto [doc, exit] = ask(target, Method::post, "/settings", 1, body.dump(), token);
      if (exit != 0) return exit;
      std::cout << doc.value("status", "") << " (index " << doc.value("index", 0ULL) << ")\n";
      return 0;
    }
    case HactlCommand::Kind::rotate: return rotate(target, c);
    case HactlCommand::Kind::cold_start: return cold_start(target, c);
    case HactlCommand::Kind::switchover: return switchover(target, c);
    case HactlCommand::Kind::pause: return pause(target, c, true);
    case HactlCommand::Kind::resume: return pause(target, c, false);
    case HactlCommand::Kind::forget: {
      nlohmann::json body{{"node", c.node}};
      auto token = write_token(target, "forget");
      if (token.empty()) return 1;
      auto o = call(target, Method::post, "/forget", body.dump(), token);
      if (!o.ok) return unreachable(target, o);
      std::cout << o.response.body;
      return o.response.status == 200 ? 0 : 1;
    }
  }
  return 2;
}
