#pragma once
// Opening a listening TCP socket the same way for every server of the project
// (status API, REST stand-in, upload gate): an IP literal only, SO_REUSEADDR
// (a restarted daemon must not wait for TIME_WAIT), and one error text naming
// the address. Header-only: the stand-in links no supervisor library.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

namespace hasup::http {

// Returns an error text, empty when `acceptor` listens on address:port.
inline std::string open_and_listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                                   unsigned short port) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return "bad listen address '" + address + "': " + ec.message();
  asio::ip::tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message();
  return {};
}

// For a listener whose shared State has `acceptor` and `closed`, both used only
// on the acceptor's executor: listen, then run accept_loop(state) there.
template <class State>
std::string listen_and_accept(const std::shared_ptr<State>& state, const std::string& address, unsigned short port,
                              void (*accept_loop)(std::shared_ptr<State>)) {
  if (auto error = open_and_listen(state->acceptor, address, port); !error.empty()) return error;
  boost::asio::dispatch(state->acceptor.get_executor(), [state, accept_loop] { accept_loop(state); });
  return {};
}

// Stops accepting: the pending accept's handler sees `closed` and ends the loop.
template <class State>
void stop_accepting(const std::shared_ptr<State>& state) {
  boost::asio::dispatch(state->acceptor.get_executor(), [state] {
    state->closed = true;
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
  });
}

}  // namespace hasup::http
