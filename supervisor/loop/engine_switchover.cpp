// The engine's part in a planned switchover (components/switchover): the
// operator's request written into the store. The steps are the leader's; the
// API never acts.
#include <spdlog/spdlog.h>

#include "components/switchover/decide.hpp"
#include "components/switchover/record.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/api_token.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::loop {

using nlohmann::json;

void Engine::write_switchover_request(const std::string& to, const std::string& requested_by,
                                      std::function<void(int, json)> done) {
  // The same rules the leader checks again at every step.
  auto preview = preview_switchover(last_snapshot_, to);
  if (!preview.refusal.empty()) {
    json body = to_json(preview);
    body["error"] = "refused, nothing written: " + preview.refusal;
    return done(409, body);
  }
  const auto now = std::chrono::system_clock::now();
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  switchover::SwitchoverRecord record;
  record.id = "so-" + random_hex(4);
  if (record.id.size() != 11) return done(503, json{{"error", "no random bytes from the kernel for the switchover's id"}});
  record.from = preview.from;
  record.to = preview.to;
  record.requested_by = requested_by;
  record.requested_at = utc_iso8601(now, false);
  record.phase = switchover::Phase::floating_ip;
  record.phase_started_ms = now_ms;
  // Replaces an ended (or unreadable) record only: the index it was read at.
  consul::PutOptions put;
  put.cas = last_snapshot_.kv.switchover ? last_snapshot_.kv.switchover->index : 0;
  consul_.kv_put(keys_.switchover(), switchover::encode(record), put, [this, record, preview, done](consul::Result<bool> w) {
    if (!w) return done(503, json{{"error", "not written: " + w.error().to_string()}});
    if (!w.value())
      return done(409, json{{"error", "the switchover record changed meanwhile (another request?); nothing written: "
                                      "hactl status shows it"}});
    const std::string said = "switchover " + record.id + " from " + record.from + " to " + record.to +
                             " requested by " + record.requested_by;
    spdlog::info("{}", said);
    events_.note("supervisor", "config", said);
    refresh_kv([done, record, preview] {
      json body = to_json(preview);
      body["id"] = record.id;
      body["status"] = "switchover " + record.id + " requested: the floating IP goes to " + record.to +
                       ", then the leader holds new writes and switches the database over to it";
      done(200, body);
    });
  });
}

}  // namespace hasup::loop
