#include "tests/testbed/http_backend.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>

namespace hasup::testbed {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr const char* kStatusPath = "/api/v3.1/status";
}

struct HttpBackend::Impl {
  explicit Impl(std::string n) : name(std::move(n)) {}
  void accept();

  std::string name;
  int port = 0;  // read once: the acceptor belongs to the server thread
  std::atomic<bool> healthy{true};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> status_requests{0};
  // Declared before the acceptor: the io_context must outlive it. Destroying
  // the io_context frees the sessions still waiting in its handlers.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
};

namespace {

// One client connection: header, body drained in 16 KiB pieces, answer, and
// again while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpBackend::Impl& backend) : socket_(std::move(socket)), backend_(backend) {}

  void read_header() {
    parser_.emplace();
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // drained, never stored
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->read_body();
                            });
  }

 private:
  void read_body() {
    if (parser_->is_done()) return respond();
    auto& body = parser_->get().body();
    body.data = scratch_;
    body.size = sizeof scratch_;
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == http::error::need_buffer) ec = {};  // the scratch buffer is full: drop it, read on
      if (ec) return self->close();
      self->read_body();
    });
  }

  void respond() {
    const auto& request = parser_->get();
    const std::string target(request.target());
    const bool status = request.method() == http::verb::get && target.substr(0, target.find('?')) == kStatusPath;
    ++backend_.requests;
    response_ = {};
    response_.version(request.version());
    response_.keep_alive(request.keep_alive());
    response_.set(http::field::content_type, "application/json");
    response_.set("X-Backend", backend_.name);
    if (status) {
      ++backend_.status_requests;
      const bool healthy = backend_.healthy.load();
      response_.result(healthy ? http::status::ok : http::status::service_unavailable);
      response_.body() = healthy ? R"({"status":"ok"})" : R"({"status":"unhealthy"})";
    } else {
      response_.result(http::status::ok);
      nlohmann::json body = {{"backend", backend_.name},
                             {"method", std::string(request.method_string())},
                             {"target", target}};
      // replace: a target with invalid UTF-8 must not throw on the server thread.
      response_.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    response_.prepare_payload();
    http::async_write(socket_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read_header();
    });
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  HttpBackend::Impl& backend_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  http::response<http::string_body> response_;
  char scratch_[16 * 1024];
};

}  // namespace

void HttpBackend::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->read_header();
    accept();
  });
}

HttpBackend::HttpBackend(std::string name) : impl_(std::make_unique<Impl>(std::move(name))) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  beast::error_code ec;
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) impl_->port = impl_->acceptor.local_endpoint(ec).port();
  if (ec) throw std::runtime_error("HttpBackend " + impl_->name + ": cannot listen: " + ec.message());
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

HttpBackend::~HttpBackend() {
  // Abrupt on purpose (a crashed backend): handlers stop where they are; the
  // sockets close when impl_ and its io_context go.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

const std::string& HttpBackend::name() const { return impl_->name; }

int HttpBackend::port() const { return impl_->port; }

void HttpBackend::set_healthy(bool healthy) { impl_->healthy.store(healthy); }
bool HttpBackend::healthy() const { return impl_->healthy.load(); }
std::uint64_t HttpBackend::requests() const { return impl_->requests.load(); }
std::uint64_t HttpBackend::status_requests() const { return impl_->status_requests.load(); }

}  // namespace hasup::testbed
