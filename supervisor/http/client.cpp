#include "supervisor/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <cctype>
#include <memory>

namespace hasup::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

namespace {

bhttp::verb to_verb(Method m) {
  switch (m) {
    case Method::get: return bhttp::verb::get;
    case Method::put: return bhttp::verb::put;
    case Method::post: return bhttp::verb::post;
    case Method::del: return bhttp::verb::delete_;
  }
  return bhttp::verb::get;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One request/response on a fresh connection. A single deadline timer bounds
// the whole exchange; whichever of "finished" and "deadline" comes first wins.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, Endpoint to, Request request, Policy policy, Callback done)
      : resolver_(io), socket_(io), deadline_(io), to_(std::move(to)),
        policy_(policy), done_(std::move(done)) {
    message_.version(11);
    message_.method(to_verb(request.method));
    message_.target(request.target);
    message_.set(bhttp::field::host, to_.host + ":" + std::to_string(to_.port));
    message_.set(bhttp::field::user_agent, "ha-supervisor");
    message_.set(bhttp::field::connection, "close");
    for (auto& [name, value] : request.headers) message_.set(name, value);
    if (!request.content_type.empty()) message_.set(bhttp::field::content_type, request.content_type);
    message_.body() = std::move(request.body);
    message_.prepare_payload();
    parser_.body_limit(policy_.body_limit);
    parser_.header_limit(64 * 1024);
  }

  void start() {
    deadline_.expires_after(policy_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_deadline();
    });
    beast::error_code ec;
    auto address = asio::ip::make_address(to_.host, ec);
    if (!ec) {
      endpoints_.emplace_back(address, to_.port);
      connect();
      return;
    }
    resolver_.async_resolve(to_.host, std::to_string(to_.port),
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                              self->on_resolved(ec, std::move(r));
                            });
  }

 private:
  void on_resolved(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail("resolve " + to_.host, ec);
    for (auto& entry : results) endpoints_.push_back(entry.endpoint());
    connect();
  }

  void connect() {
    asio::async_connect(socket_, endpoints_,
                        [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                          self->on_connected(ec);
                        });
  }

  void on_connected(beast::error_code ec) {
    if (ec) return fail("connect", ec);
    bhttp::async_write(socket_, message_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  // Header first: Beast 1.74 loses the body-limit error when header and body
  // arrive in one read (boostorg/beast#2183), so the limit is checked here
  // against Content-Length, and again on the body actually read.
  void on_written(beast::error_code ec) {
    if (ec) return fail("write", ec);
    bhttp::async_read_header(socket_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail("read", ec);
    auto length = parser_.content_length();
    if (length && *length > policy_.body_limit) return fail_limit();
    bhttp::async_read(socket_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void fail_limit() {
    Outcome outcome;
    outcome.error = "response body over the limit of " + std::to_string(policy_.body_limit) + " bytes";
    finish(std::move(outcome));
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return fail_limit();
    if (ec) return fail("read", ec);
    if (parser_.get().body().size() > policy_.body_limit) return fail_limit();
    Outcome outcome;
    outcome.ok = true;
    auto& message = parser_.get();
    outcome.response.status = static_cast<int>(message.result_int());
    for (auto& field : message) outcome.response.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    outcome.response.body = std::move(message.body());
    finish(std::move(outcome));
  }

  void on_deadline() {
    if (finished_) return;
    timed_out_ = true;
    resolver_.cancel();
    beast::error_code ignored;
    socket_.close(ignored);
  }

  void fail(const std::string& step, beast::error_code ec) {
    Outcome outcome;
    if (timed_out_) {
      outcome.timed_out = true;
      outcome.error = "timeout after " + std::to_string(policy_.timeout.count()) + " ms (" + step + ")";
    } else {
      outcome.error = step + ": " + ec.message();
    }
    finish(std::move(outcome));
  }

  void finish(Outcome outcome) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    auto done = std::move(done_);
    done(std::move(outcome));
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  Endpoint to_;
  Policy policy_;
  Callback done_;
  std::vector<tcp::endpoint> endpoints_;
  bhttp::request<bhttp::string_body> message_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
  bool finished_ = false;
  bool timed_out_ = false;
};

}  // namespace

void async_request(asio::io_context& io, const Endpoint& to, Request request, const Policy& policy,
                   Callback done) {
  std::make_shared<Exchange>(io, to, std::move(request), policy, std::move(done))->start();
}

Outcome request_sync(const Endpoint& to, Request request, const Policy& policy) {
  asio::io_context io;
  Outcome result;
  async_request(io, to, std::move(request), policy, [&](Outcome o) { result = std::move(o); });
  io.run();
  return result;
}

std::string url_encode(const std::string& text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace hasup::http
