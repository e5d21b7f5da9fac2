#include "components/cold-start/driver.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "components/cold-start/decide.hpp"
#include "components/patroni/rest_call.hpp"

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

// Patroni's own manual failover, the way patronictl asks it.
void ColdStartDriver::run(const loop::AcceptColdStart& a) {
  const auto& c = ctx_.config.db;
  spdlog::warn("cold start: asking Patroni to fail over to {}, as the operator accepted", a.node);
  // Patroni answers once the failover is done: up to 20 s.
  patroni::call_patroni(ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port, http::Method::post, "/failover",
                           nlohmann::json{{"candidate", a.node}}.dump(), 30s,
                           [this, node = a.node](patroni::RestCallOutcome o) {
                             if (stopped_) return;
                             answered(node, o.ok, o.words);
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
