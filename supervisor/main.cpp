// ha-supervisor: the daemon. Only wiring lives here.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstring>
#include <iostream>

#include "supervisor/api/status_api.hpp"
#include "supervisor/util/api_token.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/config/environment.hpp"
#include "supervisor/http/server.hpp"
#include "supervisor/log/logging.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/version.hpp"

namespace {

const char* kUsage =
    "usage: ha-supervisor --config FILE          run the supervisor\n"
    "       ha-supervisor --check-config FILE    check a config file, then its floating IP against this\n"
    "                                            machine (vip.interface exists, vip.address in its subnet);\n"
    "                                            print every error, exit 1 if any\n"
    "       ha-supervisor --help-config          every config key: type, default, range, help\n"
    "       ha-supervisor --print-api FILE       the status API's api.listen:api.port, then its\n"
    "                                            api.token_file, in FILE (for hactl --config);\n"
    "                                            errors as --check-config, exit 1\n"
    "       ha-supervisor --version\n";

int check_config(const std::string& path) {
  auto loaded = hasup::config::load_file(path);
  for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
  for (const auto& n : loaded.notices) std::cerr << n.to_string() << "\n";
  if (!loaded.config) {
    std::cerr << path << ": " << loaded.errors.size() << " error(s)\n";
    return 1;
  }
  // A valid file; now what it needs of this machine (the floating IP's link).
  const auto machine_errors = hasup::config::check_environment(*loaded.config);
  for (const auto& e : machine_errors) std::cerr << path << ": " << e << "\n";
  if (!machine_errors.empty()) {
    std::cerr << path << ": " << machine_errors.size() << " error(s) against this machine\n";
    return 1;
  }
  std::cout << path << ": ok\n";
  return 0;
}

// hactl --config asks this rather than parse the file itself: one parser and
// one schema, and hactl stays free of libconfig++.
int print_api(const std::string& path) {
  auto loaded = hasup::config::load_file(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return 1;
  }
  std::cout << loaded.config->api.listen << ":" << loaded.config->api.port << "\n"
            << loaded.config->api.token_file << "\n";
  return 0;
}

void handle_signals(boost::asio::signal_set& signals, hasup::loop::Engine& engine) {
  signals.async_wait([&signals, &engine](const boost::system::error_code& ec, int number) {
    if (ec) return;
    if (number == SIGHUP) {
      spdlog::info("SIGHUP: reloading the configuration");
      engine.reload();
    } else {
      spdlog::info("{}: shutting down", number == SIGTERM ? "SIGTERM" : "SIGINT");
      engine.request_shutdown();
    }
    handle_signals(signals, engine);
  });
}

int run(const std::string& path) {
  auto loaded = hasup::config::load_file(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    std::cerr << "ha-supervisor: not starting: " << loaded.errors.size() << " error(s) in " << path << "\n";
    return 1;
  }
  const auto config = *loaded.config;
  hasup::log::init(config.log.level);
  hasup::log::add_secret(config.consul.token);
  for (const auto& n : loaded.notices) spdlog::warn("{}", n.to_string());
  // Before anything starts: a floating IP that cannot work here must not
  // leave a half-started node (lock taken, keepalived rendered) behind.
  if (const auto errors = hasup::config::check_environment(config); !errors.empty()) {
    for (const auto& e : errors) spdlog::error("{}: {}", path, e);
    spdlog::error("not starting: the floating IP {} on {} cannot work on this machine ({} error(s) above)",
                  config.vip.address, config.vip.interface, errors.size());
    return 1;
  }
  spdlog::info("ha-supervisor {} starting with {}", hasup::kVersion, path);

  boost::asio::io_context io(1);
  hasup::loop::Engine engine(io, config, path);
  // A new token at every start: one copied or leaked before is worth nothing now.
  const std::string write_token = hasup::new_write_token();
  hasup::log::add_secret(write_token);
  if (auto error = hasup::install_write_token(config.api.token_file, write_token); !error.empty()) {
    spdlog::error("status API: cannot write its token file: {}", error);
    return 1;
  }
  hasup::http::Server api(io, hasup::api::status_routes(engine, write_token));
  if (auto error = api.listen(config.api.listen, static_cast<unsigned short>(config.api.port)); !error.empty()) {
    spdlog::error("status API: {}", error);
    return 1;
  }
  spdlog::info("status API on http://{}:{}", config.api.listen, api.port());
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  handle_signals(signals, engine);
  std::signal(SIGPIPE, SIG_IGN);
  engine.start();
  io.run();
  return engine.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--version") {
    std::cout << "ha-supervisor " << hasup::kVersion << "\n";
    return 0;
  }
  if (mode == "--help-config") {
    std::cout << hasup::config::describe_schema();
    return 0;
  }
  if (mode == "--print-api" && argc == 3) return print_api(argv[2]);
  if ((mode == "--check-config" || mode == "--config") && argc == 3) {
    return mode == "--check-config" ? check_config(argv[2]) : run(argv[2]);
  }
  std::cerr << kUsage;
  return 2;
}
