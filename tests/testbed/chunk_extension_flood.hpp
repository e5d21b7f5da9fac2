#pragma once
// A hostile client for every HTTP server here: a chunked PUT whose first
// chunk's size line never ends (one chunk extension of `bytes`), the attack
// that had the upload gate buffer 200 MB. A server that caps what it buffers
// answers 400 and closes (or resets) long before the flood is written; one
// that does not reads it all into memory and never answers.
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace hasup::testbed {

struct FloodOutcome {
  bool written_all = false;  // the server took every byte
  std::string answer;        // what came back before the close ("" on a reset)
  bool timed_out = false;    // neither an answer nor a close within the timeout
};

inline FloodOutcome flood_chunk_extension(unsigned short port, const std::string& target, std::size_t bytes,
                                          std::chrono::seconds timeout = std::chrono::seconds(20)) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  // The sync calls below honour no deadline: a watchdog shuts the socket down.
  std::atomic<bool> done{false}, fired{false};
  const int fd = socket.native_handle();
  std::thread watchdog([&] {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!done) {
      fired = true;
      ::shutdown(fd, SHUT_RDWR);
    }
  });
  FloodOutcome out;
  boost::system::error_code ec;
  const std::string head = "PUT " + target + " HTTP/1.1\r\nHost: flood\r\nContent-Type: application/octet-stream\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n1;x=";
  asio::write(socket, asio::buffer(head), ec);
  const std::string block(64 * 1024, 'e');
  std::size_t sent = 0;
  while (!ec && sent < bytes) sent += asio::write(socket, asio::buffer(block), ec);
  out.written_all = !ec && !fired;
  ec = {};
  asio::read(socket, asio::dynamic_buffer(out.answer), ec);  // until the server closes
  done = true;
  watchdog.join();
  out.timed_out = fired;
  return out;
}

// What a capped server does: a 400 naming the cap, or a close before the
// flood was all written (the answer then lost to the reset). Never silence.
inline bool refused_the_flood(const FloodOutcome& out) {
  if (out.timed_out) return false;
  if (out.answer.rfind("HTTP/1.1 400", 0) == 0) return out.answer.find("chunk") != std::string::npos;
  return out.answer.empty() && !out.written_all;
}

}  // namespace hasup::testbed
