#include "components/upload-gate/write_hold.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "components/upload-gate/metrics.hpp"

namespace hasup::upload_gate {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

HoldParse parse_hold_file(std::string_view text) {
  HoldParse out;
  if (text.size() > kMaxHoldFileBytes) {
    out.error = "over " + std::to_string(kMaxHoldFileBytes) + " bytes";
    return out;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) {
    out.error = text.empty() ? "empty" : "not JSON";
    return out;
  }
  if (!json.is_object()) {
    out.error = "not a JSON object {\"id\": \"...\", \"until_unix_ms\": N}";
    return out;
  }
  auto id = json.find("id");
  if (id == json.end()) {
    out.error = "no \"id\"";
    return out;
  }
  if (!id->is_string()) {
    out.error = "\"id\" is not a string";
    return out;
  }
  HoldFile file;
  file.id = id->get<std::string>();
  if (file.id.empty() || file.id.size() > kMaxHoldIdChars) {
    out.error = "\"id\" has " + std::to_string(file.id.size()) + " characters: must have 1.." +
                std::to_string(kMaxHoldIdChars);
    return out;
  }
  if (!std::all_of(file.id.begin(), file.id.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    out.error = "\"id\" must be printable ASCII";
    return out;
  }
  auto until = json.find("until_unix_ms");
  if (until == json.end()) {
    out.error = "no \"until_unix_ms\"";
    return out;
  }
  // A float, a string or a number beyond int64 is not a time the supervisor wrote.
  if (until->is_number_unsigned() && until->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
    file.until_unix_ms = static_cast<std::int64_t>(until->get<std::uint64_t>());
  } else if (until->is_number_integer() && !until->is_number_unsigned()) {
    file.until_unix_ms = until->get<std::int64_t>();
  } else {
    out.error = "\"until_unix_ms\" is not an integer (milliseconds since 1970)";
    return out;
  }
  out.hold = std::move(file);
  return out;
}

bool hold_active(std::int64_t until_unix_ms, milliseconds seen_for, milliseconds max, std::int64_t now_unix_ms) {
  return now_unix_ms < until_unix_ms && seen_for < max;
}

std::string hold_ack_text(const std::string& id, std::int64_t since_unix_ms) {
  return nlohmann::json{{"id", id}, {"since_unix_ms", since_unix_ms}}.dump() + "\n";
}

HoldInstant HoldInstant::now() {
  HoldInstant at;
  at.unix_ms = duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  at.steady = Clock::now();
  return at;
}

WriteHold::WriteHold(const HoldConfig& config, GateMetrics* metrics) : config_(config), metrics_(metrics) {}

bool WriteHold::admit(std::function<void()> released) {
  std::lock_guard lock(mutex_);
  if (!hold_) {
    ++at_upstream_;
    return true;
  }
  waiting_.push_back(Waiting{std::move(released), Clock::now()});
  if (metrics_) metrics_->hold_waiting(waiting_.size());
  return false;
}

void WriteHold::answered() {
  std::function<void()> notify;
  {
    std::lock_guard lock(mutex_);
    if (at_upstream_ == 0) return;
    if (--at_upstream_ > 0) return;
    drained_since_unix_ms_ = HoldInstant::now().unix_ms;
    if (hold_) notify = on_drained_;
  }
  if (notify) notify();
}

std::vector<std::function<void()>> WriteHold::update(const HoldRead& read, HoldInstant now) {
  std::lock_guard lock(mutex_);
  std::optional<HoldFile> wanted;
  std::string why_not;
  switch (read.state) {
    case HoldRead::State::absent: why_not = "the hold file is gone"; break;
    case HoldRead::State::invalid: why_not = "the hold file does not parse (" + read.error + ")"; break;
    case HoldRead::State::valid: {
      if (read.file.id != seen_id_) {
        seen_id_ = read.file.id;
        seen_at_ = now.steady;
      }
      auto seen_for = duration_cast<milliseconds>(now.steady - seen_at_);
      if (hold_active(read.file.until_unix_ms, seen_for, config_.max, now.unix_ms))
        wanted = read.file;
      else if (now.unix_ms >= read.file.until_unix_ms)
        why_not = "its until_unix_ms (" + std::to_string(read.file.until_unix_ms) + ") passed";
      else
        why_not = "hold.max_ms (" + std::to_string(config_.max.count()) + " ms) passed since the gate first saw it";
      break;
    }
  }

  std::vector<std::function<void()>> released;
  if (hold_ && (!wanted || wanted->id != hold_->file.id))
    released = end_locked(wanted ? "the hold file names another id, '" + wanted->id + "'" : why_not, now.steady);
  if (!wanted) {
    if (read.state == HoldRead::State::valid && read.file.id != ended_id_) {
      spdlog::info("write hold '{}' in {} is not in force: {}; writes pass", read.file.id, config_.file, why_not);
      ended_id_ = read.file.id;
    }
    return released;
  }

  // Both bounds on the steady clock: until_unix_ms as read now, the cap from
  // the first sighting (clamped first: a far until_unix_ms would overflow).
  auto left = std::min<std::int64_t>(wanted->until_unix_ms - now.unix_ms, config_.max.count());
  auto ends = std::min(now.steady + milliseconds(left), seen_at_ + config_.max);
  if (hold_) {
    hold_->file.until_unix_ms = wanted->until_unix_ms;  // the supervisor may move it
    hold_->ends = ends;
    return released;
  }
  hold_ = Hold{*wanted, now.unix_ms, ends};
  ended_id_.clear();
  spdlog::info("write hold '{}' started ({}): until_unix_ms {} (in {} ms), at most {} ms from when the gate saw it; "
               "new writes wait, {} write(s) at the upstream",
               wanted->id, config_.file, wanted->until_unix_ms, wanted->until_unix_ms - now.unix_ms,
               config_.max.count(), at_upstream_);
  if (metrics_) metrics_->hold_started();
  return released;
}

std::vector<std::function<void()>> WriteHold::end_locked(const std::string& why, Clock::time_point now) {
  std::vector<std::function<void()>> released;
  milliseconds longest{0};
  for (auto& w : waiting_) {
    longest = std::max(longest, duration_cast<milliseconds>(now - w.since));
    released.push_back(std::move(w.released));
  }
  waiting_.clear();
  // They go upstream now: a hold that starts next waits for them.
  at_upstream_ += released.size();
  spdlog::info("write hold '{}' ended: {}; {} write(s) waited, the longest {} ms", hold_->file.id, why,
               released.size(), longest.count());
  if (metrics_) metrics_->hold_ended(longest);
  ended_id_ = hold_->file.id;
  hold_.reset();
  return released;
}

std::optional<HoldAck> WriteHold::ack() const {
  std::lock_guard lock(mutex_);
  if (!hold_ || at_upstream_ > 0) return std::nullopt;
  return HoldAck{hold_->file.id, std::max(hold_->started_unix_ms, drained_since_unix_ms_)};
}

std::optional<Clock::time_point> WriteHold::ends_at() const {
  std::lock_guard lock(mutex_);
  if (!hold_) return std::nullopt;
  return hold_->ends;
}

void WriteHold::on_drained(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  on_drained_ = std::move(callback);
}

void WriteHold::drop_waiting() {
  std::deque<Waiting> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(waiting_);
  }
}

std::size_t WriteHold::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::size_t WriteHold::at_upstream() const {
  std::lock_guard lock(mutex_);
  return at_upstream_;
}

std::optional<std::string> WriteHold::active_id() const {
  std::lock_guard lock(mutex_);
  if (!hold_) return std::nullopt;
  return hold_->file.id;
}

}  // namespace hasup::upload_gate
