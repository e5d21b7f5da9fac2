#pragma once
// HTTP/1.1 over Beast for the stand-in: keep-alive, uploads streamed to disk,
// archives streamed from disk.
//
// Threads: one io_context run by a small fixed pool of threads (--threads,
// default 4), each connection on its own strand. The service's calls block
// (libpq has no timeout-free async API worth the code here, and fsync blocks
// anyway), so they run inline on whichever pool thread runs the handler, with
// that thread's own database connection: a slow database holds at most one
// thread per request, and the other threads keep serving. Limits are named
// here, like Beast's advanced server example.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "components/rest-service/service.hpp"
#include "supervisor/http/body_pace.hpp"

namespace hasup::rest_standin {

struct Limits {
  std::uint64_t max_body = std::uint64_t{2} << 30;  // uploads above this get 413
  std::uint32_t header_limit = 16 * 1024;
  std::chrono::seconds idle_timeout{30};  // between two reads or writes, and between requests
  http::BodyPace body_pace;               // an upload's minimum rate and total deadline (408)
  std::chrono::seconds linger{3};         // reading what a refused client still sends, so it sees the answer
  // Bytes written to disk at a time. Held per upload in progress: 128 slow
  // uploads (nginx's per-client share) held 40 MB with 256 KiB here.
  std::size_t chunk_size = 64 * 1024;
  std::size_t read_size = 64 * 1024;      // bytes asked of the socket at a time
  // Above the gate's limits.max_connections (512): the gate opens one
  // connection here per request it relays, and a refusal here would reach its
  // client as a 503 instead of the gate's own.
  std::size_t max_connections = 640;
};

class Listener {
 public:
  Listener(boost::asio::io_context& io, Service& service, Limits limits);
  // "" or why not.
  std::string listen(const std::string& address, unsigned short port);
  void close();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hasup::rest_standin
