#include "supervisor/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <cctype>
#include <fstream>
#include <memory>
#include <optional>
#include <openssl/ssl.h>

namespace hasup::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class TlsTrust {
 public:
  explicit TlsTrust(asio::ssl::context context) : context_(std::move(context)) {}
  // Streams take the context by non-const reference; verifying with it does
  // not change it, so sharing one among exchanges is safe.
  asio::ssl::context& context() const { return context_; }

 private:
  mutable asio::ssl::context context_;
};

std::shared_ptr<const TlsTrust> load_tls_trust(const std::string& ca_file, std::string& error) {
  std::ifstream probe(ca_file);
  if (!probe) {
    error = "CA file " + ca_file + " cannot be read";
    return nullptr;
  }
  // Only this CA: the system's trust store is not consulted, so a certificate
  // any public CA signed for the name is still refused.
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                      asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  context.set_verify_mode(asio::ssl::verify_peer);
  beast::error_code ec;
  context.load_verify_file(ca_file, ec);
  if (ec) {
    error = "CA file " + ca_file + ": no PEM certificate could be loaded (" + ec.message() + ")";
    return nullptr;
  }
  return std::make_shared<const TlsTrust>(std::move(context));
}

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
    case Method::patch: return bhttp::verb::patch;
    case Method::del: return bhttp::verb::delete_;
  }
  return bhttp::verb::get;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// One connection: its socket and, for HTTPS, the TLS stream over it. Held by
// pointer, so the stream's reference to the socket survives a move into or
// out of a pool.
struct PooledConnection {
  PooledConnection(asio::io_context& io, const Endpoint& to) : socket(io) {
    if (to.tls) tls.emplace(socket, to.tls->context());
  }
  tcp::socket socket;
  // Closing the socket ends the TLS stream too: no close_notify is sent, the
  // connection is only ever dropped between exchanges or on an error.
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  std::chrono::steady_clock::time_point idle_since{};
};

ConnectionPool::ConnectionPool(std::size_t max_idle, std::chrono::milliseconds max_idle_age)
    : max_idle_(max_idle), max_idle_age_(max_idle_age) {}
ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<PooledConnection> ConnectionPool::take() {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    // An old one may have been closed by the server meanwhile: never tried.
    if (now - connection->idle_since <= max_idle_age_) return connection;
  }
  return nullptr;
}

void ConnectionPool::give(std::unique_ptr<PooledConnection> connection) {
  if (idle_.size() >= max_idle_) return;  // closed as it goes
  connection->idle_since = std::chrono::steady_clock::now();
  idle_.push_back(std::move(connection));
}

namespace {

// One request/response, on a connection from the policy's pool or a new one.
// A single deadline timer bounds the whole exchange; whichever of "finished"
// and "deadline" comes first wins.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, Endpoint to, Request request, Policy policy, Callback done)
      : io_(io), resolver_(io), deadline_(io), to_(std::move(to)), policy_(std::move(policy)),
        done_(std::move(done)) {
    message_.version(11);
    message_.method(to_verb(request.method));
    message_.target(request.target);
    message_.set(bhttp::field::host, to_.host + ":" + std::to_string(to_.port));
    message_.set(bhttp::field::user_agent, "ha-supervisor");
    message_.keep_alive(policy_.pool != nullptr);
    for (auto& [name, value] : request.headers) message_.set(name, value);
    if (!request.content_type.empty()) message_.set(bhttp::field::content_type, request.content_type);
    message_.body() = std::move(request.body);
    message_.prepare_payload();
  }

  void start() {
    deadline_.expires_after(policy_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_deadline();
    });
    if (policy_.pool) connection_ = policy_.pool->take();
    if (connection_) {
      reused_ = true;
      return write();
    }
    open();
  }

 private:
  void open() {
    reused_ = false;
    connection_ = std::make_unique<PooledConnection>(io_, to_);
    if (policy_.pool) policy_.pool->note_opened();
    if (!endpoints_.empty()) return connect();
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

  void on_resolved(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail("resolve " + to_.host, ec);
    for (auto& entry : results) endpoints_.push_back(entry.endpoint());
    connect();
  }

  void connect() {
    asio::async_connect(connection_->socket, endpoints_,
                        [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                          self->on_connected(ec);
                        });
  }

  void on_connected(beast::error_code ec) {
    if (ec) return fail("connect", ec);
    auto& tls = connection_->tls;
    if (!tls) return write();
    tls->set_verify_mode(asio::ssl::verify_peer);
    tls->set_verify_callback(asio::ssl::host_name_verification(to_.host));
    // SNI carries names only (RFC 6066), never an address.
    beast::error_code not_an_address;
    (void)asio::ip::make_address(to_.host, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(tls->native_handle(), to_.host.c_str());
    tls->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail(self->handshake_failure(), ec);
      self->write();
    });
  }

  // OpenSSL's own words name the rule that failed ("certificate verify
  // failed"); the verify result says which check.
  std::string handshake_failure() {
    long result = SSL_get_verify_result(connection_->tls->native_handle());
    if (result == X509_V_OK) return "TLS handshake with " + to_.host;
    return "TLS handshake with " + to_.host + " (certificate: " + X509_verify_cert_error_string(result) + ")";
  }

  // Runs `op` on the connection: the TLS stream over the socket, or the socket.
  template <class Op>
  void on_stream(Op&& op) {
    if (connection_->tls) op(*connection_->tls);
    else op(connection_->socket);
  }

  void write() {
    buffer_.clear();
    parser_.emplace();
    parser_->body_limit(policy_.body_limit);
    parser_->header_limit(64 * 1024);
    on_stream([this](auto& stream) {
      bhttp::async_write(stream, message_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_written(ec);
      });
    });
  }

  // A kept connection the server closed while it sat idle fails before any
  // byte of an answer: the server never read the request (it closes an idle
  // connection only with no request in hand), so it is sent once more on a
  // new connection. Anything else is the exchange's answer.
  bool retried_on_a_new_connection(beast::error_code ec) {
    if (!reused_ || timed_out_ || parser_->got_some()) return false;
    if (ec != asio::error::eof && ec != asio::error::connection_reset && ec != asio::error::broken_pipe &&
        ec != asio::ssl::error::stream_truncated && ec != bhttp::error::end_of_stream)
      return false;
    beast::error_code ignored;
    connection_->socket.close(ignored);
    open();
    return true;
  }

  // Header first: Beast 1.74 loses the body-limit error when header and body
  // arrive in one read (boostorg/beast#2183), so the limit is checked here
  // against Content-Length, and again on the body actually read.
  void on_written(beast::error_code ec) {
    if (ec && retried_on_a_new_connection(ec)) return;
    if (ec) return fail("write", ec);
    on_stream([this](auto& stream) {
      bhttp::async_read_header(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_header(ec);
      });
    });
  }

  void on_header(beast::error_code ec) {
    if (ec && retried_on_a_new_connection(ec)) return;
    if (ec) return fail("read", ec);
    auto length = parser_->content_length();
    if (length && *length > policy_.body_limit) return fail_limit();
    on_stream([this](auto& stream) {
      bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_read(ec);
      });
    });
  }

  void fail_limit() {
    Outcome outcome;
    outcome.error = "response body over the limit of " + std::to_string(policy_.body_limit) + " bytes";
    finish(std::move(outcome));
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return fail_limit();
    // "Connection: close" over TLS: a server that closes without close_notify
    // after a complete message has still answered in full.
    if (ec == asio::ssl::error::stream_truncated && parser_->is_done()) ec = {};
    if (ec) return fail("read", ec);
    if (parser_->get().body().size() > policy_.body_limit) return fail_limit();
    Outcome outcome;
    outcome.ok = true;
    auto& message = parser_->get();
    outcome.response.status = static_cast<int>(message.result_int());
    for (auto& field : message) outcome.response.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    outcome.response.body = std::move(message.body());
    // Whole, and the server keeps it open: the next exchange may use it.
    keep_ = policy_.pool && message.keep_alive() && parser_->is_done() && buffer_.size() == 0;
    finish(std::move(outcome));
  }

  void on_deadline() {
    if (finished_) return;
    timed_out_ = true;
    resolver_.cancel();
    beast::error_code ignored;
    if (connection_) connection_->socket.close(ignored);
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
    if (connection_ && keep_) {
      policy_.pool->give(std::move(connection_));
    } else if (connection_) {
      beast::error_code ignored;
      connection_->socket.shutdown(tcp::socket::shutdown_both, ignored);
      connection_->socket.close(ignored);
    }
    auto done = std::move(done_);
    done(std::move(outcome));
  }

  asio::io_context& io_;
  tcp::resolver resolver_;
  std::unique_ptr<PooledConnection> connection_;
  asio::steady_timer deadline_;
  Endpoint to_;
  Policy policy_;
  Callback done_;
  std::vector<tcp::endpoint> endpoints_;
  bhttp::request<bhttp::string_body> message_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;  // anew for each try
  bool reused_ = false;  // connection_ came from the pool
  bool keep_ = false;    // give connection_ back to the pool
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
