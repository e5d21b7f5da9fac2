#pragma once
// A call to this node's Patroni REST API, the one way the supervisor asks
// Patroni for a manual failover, a switchover or its pause: its password read when
// needed (the secrets file, as install.sh left it) and never logged; the
// request goes to this node's address, which Patroni's allowlist admits.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "supervisor/http/client.hpp"

namespace hasup::patroni {

struct RestCallOutcome {
  bool ok = false;    // Patroni answered 200
  std::string words;  // "HTTP 503 ..." (printable, cut), or why there was no answer
};

// `done` runs on `io`'s thread; after the call's owner stopped, it must check that itself.
void call_patroni(boost::asio::io_context& io, const std::string& secrets_file, const std::string& address,
                  int api_port, http::Method method, const std::string& target, const std::string& json_body,
                  std::chrono::milliseconds timeout, std::function<void(RestCallOutcome)> done);

// Patroni's API wakes its HA loop after a PATCH /config (api.py: ha.wakeup()),
// and a patch that changes nothing writes nothing: an empty "postgresql"
// object (the dynamic config always has one; were it absent, an empty one
// would be added, which changes no setting). A failed wake only leaves
// Patroni to its next loop_wait.
void wake_patroni(boost::asio::io_context& io, const std::string& secrets_file, const std::string& address,
                  int api_port, std::function<void(RestCallOutcome)> done);

}  // namespace hasup::patroni
