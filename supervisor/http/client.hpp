#pragma once
// Outbound HTTP/1.1 over Boost.Beast, one policy for every caller (Consul now,
// syncthing and others later): a deadline for the whole exchange (resolve,
// connect, write, read) and a body limit. A cut-off Consul hangs normal reads
// for 15 s and more, so no call may wait without a bound.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hasup::http {

enum class Method { get, put, post, patch, del };

// What an HTTPS client trusts: one CA, loaded once and shared by every
// exchange. Defined in client.cpp (OpenSSL stays out of this header).
class TlsTrust;

// Loads `ca_file` (PEM). Null, with `error` set, when it cannot be read or
// holds no certificate: the caller refuses to start rather than fall back to
// plain HTTP.
std::shared_ptr<const TlsTrust> load_tls_trust(const std::string& ca_file, std::string& error);

struct Endpoint {
  std::string host;  // IP literal or host name
  unsigned short port = 0;
  // Null: plain HTTP. Else HTTPS: the server's certificate must chain to this
  // CA and name `host` (an IP literal must be one of its IP addresses); a
  // server that fails either gets no request, and the outcome says why.
  std::shared_ptr<const TlsTrust> tls = nullptr;
};

struct Request {
  Method method = Method::get;
  std::string target;  // path and query, already escaped
  std::string body;
  std::string content_type;  // empty: none sent
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& lower_name) const;
};

struct PooledConnection;  // client.cpp

// Connections kept open between exchanges to one endpoint (HTTP/1.1
// keep-alive), for a caller that calls often: the supervisor asks its Consul
// agent about 13 times a second, and each new HTTPS connection costs a TLS
// handshake (about 1.1 ms of CPU and of wall time more than plain HTTP:
// bench/consul_https_cost.sh). A connection is given back only after a whole
// answer the server did not end with "close"; one idle longer than
// max_idle_age is never tried (the server may have closed it). Used from its
// io_context's thread only.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::size_t max_idle = 4,
                          std::chrono::milliseconds max_idle_age = std::chrono::seconds(20));
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  std::size_t idle() const { return idle_.size(); }
  std::uint64_t opened() const { return opened_; }  // connections opened for it so far

  std::unique_ptr<PooledConnection> take();  // null: none fit to use
  void give(std::unique_ptr<PooledConnection> connection);
  void note_opened() { ++opened_; }

 private:
  std::size_t max_idle_;
  std::chrono::milliseconds max_idle_age_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  std::uint64_t opened_ = 0;
};

struct Policy {
  std::chrono::milliseconds timeout{2000};
  std::size_t body_limit = 16 * 1024 * 1024;
  // Null: a new connection for each exchange, closed after it.
  std::shared_ptr<ConnectionPool> pool = nullptr;
};

// Either a response (any status) or why there is none.
struct Outcome {
  bool ok = false;
  std::string error;  // when !ok: "timeout after 2000 ms", "connect: Connection refused", ...
  bool timed_out = false;
  Response response;
};

using Callback = std::function<void(Outcome)>;

// Starts one exchange on `io`; `done` is called exactly once, from `io`.
void async_request(boost::asio::io_context& io, const Endpoint& to, Request request,
                   const Policy& policy, Callback done);

// For the CLI and tests: runs its own io_context until the exchange ends.
Outcome request_sync(const Endpoint& to, Request request, const Policy& policy);

// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
std::string url_encode(const std::string& text, bool keep_slash = false);

}  // namespace hasup::http
