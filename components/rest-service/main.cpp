// rest-standin: a stand-in for the manager's REST service (see README.md).
// Only wiring lives here.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "components/rest-service/blueprint_files.hpp"
#include "components/rest-service/database.hpp"
#include "components/rest-service/options.hpp"
#include "components/rest-service/service.hpp"
#include "components/rest-service/session.hpp"

namespace {

using namespace hasup::rest_standin;

void init_logging() {
  auto logger = std::make_shared<spdlog::logger>("rest-standin", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);
  spdlog::flush_on(spdlog::level::info);
}

// SIGHUP: the supervisor rewrote --db-file (a password rotation) and reloaded
// the unit. What is wrong with the file is said without its content (it holds a
// password), and the conninfo in use stays: a bad file must not stop the service.
void reload_conninfo(const Options& options, Databases& databases) {
  if (options.db_file.empty()) {
    spdlog::info("database: SIGHUP, but the connection string came with --db, not in a file: nothing to reload");
    return;
  }
  std::string conninfo;
  if (auto error = read_conninfo_file(options.db_file, conninfo); !error.empty()) {
    spdlog::error("database: cannot reload the connection string (SIGHUP): {}; keeping the one in use", error);
    return;
  }
  auto generation = databases.replace_conninfo(std::move(conninfo));
  spdlog::info(
      "database: connection string reloaded from {} (generation {}): each connection switches to it at its next use",
      options.db_file, generation);
}

// signal_set delivers one signal per wait: waits again after each.
void reload_at_each_hangup(boost::asio::signal_set& hangups, const Options& options, Databases& databases) {
  hangups.async_wait([&hangups, &options, &databases](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload_conninfo(options, databases);
    reload_at_each_hangup(hangups, options, databases);
  });
}

int run(const Options& options) {
  init_logging();
  spdlog::info(
      "rest-standin (a stand-in for the manager's REST service) starting: {}:{}, resources {}, max body {} bytes, {} "
      "threads",
      options.listen, options.port, options.resources, options.max_body, options.threads);
  BlueprintFiles files(options.resources);
  if (auto error = files.prepare(); !error.empty()) {
    spdlog::error("{}", error);
    return 1;
  }
  if (int removed = files.sweep(); removed > 0)
    spdlog::info("removed {} leftover file(s) of unfinished uploads", removed);
  DbSettings db_settings;
  if (options.reconnect_pause_ms) db_settings.reconnect_pause = std::chrono::milliseconds(*options.reconnect_pause_ms);
  Databases databases(options.db, db_settings);
  Service service(files, databases);

  // Declared after what its handlers use, so pending handlers are destroyed first.
  boost::asio::io_context io(options.threads);
  // From here on, before the listener: a reload soon after the start must not
  // meet SIGHUP's default action, which ends the process.
  boost::asio::signal_set hangups(io, SIGHUP);
  reload_at_each_hangup(hangups, options, databases);
  Limits limits;
  limits.max_body = options.max_body;
  if (options.max_connections) limits.max_connections = *options.max_connections;
  if (options.body_min_rate) limits.body_pace.min_rate_bytes_s = *options.body_min_rate;
  if (options.body_grace_ms) limits.body_pace.grace = std::chrono::milliseconds(*options.body_grace_ms);
  Listener listener(io, service, limits);
  if (auto error = listener.listen(options.listen, options.port); !error.empty()) {
    spdlog::error("{}", error);
    return 1;
  }
  spdlog::info("listening on http://{}:{}/api/v3.1/", options.listen, options.port);
  boost::asio::post(io, [&service] { service.warm_up(); });

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int number) {
    if (ec) return;
    spdlog::info("{}: stopping", number == SIGTERM ? "SIGTERM" : "SIGINT");
    listener.close();
    io.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (!parsed.options) {
    for (const auto& e : parsed.errors) std::cerr << "rest-standin: " << e << "\n";
    std::cerr << kUsage;
    return 2;
  }
  if (parsed.options->check_only) {
    std::cout << "ok\n";
    return 0;
  }
  return run(*parsed.options);
}
