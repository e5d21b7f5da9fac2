#include "components/patroni/rest_call.hpp"

#include "components/patroni/model.hpp"
#include "components/patroni/render.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/util/base64.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::patroni {

void call_patroni(boost::asio::io_context& io, const std::string& secrets_file, const std::string& address,
                  int api_port, http::Method method, const std::string& target, const std::string& json_body,
                  std::chrono::milliseconds timeout, std::function<void(RestCallOutcome)> done) {
  auto text = read_small_file(secrets_file);
  if (!text) return done({false, "cannot read the secrets file " + secrets_file});
  auto secrets = parse_secrets(*text);
  if (!secrets.error.empty()) return done({false, secrets_file + ": " + secrets.error});
  http::Request request;
  request.method = method;
  request.target = target;
  request.body = json_body;
  request.content_type = "application/json";
  request.headers.emplace_back("Authorization",
                               "Basic " + base64_encode(std::string(kRestApiUser) + ":" + secrets.secrets.rest_api));
  http::Policy policy;
  policy.timeout = timeout;
  policy.body_limit = 64 * 1024;
  http::async_request(io, http::Endpoint{address, static_cast<unsigned short>(api_port)}, std::move(request), policy,
                      [done](http::Outcome o) {
                        if (!o.ok) return done({false, "no answer from Patroni's API: " + o.error});
                        done({o.response.status == 200, "HTTP " + std::to_string(o.response.status) + " " +
                                                            quoted_printable(o.response.body.substr(0, 300), 300)});
                      });
}

void wake_patroni(boost::asio::io_context& io, const std::string& secrets_file, const std::string& address,
                  int api_port, std::function<void(RestCallOutcome)> done) {
  call_patroni(io, secrets_file, address, api_port, http::Method::patch, "/config", R"({"postgresql":{}})",
               std::chrono::seconds(2), std::move(done));
}

}  // namespace hasup::patroni
