#include "tests/testbed/request_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace hasup::testbed {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct RequestStream::Client {
  // Async operations on a thread-private io_context: Beast's synchronous
  // calls have no timeout, tcp_stream's deadline covers the whole request.
  asio::io_context io;
};

RequestStream::RequestStream(int port, std::string target, std::chrono::milliseconds pause)
    : port_(port), target_(std::move(target)), pause_(pause), client_(std::make_unique<Client>()) {
  thread_ = std::thread([this] { run(); });
}

RequestStream::~RequestStream() { stop(); }

void RequestStream::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  client_->io.stop();
  if (thread_.joinable()) thread_.join();
}

RequestStream::Tally RequestStream::snapshot() const {
  std::lock_guard lock(mutex_);
  return tally_;
}

RequestStream::Tally RequestStream::reset_backends() {
  std::lock_guard lock(mutex_);
  Tally before = tally_;
  tally_.by_backend.clear();
  return before;
}

void RequestStream::record(bool failed, const std::string& failure, const std::string& backend) {
  std::lock_guard lock(mutex_);
  ++tally_.total;
  if (!backend.empty()) ++tally_.by_backend[backend];
  if (!failed) return;
  ++tally_.failures;
  tally_.last_failures.push_back(failure);
  if (tally_.last_failures.size() > kKeptFailures) tally_.last_failures.erase(tally_.last_failures.begin());
}

void RequestStream::run() {
  auto& io = client_->io;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_));
  http::request<http::empty_body> request{http::verb::get, target_, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
  request.set(http::field::user_agent, "hasup-request-stream");
  request.set(http::field::connection, "close");
  while (true) {
    // restart() before the check: a stop() after the check then still stops run().
    io.restart();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    std::string failure;  // empty: answered
    bool answered = false;
    stream.expires_after(kRequestTimeout);
    auto fail = [&failure](const char* phase, beast::error_code ec) {
      failure = std::string(phase) + ": " + (ec == beast::error::timeout ? "timeout (2 s)" : ec.message());
    };
    stream.async_connect(endpoint, [&](beast::error_code ec) {
      if (ec) return fail("connect", ec);
      http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
        if (ec) return fail("send", ec);
        http::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) {
          if (ec) return fail("read", ec);
          answered = true;
        });
      });
    });
    io.run();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // interrupted, not a result
    }
    std::string backend;
    if (answered) {
      backend = std::string(response[ "X-Backend" ]);
      if (response.result_int() >= 500)
        failure = "status " + std::to_string(response.result_int()) + (backend.empty() ? "" : " from " + backend);
      // Reset instead of FIN: thousands of connections a second would leave
      // this side's ports in TIME_WAIT until connect() runs out of them.
      beast::error_code ignored;
      stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    }
    const bool failed = !answered || !failure.empty();
    record(failed, failure, backend);
    // A refused connect returns in microseconds: pause at least 1 ms after a
    // failure rather than spin a core the system under test needs.
    auto pause = failed ? std::max(pause_, std::chrono::milliseconds(1)) : pause_;
    if (pause.count() > 0) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, pause, [this] { return stopping_; });
    }
  }
}

}  // namespace hasup::testbed
