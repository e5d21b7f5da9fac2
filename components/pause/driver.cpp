#include "components/pause/driver.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "components/patroni/rest_call.hpp"

namespace hasup::pause {

using namespace std::chrono_literals;

void PauseDriver::observe(loop::Snapshot& s) const {
  s.pause.patroni = ctx_.config.db.enabled() && ctx_.config.db.backend == "patroni";
  if (answer_)
    s.pause.patroni_answer = loop::PauseView::PatroniAnswer{
        answer_->paused, answer_->ok, answer_->words,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - answer_->at)};
}

bool PauseDriver::act(const loop::Action& action) {
  auto a = std::get_if<loop::SetPatroniPause>(&action);
  if (!a) return false;
  const auto& c = ctx_.config.db;
  // patronictl resume writes null: the key leaves Patroni's config.
  nlohmann::json body{{"pause", a->paused ? nlohmann::json(true) : nlohmann::json(nullptr)}};
  patroni::call_patroni(ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port, http::Method::patch, "/config",
                        body.dump(), 10s, [this, paused = a->paused](patroni::RestCallOutcome o) {
                          if (stopped_) return;
                          answer_ = Answer{paused, o.ok, o.words, Clock::now()};
                          if (o.ok)
                            spdlog::warn("pause: Patroni {}", paused ? "paused (no automatic failover until resumed)"
                                                                     : "resumed (automatic failover again)");
                          else
                            spdlog::error("pause: Patroni did not {}: {}", paused ? "pause" : "resume", o.words);
                          ctx_.finish_job(loop::Job::set_patroni_pause);
                        });
  return true;
}

}  // namespace hasup::pause
