// hactl: the operator's command line. It reads the local supervisor's status
// API and writes intent through it; it never talks to the services itself.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "supervisor/cli/status_table.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/http/client.hpp"

namespace {

const char* kUsage =
    "usage: hactl [--api HOST:PORT | --config FILE] COMMAND\n"
    "commands:\n"
    "  status [--json]          the cluster as this node sees it\n"
    "  health                   this node's health (exit 0 when healthy)\n"
    "  leader                   exit 0 when this node is the leader\n"
    "  maintenance on|off [NODE]  write maintenance intent (default: this node)\n"
    "  forget NODE              remove a node that is down for good from the cluster\n"
    "The API address defaults to 127.0.0.1:8801, or the api.* keys of --config FILE.\n";

struct Target {
  hasup::http::Endpoint endpoint{"127.0.0.1", 8801};
};

hasup::http::Outcome call(const Target& t, hasup::http::Method method, const std::string& path,
                          const std::string& body = {}) {
  hasup::http::Request request;
  request.method = method;
  request.target = path;
  request.body = body;
  if (!body.empty()) request.content_type = "application/json";
  hasup::http::Policy policy;
  policy.timeout = std::chrono::milliseconds(5000);
  return hasup::http::request_sync(t.endpoint, request, policy);
}

int unreachable(const Target& t, const hasup::http::Outcome& o) {
  std::cerr << "hactl: cannot reach the supervisor at " << t.endpoint.host << ":" << t.endpoint.port << ": "
            << o.error << "\n(is ha-supervisor running? is --api or --config right?)\n";
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Target target;
  std::size_t i = 0;
  while (i < args.size() && args[i].rfind("--", 0) == 0 && args[i] != "--json") {
    if (args[i] == "--api" && i + 1 < args.size()) {
      auto colon = args[i + 1].rfind(':');
      if (colon == std::string::npos) {
        std::cerr << "hactl: --api wants HOST:PORT\n";
        return 2;
      }
      target.endpoint.host = args[i + 1].substr(0, colon);
      target.endpoint.port = static_cast<unsigned short>(std::stoi(args[i + 1].substr(colon + 1)));
      i += 2;
    } else if (args[i] == "--config" && i + 1 < args.size()) {
      auto loaded = hasup::config::load_file(args[i + 1]);
      if (!loaded.config) {
        for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
        return 2;
      }
      target.endpoint.host = loaded.config->api.listen == "0.0.0.0" ? "127.0.0.1" : loaded.config->api.listen;
      target.endpoint.port = static_cast<unsigned short>(loaded.config->api.port);
      i += 2;
    } else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if (i >= args.size()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string command = args[i++];
  using hasup::http::Method;
  if (command == "status") {
    auto o = call(target, Method::get, "/cluster");
    if (!o.ok) return unreachable(target, o);
    auto doc = nlohmann::json::parse(o.response.body, nullptr, false);
    if (doc.is_discarded()) {
      std::cerr << "hactl: the supervisor answered something that is not JSON (status " << o.response.status << ")\n";
      return 3;
    }
    if (i < args.size() && args[i] == "--json")
      std::cout << doc.dump(2) << "\n";
    else
      std::cout << hasup::cli::render_status_table(doc);
    return 0;
  }
  if (command == "health" || command == "leader") {
    auto o = call(target, Method::get, "/" + command);
    if (!o.ok) return unreachable(target, o);
    std::cout << o.response.body;
    return o.response.status == 200 ? 0 : 1;
  }
  if (command == "maintenance" && i < args.size() && (args[i] == "on" || args[i] == "off")) {
    nlohmann::json body{{"enabled", args[i] == "on"}};
    if (i + 1 < args.size()) body["node"] = args[i + 1];
    auto o = call(target, Method::post, "/maintenance", body.dump());
    if (!o.ok) return unreachable(target, o);
    std::cout << o.response.body;
    return o.response.status == 202 ? 0 : 1;
  }
  if (command == "forget" && i < args.size()) {
    nlohmann::json body{{"node", args[i]}};
    auto o = call(target, Method::post, "/forget", body.dump());
    if (!o.ok) return unreachable(target, o);
    std::cout << o.response.body;
    return o.response.status == 200 ? 0 : 1;
  }
  std::cerr << kUsage;
  return 2;
}
