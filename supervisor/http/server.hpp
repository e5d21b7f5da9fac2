#pragma once
// A small HTTP/1.1 server over Beast for local APIs: keep-alive, bounded
// header and body sizes, one deadline per request, and asynchronous
// handlers (a handler may answer later, e.g. after a Consul write).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace hasup::http {

struct ServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string body;
  std::string peer;
  std::string authorization;  // the Authorization header, "" when absent
};

struct ServerResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
};

using Respond = std::function<void(ServerResponse)>;
using Handler = std::function<void(const ServerRequest&, Respond)>;

struct ServerLimits {
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  // One deadline for reading a whole request (header and body) and for the
  // wait between two requests: Beast's stream timeout is set once per read.
  std::chrono::seconds idle_timeout{10};
  std::size_t max_connections = 64;
};

class Server {
 public:
  Server(boost::asio::io_context& io, Handler handler, ServerLimits limits = {});
  ~Server();
  // Binds and listens; returns an error text, empty on success. Port 0 picks a free port.
  std::string listen(const std::string& address, unsigned short port);
  unsigned short port() const;
  void close();

  struct State;  // shared with live connections, so they can outlive the Server

 private:
  void accept();
  std::shared_ptr<State> state_;
};

void accept_loop(std::shared_ptr<Server::State> state);

// Splits "a=1&b=two" into a map, percent-decoding values.
std::map<std::string, std::string> parse_query(const std::string& query);

}  // namespace hasup::http
