#include "supervisor/http/server.hpp"
#include "supervisor/http/listen.hpp"
#include "supervisor/http/refusal.hpp"
#include "supervisor/http/request_reading.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace hasup::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Server::State {
  State(asio::io_context& io, Handler h, ServerLimits l)
      : io(io), acceptor(io), handler(std::move(h)), limits(l), admission(l.max_connections, 0) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  Handler handler;
  ServerLimits limits;
  ConnectionAdmission admission;  // local tools only: no cap per address
  RefusalLog refusals;
  bool closed = false;
};

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (text[i] == '+') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Server::State> server, ConnectionAdmission::Ticket ticket)
      : stream_(std::move(socket)), server_(std::move(server)), ticket_(std::move(ticket)) {}

  void start() { read_request(); }

 private:
  void read_request() {
    parser_.emplace();
    set_parser_limits(*parser_, server_->limits.header_limit, server_->limits.body_limit);
    stream_.expires_after(server_->limits.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec) {
      // Malformed or oversized: answer once, clearly, then close.
      ServerResponse r;
      r.status = (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) ? 413 : 400;
      r.body = std::string("{\"error\":\"bad request: ") +
               (ec == bhttp::error::buffer_overflow ? kReadBufferOverflowReason : ec.message()) + "\"}";
      keep_alive_ = false;
      return write(std::move(r));
    }
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    ServerRequest request;
    request.method = std::string(message.method_string());
    std::string target(message.target());
    auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = parse_query(target.substr(question + 1));
    request.body = std::move(message.body());
    if (auto it = message.find(bhttp::field::authorization); it != message.end())
      request.authorization = std::string(it->value());
    beast::error_code ignored;
    auto remote = stream_.socket().remote_endpoint(ignored);
    request.peer = ignored ? "" : remote.address().to_string();
    std::weak_ptr<Connection> weak = shared_from_this();
    auto respond = [weak](ServerResponse response) {
      if (auto self = weak.lock()) self->write(std::move(response));
    };
    // Keeps the connection alive while the handler works.
    pending_ = shared_from_this();
    server_->handler(request, std::move(respond));
  }

  void write(ServerResponse r) {
    pending_.reset();
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(bhttp::field::server, "ha-supervisor");
    response_.set(bhttp::field::content_type, r.content_type);
    response_.set(bhttp::field::cache_control, "no-store");
    for (auto& [name, value] : r.headers) response_.set(name, value);
    response_.keep_alive(keep_alive_);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    stream_.expires_after(server_->limits.idle_timeout);
    bhttp::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->keep_alive_ || self->server_->closed) return self->close();
      self->read_request();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Server::State> server_;
  ConnectionAdmission::Ticket ticket_;
  beast::flat_buffer buffer_{kReadBufferLimit};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  bool keep_alive_ = false;
  std::shared_ptr<Connection> pending_;
};

}  // namespace

std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string part = query.substr(start, end - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      out[percent_decode(part.substr(0, eq))] = eq == std::string::npos ? "" : percent_decode(part.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

Server::Server(asio::io_context& io, Handler handler, ServerLimits limits)
    : state_(std::make_shared<State>(io, std::move(handler), limits)) {}

Server::~Server() { close(); }

std::string Server::listen(const std::string& address, unsigned short port) {
  if (auto error = open_and_listen(state_->acceptor, address, port); !error.empty()) return error;
  accept();
  return {};
}

unsigned short Server::port() const {
  beast::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void Server::close() {
  if (state_->closed) return;
  state_->closed = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

void Server::accept() { accept_loop(state_); }

void accept_loop(std::shared_ptr<Server::State> state) {
  state->acceptor.async_accept(state->io, [state](beast::error_code ec, tcp::socket socket) {
    if (state->closed) return;
    if (!ec) {
      // Over the limit: refused with an answer rather than queued without bound.
      if (auto ticket = admit_or_refuse(state->admission, socket, "ha-supervisor", state->refusals))
        std::make_shared<Connection>(std::move(socket), state, std::move(*ticket))->start();
    }
    accept_loop(state);
  });
}

}  // namespace hasup::http
