#pragma once
// A stand-in application backend for the nginx tests: a Beast HTTP/1.1 server
// (keep-alive) on 127.0.0.1, ephemeral port, served by its own thread.
//
//   GET /api/v3.1/status  -> 200 {"status":"ok"} while healthy, else 503
//   anything else         -> 200 {"backend":NAME,"method":...,"target":...}
//                            with header X-Backend: NAME
//
// Every response names the backend in X-Backend, so a client behind nginx can
// tell which backend answered. Request bodies (any size, chunked too) are
// read in small pieces and thrown away: a proxy's upload never fills memory.
// The destructor stops the server abruptly, like a crash: listening socket
// and open keep-alive connections close at once, then the thread is joined.
#include <cstdint>
#include <memory>
#include <string>

namespace hasup::testbed {

class HttpBackend {
 public:
  // Listens before returning; throws std::runtime_error if it cannot.
  explicit HttpBackend(std::string name);
  ~HttpBackend();
  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  const std::string& name() const;
  int port() const;
  // What the status endpoint answers from now on (thread-safe).
  void set_healthy(bool healthy);
  bool healthy() const;
  // Requests answered so far, all targets; status_requests() is the part that
  // went to the status endpoint (health checks), so requests() minus it is traffic.
  std::uint64_t requests() const;
  std::uint64_t status_requests() const;

  struct Impl;  // Beast stays out of the tests' headers

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hasup::testbed
