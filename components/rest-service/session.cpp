#include "components/rest-service/session.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <vector>

#include "components/rest-service/routes.hpp"
#include "supervisor/http/listen.hpp"
#include "supervisor/http/refusal.hpp"
#include "supervisor/http/request_reading.hpp"
#include "supervisor/util/json_text.hpp"

namespace hasup::rest_standin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct Listener::State {
  State(asio::io_context& io, Service& service, Limits limits)
      : io(io), acceptor(asio::make_strand(io)), service(service), limits(limits), admission(limits.max_connections, 0) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  Service& service;
  const Limits limits;
  // Total only: the stand-in listens on loopback, for its node's gate.
  http::ConnectionAdmission admission;
  http::RefusalLog refusals;  // on the acceptor's strand only
  bool closed = false;  // touched on the acceptor's strand only
};

namespace {

// A response and its serializer, kept together (the serializer refers to the
// message) until the last byte is written.
template <class Body>
struct Outgoing {
  bhttp::response<Body> message;
  std::optional<bhttp::response_serializer<Body>> serializer;
};

using http::is_http_error;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Listener::State> listener, http::ConnectionAdmission::Ticket ticket)
      : stream_(std::move(socket)),
        listener_(std::move(listener)),
        ticket_(std::move(ticket)),
        limits_(listener_->limits),
        body_deadline_(stream_.get_executor()) {}

  void start() { do_read_header(); }

 private:
  Service& service() { return listener_->service; }

  void do_read_header() {
    header_parser_.emplace();
    // The size is checked once the route is known (413 for uploads only).
    http::set_parser_limits(*header_parser_, limits_.header_limit, std::nullopt);
    method_ = "-";
    target_ = "-";
    bytes_in_ = 0;
    body_waited_ = milliseconds(0);
    stream_.expires_after(limits_.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *header_parser_,
                             beast::bind_front_handler(&Session::after_read_header, shared_from_this()));
  }

  void after_read_header(beast::error_code ec, std::size_t) {
    started_ = Clock::now();
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || (ec && !is_http_error(ec))) {
      // The client closed or went quiet between requests: nothing to answer.
      return close();
    }
    keep_alive_ = false;
    body_pending_ = true;
    if (ec == bhttp::error::header_limit) return respond(error_reply(431, "request header too large"));
    if (ec == bhttp::error::buffer_overflow) return respond(error_reply(400, http::kReadBufferOverflowReason));
    if (ec) return respond(error_reply(400, "malformed request: " + ec.message()));
    auto& header = header_parser_->get();
    method_ = std::string(header.method_string());
    target_ = std::string(header.target());
    keep_alive_ = header.keep_alive();
    body_pending_ = !header_parser_->is_done();
    dispatch();
  }

  void dispatch() {
    auto matched = route(method_, target_);
    if (matched.refusal) {
      auto reply = error_reply(matched.refusal, matched.error);
      if (!matched.allow.empty()) reply.headers.emplace_back("Allow", matched.allow);
      return respond(std::move(reply));
    }
    switch (matched.resource) {
      case Resource::status:
        return respond(service().status());
      case Resource::blueprint:
        if (method_ == "PUT") return start_upload(matched.id);
        if (method_ == "DELETE") return respond(service().delete_blueprint(matched.id));
        return respond(service().get_blueprint(matched.id));
      case Resource::blueprint_archive: {
        auto archive = service().get_archive(matched.id);
        if (auto* reply = std::get_if<Reply>(&archive)) return respond(std::move(*reply));
        return respond_archive(std::move(std::get<ArchiveReply>(archive)));
      }
    }
  }

  void start_upload(const std::string& id) {
    if (header_parser_->is_done()) return respond(error_reply(400, "empty body: the archive is the request body"));
    if (auto length = header_parser_->content_length(); length && *length > limits_.max_body) {
      return respond(error_reply(413, "body of " + std::to_string(*length) + " bytes is over the limit of " +
                                          std::to_string(limits_.max_body) + " bytes"));
    }
    bool expects_continue = beast::iequals(header_parser_->get()[bhttp::field::expect], "100-continue");
    auto begun = service().begin_upload(id);
    if (auto* reply = std::get_if<Reply>(&begun)) return respond(std::move(*reply));
    upload_ = std::move(std::get<std::unique_ptr<Upload>>(begun));
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(limits_.max_body);  // a chunked body has no length to check up front
    chunk_.resize(limits_.chunk_size);
    // Beast reads as much as the buffer has room for (at least 512 bytes), and
    // buffer_body empties it each time: without room it reads 512 bytes a call.
    buffer_.reserve(limits_.read_size);
    if (!expects_continue) return do_read_body();
    auto go_on = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    stream_.expires_after(limits_.idle_timeout);
    bhttp::async_write(stream_, *go_on, [self = shared_from_this(), go_on](beast::error_code ec, std::size_t) {
      if (ec) return self->abandon("writing 100 Continue: " + ec.message());
      self->do_read_body();
    });
  }

  void do_read_body() {
    auto& body = body_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    // The body's pace (http::BodyPace: writing to disk between reads does not
    // count against the client) or the idle timeout, whichever ends first; the
    // timer cancels the read, so the client still gets a 408.
    auto now = Clock::now();
    auto allowance =
        http::body_read_allowance(limits_.body_pace, bytes_in_, body_waited_, duration_cast<milliseconds>(now - started_));
    if (allowance <= milliseconds(0)) return body_timed_out(false);
    read_idle_bound_ = duration_cast<milliseconds>(limits_.idle_timeout) <= allowance;
    read_started_ = now;
    deadline_passed_ = false;
    stream_.expires_never();
    body_deadline_.expires_after(std::min(allowance, duration_cast<milliseconds>(limits_.idle_timeout)));
    body_deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      // A wakeup queued before the timer was set again is stale.
      if (!self || ec || self->body_deadline_.expiry() > Clock::now()) return;
      self->deadline_passed_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    bhttp::async_read(stream_, buffer_, *body_parser_,
                      beast::bind_front_handler(&Session::after_read_body, shared_from_this()));
  }

  // Idle past the idle timeout, or slower than the body's pace: 408, nothing kept.
  void body_timed_out(bool idle) {
    upload_.reset();
    respond(error_reply(408, idle ? "request body idle for " + std::to_string(limits_.idle_timeout.count()) + " s"
                                  : http::body_too_slow_reason(limits_.body_pace, bytes_in_,
                                                               duration_cast<milliseconds>(Clock::now() - started_))));
  }

  void after_read_body(beast::error_code ec, std::size_t) {
    body_deadline_.cancel();
    body_waited_ += duration_cast<milliseconds>(Clock::now() - read_started_);
    if (ec == bhttp::error::need_buffer) ec = {};  // the chunk is full: write it and read on
    auto got = chunk_.size() - body_parser_->get().body().size;
    if (got > 0) {
      bytes_in_ += got;
      if (auto error = upload_->append(chunk_.data(), got); !error.empty()) {
        const bool out_of_space = upload_->out_of_space();
        upload_.reset();
        return respond(file_error_reply(out_of_space, error));
      }
    }
    if (deadline_passed_) return body_timed_out(read_idle_bound_);
    if (ec == bhttp::error::body_limit) {
      upload_.reset();
      return respond(error_reply(413, "body over the limit of " + std::to_string(limits_.max_body) + " bytes"));
    }
    if (ec && is_http_error(ec) && ec != bhttp::error::partial_message) {
      upload_.reset();
      return respond(error_reply(400, ec == bhttp::error::buffer_overflow ? http::kReadBufferOverflowReason
                                                                          : "malformed body: " + ec.message()));
    }
    if (ec) return abandon("upload cut off: " + ec.message());
    if (!body_parser_->is_done()) return do_read_body();
    body_pending_ = false;
    std::vector<char>().swap(chunk_);
    body_parser_.reset();
    auto reply = service().finish_upload(*upload_);
    upload_.reset();
    respond(std::move(reply));
  }

  void respond(Reply reply) {
    auto out = std::make_shared<Outgoing<bhttp::string_body>>();
    auto& message = out->message;
    message.version(11);
    message.result(static_cast<unsigned>(reply.status));
    message.set(bhttp::field::server, "rest-standin");
    message.set(bhttp::field::cache_control, "no-store");
    for (auto& [name, value] : reply.headers) message.set(name, value);
    if (!reply.body.is_null()) {
      message.set(bhttp::field::content_type, "application/json");
      message.body() = json_text(reply.body);
    }
    send(std::move(out));
  }

  void respond_archive(ArchiveReply archive) {
    auto out = std::make_shared<Outgoing<bhttp::file_body>>();
    out->message.version(11);
    out->message.result(bhttp::status::ok);
    out->message.set(bhttp::field::server, "rest-standin");
    out->message.set(bhttp::field::content_type, "application/octet-stream");
    out->message.set("X-Blueprint-Sha256", archive.row.sha256);
    out->message.body() = std::move(archive.file);
    send(std::move(out));
  }

  template <class Body>
  void send(std::shared_ptr<Outgoing<Body>> out) {
    // A request whose body was not read cannot be followed by another on this connection.
    out->message.keep_alive(keep_alive_ && !body_pending_);
    out->message.prepare_payload();
    status_ = out->message.result_int();
    bytes_out_ = out->message.payload_size().value_or(0);
    out->serializer.emplace(out->message);
    do_write(std::move(out));
  }

  // Written piece by piece, so the idle timeout bounds each write and not a
  // whole (maybe 1 GB) download.
  template <class Body>
  void do_write(std::shared_ptr<Outgoing<Body>> out) {
    stream_.expires_after(limits_.idle_timeout);
    auto& serializer = *out->serializer;
    bhttp::async_write_some(stream_, serializer,
                            [self = shared_from_this(), out = std::move(out)](
                                beast::error_code ec, std::size_t) mutable { self->after_write(std::move(out), ec); });
  }

  template <class Body>
  void after_write(std::shared_ptr<Outgoing<Body>> out, beast::error_code ec) {
    if (ec) return abandon("writing the answer: " + ec.message());
    if (!out->serializer->is_done()) return do_write(std::move(out));
    log_request("");
    bool keep_alive = out->message.keep_alive();
    out.reset();
    if (keep_alive) return do_read_header();
    if (body_pending_) return linger();
    close();
  }

  // The connection broke mid-exchange: no answer can be given.
  void abandon(const std::string& why) {
    upload_.reset();
    status_ = 0;
    log_request(" (" + why + ")");
    close();
  }

  // Answered before the client finished sending: stop sending, then read and
  // drop what still comes for a moment. Closing at once would reset the
  // connection and the client might never see the 413 or 503.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    chunk_.resize(limits_.chunk_size);
    stream_.expires_after(limits_.linger);
    do_drain();
  }

  void do_drain() {
    stream_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->do_drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  void log_request(const std::string& note) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
    spdlog::info("{} {} {} in={} out={} {} ms{}", method_, target_, status_ ? std::to_string(status_) : "-", bytes_in_,
                 bytes_out_, ms, note);
    status_ = 0;
    bytes_out_ = 0;
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Listener::State> listener_;
  http::ConnectionAdmission::Ticket ticket_;
  const Limits& limits_;
  asio::steady_timer body_deadline_;
  bool deadline_passed_ = false;
  bool read_idle_bound_ = false;  // the read's deadline is the idle timeout, not the pace
  Clock::time_point read_started_;
  milliseconds body_waited_{0};  // time spent waiting for the client's body so far
  beast::flat_buffer buffer_{http::kReadBufferLimit};
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> body_parser_;
  std::vector<char> chunk_;
  std::unique_ptr<Upload> upload_;

  // The exchange in progress.
  std::string method_ = "-";
  std::string target_ = "-";
  Clock::time_point started_ = Clock::now();
  bool keep_alive_ = false;
  bool body_pending_ = false;  // the request body was not (all) read
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  unsigned status_ = 0;
};

void accept_loop(std::shared_ptr<Listener::State> state) {
  // Each connection gets its own strand: its handlers never run at once, and
  // different connections run on different pool threads.
  state->acceptor.async_accept(asio::make_strand(state->io), [state](beast::error_code ec, tcp::socket socket) {
    if (state->closed) return;
    if (!ec) {
      if (auto ticket = http::admit_or_refuse(state->admission, socket, "rest-standin", state->refusals))
        std::make_shared<Session>(std::move(socket), state, std::move(*ticket))->start();
    }
    accept_loop(state);
  });
}

}  // namespace

Listener::Listener(asio::io_context& io, Service& service, Limits limits)
    : state_(std::make_shared<State>(io, service, limits)) {}

std::string Listener::listen(const std::string& address, unsigned short port) {
  return http::listen_and_accept(state_, address, port, &accept_loop);
}

void Listener::close() { http::stop_accepting(state_); }

}  // namespace hasup::rest_standin
