#include "components/switchover/driver.hpp"

#include "components/patroni/rest_call.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "supervisor/util/files.hpp"
#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"

namespace hasup::switchover {

using namespace std::chrono_literals;

namespace {

// While a hold stands, the gate's acknowledgement is read this often: the
// leader waits for it before it switches the database.
constexpr auto kAckPoll = 50ms;

}  // namespace

void SwitchoverDriver::start() {
  const auto& c = ctx_.config.switchover;
  kept_.enabled = ctx_.config.db.enabled() && ctx_.config.db.backend == "patroni";
  kept_.hold_writes = c.hold_writes;
  ack_timer_ = &timers_.make();
  if (!c.hold_writes) return;
  // A hold left by an earlier run (a crash mid-switchover) is the loop's to
  // keep or end: it is written again from the record, or removed.
  if (auto text = read_small_file(c.write_hold_file)) {
    std::string error;
    auto o = parse_object(*text, error);
    std::string id;
    if (o) get_string(*o, "id", id, error);
    kept_.hold_written = id.empty() ? std::string("(unreadable)") : id;
  }
  read_ack();
  poll_ack();
}

void SwitchoverDriver::stop() {
  stopped_ = true;
  timers_.cancel_all();
}

void SwitchoverDriver::observe(loop::Snapshot& s) const {
  s.switchover = kept_;
  if (s.switchover.hold_error.empty()) s.switchover.hold_error = ack_error_;
}

bool SwitchoverDriver::act(const loop::Action& action) {
  if (auto a = std::get_if<loop::WriteSwitchover>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::AskPatroniSwitchover>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::WakePatroni>(&action)) return run(*a), true;
  if (auto a = std::get_if<loop::SetWriteHold>(&action)) return run(*a), true;
  return false;
}

// The gate's file: {"id": "...", "since_unix_ms": N}. Anything else is no
// acknowledgement (the leader then waits, then fails the switchover's hold).
// The gate removes it as a hold ends: a file gone between two calls is no error.
void SwitchoverDriver::read_ack() {
  const auto& path = ctx_.config.switchover.write_held_file;
  std::string id;
  std::string error;
  if (auto text = read_small_file(path)) {
    auto o = parse_object(*text, error);
    if (o && !get_string(*o, "id", id, error)) id.clear();
  } else if (std::error_code ec; std::filesystem::exists(path, ec)) {
    error = "cannot read it";
  }
  if (!error.empty()) error = "the upload gate's " + path + ": " + error;
  if (error != ack_error_ && !error.empty()) spdlog::warn("switchover: {}", error);
  ack_error_ = error;
  if (id != kept_.held_ack) {
    kept_.held_ack = id;
    ctx_.wake();
  }
}

// Only while a hold stands or an acknowledgement is still shown: no timer at all otherwise.
void SwitchoverDriver::poll_ack() {
  if (stopped_ || polling_) return;
  if (kept_.hold_written.empty() && kept_.held_ack.empty()) return;
  polling_ = true;
  ack_timer_->expires_after(kAckPoll);
  ack_timer_->async_wait([this](const boost::system::error_code& ec) {
    polling_ = false;
    if (ec) return;
    read_ack();
    poll_ack();
  });
}

void SwitchoverDriver::run(const loop::SetWriteHold& a) {
  const auto& c = ctx_.config.switchover;
  std::string error;
  if (a.id.empty()) {
    if (std::remove(c.write_hold_file.c_str()) != 0 && errno != ENOENT)
      error = "cannot remove " + c.write_hold_file + ": " + std::strerror(errno);
  } else {
    error = write_file_atomically(
        c.write_hold_file, json_text(nlohmann::json{{"id", a.id}, {"until_unix_ms", a.until_ms}}) + "\n", 0644);
  }
  if (!error.empty()) {
    kept_.hold_error = error;
    spdlog::error("switchover: {}", error);
  } else {
    kept_.hold_error.clear();
    kept_.hold_written = a.id;
    spdlog::info("switchover: {}", a.id.empty() ? "the upload gate lets writes through (hold file removed)"
                                                 : "the upload gate holds new writes (" + a.id + ")");
    read_ack();
    poll_ack();
  }
  ctx_.finish_job(loop::Job::set_write_hold);
}

void SwitchoverDriver::run(const loop::WriteSwitchover& a) {
  consul::PutOptions put;
  put.cas = a.index;
  ctx_.consul.kv_put(ctx_.keys.switchover(), a.text, put, [this, said = a.said](consul::Result<bool> r) {
    if (stopped_) return;
    if (!r) {
      kept_.write_error = "cannot write the switchover's record: " + r.error().to_string();
      spdlog::warn("switchover: {}", kept_.write_error);
    } else {
      kept_.write_error.clear();
      if (r.value()) spdlog::info("{}", said);
    }
    ctx_.finish_job(loop::Job::write_switchover);
  });
}

// Patroni's own switchover, the way patronictl asks it.
void SwitchoverDriver::run(const loop::AskPatroniSwitchover& a) {
  const auto& c = ctx_.config.db;
  spdlog::info("switchover {}: asking Patroni to switch {} over to {}", a.id, a.leader, a.candidate);
  // Patroni answers once the switchover is done: up to ~20 s.
  patroni::call_patroni(
      ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port, http::Method::post, "/switchover",
      nlohmann::json{{"leader", a.leader}, {"candidate", a.candidate}}.dump(), 35s,
      [this, id = a.id](patroni::RestCallOutcome o) {
        if (stopped_) return;
        kept_.patroni_answer = loop::SwitchoverView::PatroniAnswer{id, o.ok, o.words};
        if (o.ok)
          spdlog::info("switchover {}: Patroni answered: {}", id, o.words);
        else
          spdlog::error("switchover {}: Patroni did not switch over: {}", id, o.words);
        ctx_.finish_job(loop::Job::ask_patroni_switchover);
      });
}

// Once per step (rest_call.hpp: wake_patroni).
void SwitchoverDriver::run(const loop::WakePatroni& a) {
  const auto& c = ctx_.config.db;
  kept_.patroni_woken = a.id + " " + a.step;
  patroni::wake_patroni(ctx_.io, c.secrets_file, ctx_.config.node.address, c.api_port,
                        [this, a](patroni::RestCallOutcome o) {
                          if (stopped_) return;
                          if (o.ok)
                            spdlog::info("switchover {}: woke this node's Patroni to {}", a.id, a.step);
                          else
                            spdlog::warn("switchover {}: could not wake this node's Patroni to {} (it acts at its next "
                                         "loop): {}", a.id, a.step, o.words);
                          ctx_.finish_job(loop::Job::wake_patroni);
                        });
}

}  // namespace hasup::switchover
