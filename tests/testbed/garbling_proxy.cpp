#include "tests/testbed/garbling_proxy.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <stdexcept>

#include "supervisor/http/client.hpp"

namespace hasup::testbed {

namespace {

http::Method method_of(const std::string& m) {
  if (m == "PUT") return http::Method::put;
  if (m == "POST") return http::Method::post;
  if (m == "DELETE") return http::Method::del;
  return http::Method::get;
}

std::string query_text(const std::map<std::string, std::string>& query) {
  std::string out;
  for (const auto& [k, v] : query)
    out += (out.empty() ? "?" : "&") + http::url_encode(k) + (v.empty() ? "" : "=" + http::url_encode(v));
  return out;
}

}  // namespace

GarblingConsulProxy::GarblingConsulProxy(unsigned short real_agent_port, Rule rule)
    : real_port_(real_agent_port), rule_(std::move(rule)) {
  http::ServerLimits limits;
  limits.body_limit = 1024 * 1024;
  server_ = std::make_unique<http::Server>(
      io_, [this](const http::ServerRequest& r, http::Respond respond) { handle(r, std::move(respond)); }, limits);
  if (auto error = server_->listen("127.0.0.1", 0); !error.empty()) throw std::runtime_error(error);
  port_ = server_->port();
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

GarblingConsulProxy::~GarblingConsulProxy() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void GarblingConsulProxy::delay_answers(Delay delay) {
  std::lock_guard lock(mutex_);
  delay_ = std::move(delay);
}

std::vector<SeenRequest> GarblingConsulProxy::seen() {
  std::lock_guard lock(mutex_);
  return seen_;
}

void GarblingConsulProxy::handle(const http::ServerRequest& request, http::Respond respond) {
  std::chrono::milliseconds hold{0};
  {
    std::lock_guard lock(mutex_);
    seen_.push_back({request.method, request.path, query_text(request.query)});
    if (delay_) hold = delay_(request);
  }
  if (auto canned = rule_(request)) return respond(*canned);
  // Forward asynchronously so a blocking query does not hold up the others.
  http::Request forward;
  forward.method = method_of(request.method);
  forward.target = request.path + query_text(request.query);
  forward.body = request.body;
  if (!request.body.empty()) forward.content_type = "application/json";
  http::Policy policy;
  policy.timeout = std::chrono::seconds(400);
  http::async_request(io_, {"127.0.0.1", real_port_}, forward, policy, [this, respond, hold](http::Outcome o) {
    http::ServerResponse r;
    if (!o.ok) {
      r.status = 502;
      r.body = o.error;
    } else {
      r.status = o.response.status;
      r.body = o.response.body;
      if (auto index = o.response.header("x-consul-index"); !index.empty()) r.headers["X-Consul-Index"] = index;
    }
    if (hold.count() == 0) return respond(r);
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, hold);
    timer->async_wait([timer, respond, r](boost::system::error_code) { respond(r); });
  });
}

}  // namespace hasup::testbed
