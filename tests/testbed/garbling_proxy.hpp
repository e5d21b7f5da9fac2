#pragma once
// TEST DOUBLE (named as such): a proxy in front of a real Consul agent that
// forwards every request except those a rule picks, which get a canned answer
// (a 500, malformed JSON, ...). Real Consul cannot be made to answer garbage,
// so this is the one place the tests put something between the supervisor and
// Consul. It records every request, so a test can prove what was never written.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "supervisor/http/server.hpp"

namespace hasup::testbed {

struct SeenRequest {
  std::string method;
  std::string path;
  std::string query;
};

class GarblingConsulProxy {
 public:
  // rule: return a response to answer with, or nullopt to forward.
  using Rule = std::function<std::optional<http::ServerResponse>(const http::ServerRequest&)>;

  GarblingConsulProxy(unsigned short real_agent_port, Rule rule);
  ~GarblingConsulProxy();

  unsigned short port() const { return port_; }
  // Holds the real agent's answer to the requests `delay` picks (non-zero)
  // that long before passing it on: a fact that is old when it arrives.
  using Delay = std::function<std::chrono::milliseconds(const http::ServerRequest&)>;
  void delay_answers(Delay delay);
  std::vector<SeenRequest> seen();

 private:
  void handle(const http::ServerRequest& request, http::Respond respond);
  boost::asio::io_context io_;
  unsigned short real_port_;
  Rule rule_;
  Delay delay_;  // guarded by mutex_
  std::unique_ptr<http::Server> server_;
  unsigned short port_ = 0;
  std::mutex mutex_;
  std::vector<SeenRequest> seen_;
  std::thread thread_;
};

}  // namespace hasup::testbed
