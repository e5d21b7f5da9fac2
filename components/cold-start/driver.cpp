#include "components/cold-start/driver.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "components/cold-start/decide.hpp"
#include "components/patroni/model.hpp"
#include "components/patroni/render.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/util/base64.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::cold_start {

using namespace std::chrono_literals;

void ColdStartDriver::observe(loop::Snapshot& s) const {
  s.cold_start.enabled = ctx_.config.db.enabled() && ctx_.config.db.backend == "patroni";
  if (last_attempt_)
    s.cold_start.last_attempt = loop::ColdStartView::Attempt{
        last_attempt_->node, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_attempt_->at),
        last_attempt_->accepted, last_attempt_->answer};
  s.cold_start.drop_error = drop_error_;
}

bool ColdStartDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::AcceptColdStart>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::DropColdStartAccept>(&action)) return run(*a), true;
  return false;
}

void ColdStartDriver::answered(const std::string& node, bool accepted, std::string answer) {
  last_attempt_ = Attempt{node, Clock::now(), accepted, std::move(answer)};
  if (accepted)
    spdlog::warn("cold start: Patroni failed over to {} as the operator accepted: {}", node, last_attempt_->answer);
  else
    spdlog::error("cold start: Patroni did not fail over to {}: {} (asked again in {} s)", node,
                  last_attempt_->answer, loop::kColdStartRetry.count() / 1000);
  ctx_.finish_job(loop::Job::accept_cold_start);
}

// Patroni's REST password is read when needed (the secrets file, as
// install.sh left it) and never logged; the request goes to this node's
// Patroni, which allows its own address and loopback only.
void ColdStartDriver::run(const loop::AcceptColdStart& a) {
  const auto& c = ctx_.config.db;
  auto text = read_small_file(c.secrets_file);
  if (!text) return answered(a.node, false, "cannot read the secrets file " + c.secrets_file);
  auto secrets = patroni::parse_secrets(*text);
  if (!secrets.error.empty()) return answered(a.node, false, c.secrets_file + ": " + secrets.error);
  http::Request request;
  request.method = http::Method::post;
  request.target = "/failover";
  request.body = nlohmann::json{{"candidate", a.node}}.dump();
  request.content_type = "application/json";
  request.headers.emplace_back("Authorization",
                               "Basic " + base64_encode(std::string(patroni::kRestApiUser) + ":" + secrets.secrets.rest_api));
  http::Policy policy;
  policy.timeout = 30s;  // Patroni answers once the failover is done: up to 20 s
  policy.body_limit = 64 * 1024;
  spdlog::warn("cold start: asking Patroni to fail over to {}, as the operator accepted", a.node);
  http::async_request(ctx_.io, http::Endpoint{ctx_.config.node.address, static_cast<unsigned short>(c.api_port)},
                      std::move(request), policy, [this, node = a.node](http::Outcome o) {
                        if (stopped_) return;
                        if (!o.ok) return answered(node, false, "no answer from Patroni's API: " + o.error);
                        std::string words = o.response.body.substr(0, 300);
                        answered(node, o.response.status == 200,
                                 "HTTP " + std::to_string(o.response.status) + " " + quoted_printable(words, 300));
                      });
}

void ColdStartDriver::run(const loop::DropColdStartAccept& a) {
  ctx_.consul.kv_delete(ctx_.keys.cold_start(), a.index, false, [this, said = a.said](consul::Result<bool> r) {
    if (stopped_) return;
    if (!r) {
      drop_error_ = "cannot drop the acceptance: " + r.error().to_string();
      spdlog::warn("cold start: {}", drop_error_);
    } else {
      drop_error_.clear();
      if (r.value()) spdlog::info("{}", said);
    }
    ctx_.finish_job(loop::Job::drop_cold_start_accept);
  });
}

}  // namespace hasup::cold_start
