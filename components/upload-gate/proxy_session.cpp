#include "components/upload-gate/proxy_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <vector>

#include "components/upload-gate/verdict.hpp"
#include "components/upload-gate/write_rules.hpp"
#include "supervisor/http/body_pace.hpp"
#include "supervisor/http/listen.hpp"
#include "supervisor/http/refusal.hpp"
#include "supervisor/http/request_reading.hpp"

namespace hasup::upload_gate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct Listener::State {
  State(const std::vector<asio::io_context*>& loops, GateContext& context)
      : loops(loops),
        acceptor(*loops.front()),
        context(context),
        admission(context.config.limits.max_connections, context.config.limits.max_connections_per_client,
                  "limits.max_connections", "limits.max_connections_per_client") {}
  std::vector<asio::io_context*> loops;
  tcp::acceptor acceptor;
  GateContext& context;
  http::ConnectionAdmission admission;
  std::size_t next_loop = 0;  // acceptor's loop only
  bool closed = false;        // acceptor's loop only
  http::RefusalLog refusals;  // acceptor's loop only
};

namespace {

constexpr std::chrono::seconds kLinger{2};
constexpr std::size_t kReadBytes = 16 * 1024;  // per read from a socket, each direction

using http::is_http_error;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Listener::State> listener, http::ConnectionAdmission::Ticket ticket)
      : listener_(std::move(listener)),
        ticket_(std::move(ticket)),
        context_(listener_->context),
        limits_(context_.config.limits),
        client_(std::move(socket)),
        upstream_(client_.get_executor()),
        read_deadline_(client_.get_executor()) {
    chunk_.resize(limits_.relay_chunk_bytes);
    // Beast reads at most max(512, free capacity) bytes at a time: without room
    // a 16 KB answer took 32 reads, and an upload one read per 512 bytes.
    client_buffer_.reserve(kReadBytes);
    upstream_buffer_.reserve(kReadBytes);
  }

  ~Session() {
    if (window_) context_.watcher.close_window(*window_);
    leave_upstream();
  }

  void start() { do_read_header(); }

 private:
  // --- the client's request header -----------------------------------------

  void do_read_header() {
    request_.emplace();
    http::set_parser_limits(*request_, limits_.header_bytes, std::nullopt);  // relayed, whatever its size
    request_writer_.reset();
    response_.reset();
    response_writer_.reset();
    held_body_.clear();
    gated_ = false;
    body_pending_ = false;
    status_ = 0;
    method_ = "-";
    target_ = "-";
    body_waited_ = milliseconds(0);
    // One deadline for the whole header (a slowloris client sends a byte now
    // and then: a per-read timeout would never fire).
    client_.expires_never();
    arm_read_deadline(limits_.header_timeout);
    bhttp::async_read_header(client_, client_buffer_, *request_,
                             beast::bind_front_handler(&Session::after_read_header, shared_from_this()));
  }

  // The deadlines a per-read timeout cannot enforce (the whole header's, a
  // body's pace) cancel the read instead of closing the socket, so the client
  // still gets a 408 saying why.
  void arm_read_deadline(milliseconds after) {
    deadline_passed_ = false;
    read_deadline_.expires_after(after);
    read_deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      // A wakeup queued before the timer was set again is stale.
      if (!self || ec || self->read_deadline_.expiry() > Clock::now()) return;
      self->deadline_passed_ = true;
      beast::error_code ignored;
      self->client_.socket().cancel(ignored);
    });
  }

  void after_read_header(beast::error_code ec, std::size_t) {
    read_deadline_.cancel();
    started_ = Clock::now();
    bool got_some = request_->got_some() || client_buffer_.size() > 0;
    body_pending_ = true;
    keep_alive_ = false;
    if (deadline_passed_) {
      if (!got_some) return close();  // an idle keep-alive connection: just close
      return respond_error(408, "request header not received within " +
                                    std::to_string(limits_.header_timeout.count()) + " ms");
    }
    if (ec == bhttp::error::header_limit)
      return respond_error(431, "request header over " + std::to_string(limits_.header_bytes) + " bytes");
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || (ec && !is_http_error(ec)))
      return close();
    if (ec == bhttp::error::buffer_overflow) return respond_error(400, http::kReadBufferOverflowReason);
    if (ec) return respond_error(400, "malformed request: " + ec.message());

    auto& header = request_->get();
    method_ = std::string(header.method_string());
    target_ = std::string(header.target());
    keep_alive_ = header.keep_alive();
    body_pending_ = !request_->is_done();
    gated_ = is_gated_write(context_.config.rules, method_, target_);
    if (!gated_) return forward();
    // Under a write hold (a planned switchover) a new write waits here, before
    // a byte of it reaches the upstream or a 100 Continue invites its body.
    bool admitted = context_.hold.admit([self = shared_from_this()] {
      auto executor = self->client_.get_executor();
      asio::post(executor, [self] { self->after_hold(); });
    });
    if (!admitted) {
      hold_wait_started_ = Clock::now();
      // The upstream may close a kept-alive connection while the write waits
      // (seconds): a fresh one afterwards, so the wait never ends in a 502.
      close_upstream();
      spdlog::debug("{} {}: waits on the write hold", method_, target_);
      return;
    }
    at_upstream_ = true;
    forward();
  }

  void after_hold() {
    at_upstream_ = true;  // counted so by the hold as it released this write
    auto waited = duration_cast<milliseconds>(Clock::now() - hold_wait_started_);
    spdlog::debug("{} {}: released by the write hold after {} ms", method_, target_, waited.count());
    started_ = Clock::now();  // the body's pace counts from now
    forward();
  }

  void forward() {
    auto& header = request_->get();
    // The window opens before a byte reaches the upstream: every change the
    // upstream makes for this request happens while it is open.
    if (gated_) window_ = context_.watcher.open_window();

    // The gate answers 100-continue itself; the upstream sees no Expect.
    bool expects_continue = beast::iequals(header[bhttp::field::expect], "100-continue");
    header.erase(bhttp::field::expect);
    header.keep_alive(true);  // to the upstream: the connection is reused
    if (expects_continue && body_pending_) {
      auto go_on = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      client_.expires_after(limits_.idle_timeout);
      return bhttp::async_write(client_, *go_on, [self = shared_from_this(), go_on](beast::error_code ec, std::size_t) {
        if (ec) return self->abandon("writing 100 Continue: " + ec.message());
        self->connect_upstream();
      });
    }
    connect_upstream();
  }

  // --- to the upstream --------------------------------------------------------

  void connect_upstream() {
    if (upstream_.socket().is_open()) return send_request_header();
    beast::error_code ec;
    auto address = asio::ip::make_address(context_.config.upstream_address, ec);
    upstream_.expires_after(limits_.idle_timeout);
    upstream_.async_connect(tcp::endpoint(address, context_.config.upstream_port),
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) return self->upstream_failed("upstream unreachable: " + ec.message());
                              // As on the client side: a short last piece leaves at once, not after an ACK.
                              beast::error_code ignored;
                              self->upstream_.socket().set_option(tcp::no_delay(true), ignored);
                              self->send_request_header();
                            });
  }

  void send_request_header() {
    request_writer_.emplace(request_->get());
    upstream_.expires_after(limits_.idle_timeout);
    // No body (a GET): the whole request in one write.
    if (request_->is_done()) return relay_request_body();
    bhttp::async_write_header(upstream_, *request_writer_,
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->upstream_failed("upstream: " + ec.message());
                                self->relay_request_body();
                              });
  }

  // The request body goes through one chunk at a time: a 1 GB upload never
  // sits in memory.
  void relay_request_body() {
    if (request_->is_done()) {
      body_pending_ = false;
      auto& body = request_->get().body();
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      if (request_writer_->is_done()) return read_response_header();
      upstream_.expires_after(limits_.idle_timeout);
      return bhttp::async_write(upstream_, *request_writer_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                  if (ec == bhttp::error::need_buffer) ec = {};
                                  if (ec) return self->upstream_failed("upstream: " + ec.message());
                                  self->read_response_header();
                                });
    }
    auto& body = request_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    // The body's pace (http::BodyPace) or the idle timeout, whichever ends first.
    auto now = Clock::now();
    auto allowance = http::body_read_allowance(limits_.body_pace, bytes_in_, body_waited_,
                                               duration_cast<milliseconds>(now - started_));
    if (allowance <= milliseconds(0)) return body_timed_out(false);
    body_read_idle_bound_ = limits_.idle_timeout <= allowance;
    body_read_started_ = now;
    client_.expires_never();
    arm_read_deadline(std::min(allowance, limits_.idle_timeout));
    bhttp::async_read(client_, client_buffer_, *request_,
                      beast::bind_front_handler(&Session::after_read_request_body, shared_from_this()));
  }

  void after_read_request_body(beast::error_code ec, std::size_t) {
    read_deadline_.cancel();
    body_waited_ += duration_cast<milliseconds>(Clock::now() - body_read_started_);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (deadline_passed_) return body_timed_out(body_read_idle_bound_);
    if (ec == bhttp::error::buffer_overflow) return respond_error(400, http::kReadBufferOverflowReason);
    if (ec && is_http_error(ec) && ec != bhttp::error::partial_message)
      return respond_error(400, "malformed request body: " + ec.message());
    if (ec) return abandon("request body cut off: " + ec.message());
    auto& body = request_->get().body();
    body.size = chunk_.size() - body.size;
    body.data = chunk_.data();
    body.more = !request_->is_done();
    bytes_in_ += body.size;
    upstream_.expires_after(limits_.idle_timeout);
    bhttp::async_write(upstream_, *request_writer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::need_buffer) ec = {};
      // The upstream may have answered early (413, 503) and stopped reading:
      // its answer, if any, is what the client should see.
      if (ec) return self->read_response_header();
      if (self->request_->is_done()) {
        self->body_pending_ = false;
        if (self->request_writer_->is_done()) return self->read_response_header();
      }
      self->relay_request_body();
    });
  }

  // --- the upstream's answer --------------------------------------------------

  void read_response_header() {
    response_.emplace();
    http::set_parser_limits(*response_, 64 * 1024, std::nullopt);
    if (request_->get().method() == bhttp::verb::head) response_->skip(true);
    upstream_.expires_after(limits_.upstream_timeout);
    bhttp::async_read_header(upstream_, upstream_buffer_, *response_,
                             beast::bind_front_handler(&Session::after_response_header, shared_from_this()));
  }

  void after_response_header(beast::error_code ec, std::size_t) {
    leave_upstream();  // answered (or failed): nothing of this write is in progress upstream
    if (ec) return upstream_failed("upstream gave no answer: " + ec.message());
    auto& header = response_->get();
    status_ = header.result_int();
    upstream_reusable_ = header.keep_alive() && !body_pending_;
    bool success = status_ >= 200 && status_ < 300;
    if (gated_ && success) {
      if (auto length = response_->content_length(); length && *length > limits_.held_response_bytes)
        return held_too_large();
      return read_held_body();
    }
    if (gated_) end_window();  // a refused write: nothing to wait for
    stream_response();
  }

  // A gated write's answer is held in memory (bounded) until replicated.
  void read_held_body() {
    if (response_->is_done()) return await_replication();
    auto& body = response_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    upstream_.expires_after(limits_.idle_timeout);
    bhttp::async_read(upstream_, upstream_buffer_, *response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return self->upstream_failed("upstream answer cut off: " + ec.message());
      auto& body = self->response_->get().body();
      self->held_body_.append(self->chunk_.data(), self->chunk_.size() - body.size);
      if (self->held_body_.size() > self->limits_.held_response_bytes) return self->held_too_large();
      self->read_held_body();
    });
  }

  // Idle past the idle timeout, or slower than the body's pace: 408. The
  // request was not passed on whole: the upstream's connection is closed
  // mid-body, so it applies nothing.
  void body_timed_out(bool idle) {
    close_upstream();
    end_window();
    respond_error(408, idle ? "request body idle for " + std::to_string(limits_.idle_timeout.count()) + " ms"
                            : http::body_too_slow_reason(limits_.body_pace, bytes_in_,
                                                         duration_cast<milliseconds>(Clock::now() - started_)));
  }

  void held_too_large() {
    close_upstream();
    end_window();
    respond_error(502, "the upstream's answer to this write is over " + std::to_string(limits_.held_response_bytes) +
                           " bytes, more than the gate holds while it waits for replication; the write may have "
                           "been applied");
  }

  // Drains inotify (a read after the answer arrived sees every change the
  // upstream made before answering), then waits for the peers.
  void await_replication() {
    if (!upstream_reusable_ || response_->get().need_eof()) close_upstream();
    auto changes = end_window();
    changed_files_ = changes.paths.size();
    if (spdlog::should_log(spdlog::level::debug)) {
      std::string list;
      for (std::size_t i = 0; i < changes.paths.size() && i < 20; ++i) list += " " + changes.paths[i];
      spdlog::debug("{} {}: changed{}{}", method_, target_, list, changes.overflowed ? " (overflowed)" : "");
    }
    if (changes.still_writing)
      spdlog::debug("{} {}: {} path(s) still open for writing left to the writes that close them", method_, target_,
                    changes.still_writing);
    context_.tracker.await(std::move(changes), bytes_in_, [self = shared_from_this()](ReplicationResult result) {
      auto executor = self->client_.get_executor();
      asio::post(executor, [self, result = std::move(result)]() mutable { self->after_replication(std::move(result)); });
    });
  }

  void after_replication(ReplicationResult result) {
    auto verdict = decide_verdict(result, {.on_timeout = context_.config.on_timeout,
                                           .durability = context_.config.durability,
                                           .retry_after = context_.config.retry_after});
    context_.metrics.write_done(result, verdict.release_upstream);
    spdlog::info("{} {} {} changed={}{} peers=[{}] missing=[{}] wait={} ms: {}{}", method_, target_, status_,
                 result.files, result.whole_folder ? " (whole folder)" : "", join_names(result.decision.replicated_to),
                 join_missing(result.decision.missing), result.waited.count(), verdict.summary,
                 result.error.empty() ? "" : " (" + result.error + ")");
    if (!verdict.release_upstream) {
      return respond(verdict.status, verdict.body, verdict.headers);
    }
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>(std::move(response_->get().base()));
    out->erase(bhttp::field::transfer_encoding);
    out->erase(bhttp::field::content_length);
    out->body() = std::move(held_body_);
    held_body_.clear();
    for (auto& [name, value] : verdict.headers) out->set(name, value);
    if (status_ != 204 && status_ != 304) out->prepare_payload();
    out->keep_alive(keep_alive_);
    write_whole(std::move(out));
  }

  // Everything else streams through, one chunk at a time.
  void stream_response() {
    auto& header = response_->get();
    if (header.need_eof()) upstream_reusable_ = false;
    header.keep_alive(keep_alive_ && !body_pending_ && !header.need_eof());
    response_writer_.emplace(header);
    // When the body (or its start) came with the header, header and body leave
    // in one write: one system call less per passthrough request. Otherwise the
    // header goes now, so a slow body does not hold it back.
    if (response_->is_done() || upstream_buffer_.size() > 0) return relay_response_body();
    client_.expires_after(limits_.idle_timeout);
    bhttp::async_write_header(client_, *response_writer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->abandon("writing to the client: " + ec.message());
      self->relay_response_body();
    });
  }

  void relay_response_body() {
    if (response_->is_done()) {
      auto& body = response_->get().body();
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      if (response_writer_->is_done()) return exchange_done(response_->get().keep_alive());
      client_.expires_after(limits_.idle_timeout);
      return bhttp::async_write(client_, *response_writer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) return self->abandon("writing to the client: " + ec.message());
        self->exchange_done(self->response_->get().keep_alive());
      });
    }
    auto& body = response_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    upstream_.expires_after(limits_.idle_timeout);
    bhttp::async_read(upstream_, upstream_buffer_, *response_,
                      beast::bind_front_handler(&Session::after_read_response_body, shared_from_this()));
  }

  void after_read_response_body(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::need_buffer) ec = {};
    // The header is out: the client can only learn of the failure by the close.
    if (ec) return abandon("upstream answer cut off: " + ec.message());
    auto& body = response_->get().body();
    body.size = chunk_.size() - body.size;
    body.data = chunk_.data();
    body.more = !response_->is_done();
    bytes_out_ += body.size;
    client_.expires_after(limits_.idle_timeout);
    bhttp::async_write(client_, *response_writer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return self->abandon("writing to the client: " + ec.message());
      self->relay_response_body();
    });
  }

  // --- endings ----------------------------------------------------------------

  WindowChanges end_window() {
    if (!window_) return {};
    auto changes = context_.watcher.close_window(*window_);
    window_.reset();
    return changes;
  }

  // A gated write stops counting as at the upstream once its answer's header
  // arrived or its upstream connection is closed.
  void leave_upstream() {
    if (!at_upstream_) return;
    at_upstream_ = false;
    context_.hold.answered();
  }

  void close_upstream() {
    leave_upstream();
    beast::error_code ignored;
    upstream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    upstream_.close();
    upstream_buffer_.clear();
  }

  // Nothing was sent to the client yet: it gets a 502.
  void upstream_failed(const std::string& why) {
    close_upstream();
    end_window();
    if (gated_) spdlog::info("{} {} 502: {}", method_, target_, why);
    respond_error(502, why + (gated_ ? " (the write may have been applied)" : ""));
  }

  void respond_error(int status, const std::string& error) {
    spdlog::log(status >= 500 ? spdlog::level::warn : spdlog::level::info, "{} {} {}: {}", method_, target_, status,
                error);
    respond(status, error_body(error), {});
  }

  void respond(int status, const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), 11);
    out->set(bhttp::field::server, "ha-upload-gate");
    out->set(bhttp::field::content_type, "application/json");
    out->set(bhttp::field::cache_control, "no-store");
    for (auto& [name, value] : headers) out->set(name, value);
    out->body() = body;
    out->prepare_payload();
    out->keep_alive(keep_alive_ && !body_pending_);
    status_ = static_cast<unsigned>(status);
    write_whole(std::move(out));
  }

  void write_whole(std::shared_ptr<bhttp::response<bhttp::string_body>> out) {
    client_.expires_after(limits_.idle_timeout);
    bhttp::async_write(client_, *out, [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
      if (ec) return self->abandon("writing to the client: " + ec.message());
      self->exchange_done(out->keep_alive());
    });
  }

  void exchange_done(bool keep_alive) {
    if (!upstream_reusable_) close_upstream();
    upstream_reusable_ = false;
    if (!gated_) spdlog::debug("{} {} {} in={} out={}", method_, target_, status_, bytes_in_, bytes_out_);
    bytes_in_ = bytes_out_ = 0;
    if (keep_alive && !body_pending_) return do_read_header();
    if (body_pending_) return linger();
    close();
  }

  void abandon(const std::string& why) {
    spdlog::info("{} {}: connection closed ({})", method_, target_, why);
    close_upstream();
    end_window();
    close();
  }

  // Answered before the client finished sending: stop sending, then read and
  // drop what still comes for a moment, so the client sees the answer instead
  // of a reset.
  void linger() {
    close_upstream();
    beast::error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.expires_after(kLinger);
    do_drain();
  }

  void do_drain() {
    client_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->do_drain();
    });
  }

  void close() {
    read_deadline_.cancel();
    close_upstream();
    beast::error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    client_.close();
  }

  std::shared_ptr<Listener::State> listener_;
  http::ConnectionAdmission::Ticket ticket_;
  GateContext& context_;
  const Limits& limits_;
  beast::tcp_stream client_;
  beast::tcp_stream upstream_;
  asio::steady_timer read_deadline_;
  beast::flat_buffer client_buffer_{http::kReadBufferLimit};
  beast::flat_buffer upstream_buffer_;
  std::vector<char> chunk_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> request_;
  std::optional<bhttp::request_serializer<bhttp::buffer_body>> request_writer_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> response_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> response_writer_;
  std::string held_body_;
  std::optional<ChangeLog::WindowId> window_;

  std::string method_ = "-", target_ = "-";
  Clock::time_point started_ = Clock::now();
  bool deadline_passed_ = false;
  bool body_read_idle_bound_ = false;  // the read's deadline is the idle timeout, not the pace
  Clock::time_point body_read_started_;
  milliseconds body_waited_{0};  // time spent waiting for the client's body so far
  bool gated_ = false;
  bool at_upstream_ = false;  // a gated write counted by the write hold as at the upstream
  Clock::time_point hold_wait_started_;
  bool keep_alive_ = false;
  bool body_pending_ = false;
  bool upstream_reusable_ = false;
  unsigned status_ = 0;
  std::size_t changed_files_ = 0;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
};

void accept_loop(std::shared_ptr<Listener::State> state) {
  auto& loop = *state->loops[state->next_loop++ % state->loops.size()];
  state->acceptor.async_accept(loop, [state](beast::error_code ec, tcp::socket socket) {
    if (state->closed) return;
    if (!ec) {
      if (auto ticket = http::admit_or_refuse(state->admission, socket, "ha-upload-gate", state->refusals)) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        // Started on its own loop's thread, which runs all of its handlers.
        auto executor = socket.get_executor();
        auto session = std::make_shared<Session>(std::move(socket), state, std::move(*ticket));
        asio::post(executor, [session] { session->start(); });
      }
    } else if (ec == asio::error::no_descriptors) {
      spdlog::warn("accept: {}", ec.message());
    }
    accept_loop(state);
  });
}

}  // namespace

Listener::Listener(const std::vector<asio::io_context*>& loops, GateContext& context)
    : state_(std::make_shared<State>(loops, context)) {}

std::string Listener::listen(const std::string& address, unsigned short port) {
  return http::listen_and_accept(state_, address, port, &accept_loop);
}

void Listener::close() { http::stop_accepting(state_); }

}  // namespace hasup::upload_gate
