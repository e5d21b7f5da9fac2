#pragma once
// The gate's HTTP/1.1 side: accepts clients (nginx), relays each request to the
// upstream REST service with bounded buffers both ways, and for a gated write
// holds the upstream's 2xx answer until the replication tracker says the peers
// have what changed.
//
// Threads: one io_context per thread, each run by that thread alone; accepted
// connections are dealt to them in turn, and a client connection and its
// upstream connection live on one. No io_context is shared, so threads never
// contend for a scheduler lock (with one io_context run by two threads, /ping
// through the gate managed 33% of straight on 2 cores, one thread 48%).
// The change log, the replication tracker and the write hold are shared and
// thread-safe (a mutex, and the tracker's own thread).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "components/upload-gate/config.hpp"
#include "components/upload-gate/inotify_watcher.hpp"
#include "components/upload-gate/metrics.hpp"
#include "components/upload-gate/replication_tracker.hpp"
#include "components/upload-gate/write_hold.hpp"

namespace hasup::upload_gate {

struct GateContext {
  const GateConfig& config;
  InotifyWatcher& watcher;
  ReplicationTracker& tracker;
  GateMetrics& metrics;
  WriteHold& hold;
};

class Listener {
 public:
  // Accepts on the first of `loops`; each connection goes to the next one in turn.
  Listener(const std::vector<boost::asio::io_context*>& loops, GateContext& context);
  // "" or why not.
  std::string listen(const std::string& address, unsigned short port);
  void close();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hasup::upload_gate
