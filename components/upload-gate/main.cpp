// ha-upload-gate: holds the answer to an upload until the peers have the file
// (see README.md). Only wiring lives here.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "components/upload-gate/config.hpp"
#include "components/upload-gate/verdict.hpp"
#include "supervisor/http/server.hpp"
#include "supervisor/metrics/text.hpp"
#include "supervisor/util/files.hpp"
#include "components/upload-gate/hold_watch.hpp"
#include "components/upload-gate/inotify_watcher.hpp"
#include "components/upload-gate/proxy_session.hpp"
#include "components/upload-gate/replication_tracker.hpp"
#include "components/upload-gate/write_hold.hpp"

namespace {

using namespace hasup::upload_gate;

constexpr const char* kUsage =
    "usage: ha-upload-gate [--config FILE]      run (default /etc/ha-upload-gate/gate.conf)\n"
    "       ha-upload-gate --check-config FILE  check FILE, print every error, exit 1 if any\n";

void init_logging(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>("ha-upload-gate", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

int run(const GateConfig& config) {
  init_logging(config.log_level);
  spdlog::info("ha-upload-gate starting: listen {}:{}, upstream {}:{}, folder {} at {}, syncthing {}, quorum {}, "
               "timeout {} ms, on_timeout {}, durability {}, write hold {} (acknowledged in {}, at most {} ms)",
               config.listen_address, config.listen_port, config.upstream_address, config.upstream_port,
               config.folder_id, config.folder_path, config.syncthing_url, describe(config.quorum),
               config.timeout.count(), config.on_timeout == OnTimeout::fail ? "fail" : "warn", durability_name(config.durability), config.hold.file,
               config.hold.ack_file, config.hold.max.count());

  // The change watcher and the replication tracker share one thread of their
  // own; proxying runs on the pool. Declared before what uses them.
  boost::asio::io_context tracker_io(1);
  InotifyWatcher watcher(config.folder_path);
  if (auto error = watcher.start(tracker_io); !error.empty()) {
    spdlog::error("{}", error);
    return 1;
  }
  ReplicationTracker tracker(tracker_io, config);
  tracker.start();
  // The write hold of a planned switchover: its file is watched on the same
  // thread. Declared before the loops: a session they destroy at the end may
  // still tell it that its write left the upstream.
  GateMetrics metrics;
  WriteHold hold(config.hold, &metrics);
  HoldWatch hold_watch(tracker_io, config.hold, config.poll_interval, hold);
  hold_watch.start();

  // One loop per thread (see proxy_session.hpp); the work guards keep a loop
  // with no connection yet running.
  std::vector<std::unique_ptr<boost::asio::io_context>> loops;
  std::vector<boost::asio::io_context*> loop_pointers;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> keep_running;
  for (int i = 0; i < config.threads; ++i) {
    loops.push_back(std::make_unique<boost::asio::io_context>(1));
    loop_pointers.push_back(loops.back().get());
    keep_running.push_back(boost::asio::make_work_guard(*loops.back()));
  }
  GateContext context{config, watcher, tracker, metrics, hold};
  Listener listener(loop_pointers, context);
  if (auto error = listener.listen(config.listen_address, config.listen_port); !error.empty()) {
    spdlog::error("{}", error);
    return 1;
  }
  // GET /metrics on loopback (config: metrics), served by the first loop.
  std::optional<hasup::http::Server> metrics_server;
  if (config.metrics_port != 0) {
    metrics_server.emplace(*loops.front(), [&metrics](const hasup::http::ServerRequest& request,
                                                      hasup::http::Respond respond) {
      hasup::http::ServerResponse r;
      if (request.path != "/metrics") {
        r.status = 404;
        r.body = error_body("no such resource; try GET /metrics");
      } else if (request.method != "GET") {
        r.status = 405;
        r.body = error_body("use GET");
      } else {
        r.body = metrics.text();
        r.content_type = hasup::metrics::kContentType;
      }
      respond(std::move(r));
    });
    if (auto error = metrics_server->listen(config.metrics_address, config.metrics_port); !error.empty()) {
      spdlog::error("metrics: {}", error);
      return 1;
    }
    spdlog::info("metrics on http://{}:{}/metrics", config.metrics_address, metrics_server->port());
  }
  // The rule this gate runs by, for the supervisor's status (it shows a
  // difference from cluster.durability). Not fatal: uploads work without it.
  if (!config.durability_file.empty()) {
    if (auto error = hasup::write_file_atomically(config.durability_file,
                                                  std::string(durability_name(config.durability)) + "\n", 0644);
        !error.empty())
      spdlog::warn("durability: {} (hactl status will not show this gate's rule)", error);
  }
  spdlog::info("listening on {}:{} ({} directories watched, {} could not be)", config.listen_address,
               config.listen_port, watcher.watched_directories(), watcher.unwatched_directories().size());

  boost::asio::signal_set signals(*loops.front(), SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int number) {
    if (ec) return;
    spdlog::info("{}: stopping", number == SIGTERM ? "SIGTERM" : "SIGINT");
    listener.close();
    if (metrics_server) metrics_server->close();
    for (auto& loop : loops) loop->stop();
    tracker_io.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);

  std::thread tracker_thread([&tracker_io] { tracker_io.run(); });
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops.size(); ++i) threads.emplace_back([loop = loops[i].get()] { loop->run(); });
  loops.front()->run();
  for (auto& t : threads) t.join();
  tracker_io.stop();
  tracker_thread.join();
  // The writes still waiting own their sessions, whose sockets need their
  // loops: dropped while the loops exist.
  hold.drop_waiting();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string path = "/etc/ha-upload-gate/gate.conf";
  bool check_only = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if ((args[i] == "--config" || args[i] == "--check-config") && i + 1 < args.size()) {
      check_only = check_only || args[i] == "--check-config";
      path = args[++i];
      continue;
    }
    std::cerr << "ha-upload-gate: unknown or incomplete option '" << args[i] << "'\n" << kUsage;
    return 2;
  }
  auto loaded = load_config_file(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e << "\n";
    return 1;
  }
  if (check_only) {
    std::cout << path << ": ok\n";
    return 0;
  }
  return run(*loaded.config);
}
