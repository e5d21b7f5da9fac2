#pragma once
// Client traffic for the nginx tests: a background thread sending GETs to
// 127.0.0.1:PORT TARGET back to back, one new connection per request (so
// every request is balanced on its own, like separate users), until stopped.
//
// A request fails on a connect error, a 2 s timeout (connect to last byte),
// or a status >= 500. Responses carrying X-Backend (see http_backend.hpp) are
// counted per value, failed or not; responses without it are only in total.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hasup::testbed {

class RequestStream {
 public:
  struct Tally {
    std::uint64_t total = 0;     // requests completed (answered or failed)
    std::uint64_t failures = 0;
    std::map<std::string, std::uint64_t> by_backend;  // X-Backend value -> responses
    std::vector<std::string> last_failures;           // newest last, at most kKeptFailures
  };
  static constexpr std::size_t kKeptFailures = 8;
  static constexpr std::chrono::seconds kRequestTimeout{2};

  // Starts sending at once.
  RequestStream(int port, std::string target, std::chrono::milliseconds pause = std::chrono::milliseconds(0));
  ~RequestStream();
  RequestStream(const RequestStream&) = delete;
  RequestStream& operator=(const RequestStream&) = delete;

  // Ends the thread; a request in flight is abandoned and not counted. Idempotent.
  void stop();
  Tally snapshot() const;
  // Returns the tally as it was and clears by_backend, in one step, so no
  // response falls between the read and the reset. total/failures keep counting.
  Tally reset_backends();

 private:
  void run();
  void record(bool failed, const std::string& failure, const std::string& backend);

  const int port_;
  const std::string target_;
  const std::chrono::milliseconds pause_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // cuts a pause short on stop()
  bool stopping_ = false;
  Tally tally_;
  struct Client;  // the thread's io_context (stop() interrupts it); keeps Beast out of here
  std::unique_ptr<Client> client_;
  std::thread thread_;
};

}  // namespace hasup::testbed
