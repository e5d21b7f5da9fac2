#pragma once
// Turning a connection away without reading its request: a 503 with
// Retry-After, then a moment of reading and dropping what the client still
// sends. Closing at once, with its request unread, makes the kernel send a
// reset, and the client may never see the answer (the REST stand-in did that:
// the gate in front of it reported 502 "may have been applied"). Header-only:
// the REST stand-in links no supervisor library.
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "supervisor/http/admission.hpp"

namespace hasup::http {

// The whole answer: a 503, JSON naming the server and the reason, Retry-After.
inline std::string busy_response(const std::string& server, const std::string& reason, int retry_after_s) {
  std::string body = "{\"error\": \"" + server + ": " + reason + "\"}\n";
  return "HTTP/1.1 503 Service Unavailable\r\nServer: " + server +
         "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nRetry-After: " +
         std::to_string(retry_after_s) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Writes busy_response, shuts the sending side, drains for at most `linger`, closes.
inline void refuse_connection(boost::asio::ip::tcp::socket socket, const std::string& server,
                              const std::string& reason, int retry_after_s,
                              std::chrono::milliseconds linger = std::chrono::milliseconds(1000)) {
  namespace asio = boost::asio;
  struct Refused {
    explicit Refused(asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    std::string answer;
    std::array<char, 4096> sink;
    void close() {
      boost::system::error_code ignored;
      timer.cancel();
      socket.close(ignored);
    }
    static void drain(std::shared_ptr<Refused> self) {
      self->socket.async_read_some(asio::buffer(self->sink), [self](boost::system::error_code ec, std::size_t) {
        if (ec) return self->close();
        drain(self);
      });
    }
  };
  auto refused = std::make_shared<Refused>(std::move(socket));
  refused->answer = busy_response(server, reason, retry_after_s);
  asio::async_write(refused->socket, asio::buffer(refused->answer),
                    [refused, linger](boost::system::error_code ec, std::size_t) {
                      if (ec) return refused->close();
                      boost::system::error_code ignored;
                      refused->socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                      refused->timer.expires_after(linger);
                      refused->timer.async_wait([refused](boost::system::error_code ec) {
                        if (!ec) refused->close();
                      });
                      Refused::drain(refused);
                    });
}

// Refusals logged at most once a second, with the count of those that were
// not: a flood of connections must not flood the journal. Used on the
// acceptor's executor only.
class RefusalLog {
 public:
  void note(const std::string& reason) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_logged_ < std::chrono::seconds(1)) {
      ++not_logged_;
      return;
    }
    spdlog::warn("refusing a connection: {}{}", reason,
                 not_logged_ ? " (and " + std::to_string(not_logged_) + " more since the last such line)" : "");
    last_logged_ = now;
    not_logged_ = 0;
  }

 private:
  std::chrono::steady_clock::time_point last_logged_{};
  std::size_t not_logged_ = 0;
};

// A new connection's ticket, or nullopt once it was refused (503, logged).
inline std::optional<ConnectionAdmission::Ticket> admit_or_refuse(ConnectionAdmission& admission,
                                                                  boost::asio::ip::tcp::socket& socket,
                                                                  const std::string& server, RefusalLog& log) {
  boost::system::error_code no_peer;
  auto peer = socket.remote_endpoint(no_peer);
  auto admitted = admission.admit(no_peer ? boost::asio::ip::address() : peer.address());
  if (auto* ticket = std::get_if<ConnectionAdmission::Ticket>(&admitted)) return std::move(*ticket);
  const auto& reason = std::get<std::string>(admitted);
  log.note(reason);
  refuse_connection(std::move(socket), server, reason, 1);
  return std::nullopt;
}

}  // namespace hasup::http
