// The engine's part in the cluster's pause (components/pause): the operator's
// hactl pause / resume written into the store. What pausing changes is each
// component's rule; the API only writes the record.
#include <spdlog/spdlog.h>

#include "components/pause/decide.hpp"
#include "components/pause/record.hpp"
#include "components/switchover/decide.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::loop {

using nlohmann::json;

void Engine::write_pause(bool paused, const std::string& reason, const std::string& requested_by,
                         std::function<void(int, json)> done) {
  const Snapshot& s = last_snapshot_;
  const auto now = cluster_pause(s.kv);
  if (now.error.empty() && now.paused == paused)
    return done(200, json{{"status", paused ? "already paused: nothing written" : "not paused: nothing written"},
                          {"pause", pause_status(s)}});
  if (!printable_ascii(reason, pause::kReasonLimit))
    return done(400, json{{"error", "the reason must be up to " + std::to_string(pause::kReasonLimit) +
                                        " printable ASCII characters"}});
  if (paused && config_.db.enabled() && config_.db.backend == "stolon")
    return done(409, json{{"error", "refused, nothing written: stolon has no pause (its sentinels would still fail "
                                    "over); with db.backend = stolon hactl pause is not built yet"}});
  if (auto r = stored_switchover(s); paused && r && !switchover::ended(r->phase))
    return done(409, json{{"error", "refused, nothing written: a switchover to " + r->to +
                                        " is under way; pause once it has ended (hactl status)"}});
  pause::PauseRecord record;
  record.paused = paused;
  record.by = requested_by;
  record.at = utc_iso8601(std::chrono::system_clock::now(), false);
  record.reason = reason;
  consul::PutOptions put;
  put.cas = s.kv.pause ? s.kv.pause->index : 0;
  consul_.kv_put(keys_.pause(), pause::encode(record), put, [this, record, done](consul::Result<bool> w) {
    if (!w) return done(503, json{{"error", "not written: " + w.error().to_string()}});
    if (!w.value())
      return done(409, json{{"error", "the pause record changed meanwhile (another hactl?); nothing written: "
                                      "hactl status shows it"}});
    const std::string said = std::string(record.paused ? "cluster paused" : "cluster resumed") + " by " + record.by +
                             (record.reason.empty() ? "" : ": " + record.reason);
    spdlog::warn("{}", said);
    events_.note("supervisor", "config", said);
    refresh_kv([this, done, paused = record.paused] {
      // The last cycle's snapshot with the keys just read: the record written.
      Snapshot now = last_snapshot_;
      now.kv = kv_;
      done(200, json{{"status", paused ? "paused: no failover, no floating IP move but by VRRP, no settings or "
                                         "logins pushed until hactl resume"
                                       : "resumed: the cluster's automatic rules apply again"},
                     {"pause", pause_status(now)}});
    });
  });
}

}  // namespace hasup::loop
