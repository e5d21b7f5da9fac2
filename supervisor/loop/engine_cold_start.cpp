// The engine's part in a cold start an operator settles (components/cold-start):
// the accepted founder written into the store. The API never acts: the
// accepted node's supervisor asks its Patroni.
#include <spdlog/spdlog.h>

#include "components/cold-start/decide.hpp"
#include "components/cold-start/record.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::loop {

using nlohmann::json;

void Engine::write_cold_start_accept(const std::string& node, const std::string& requested_by,
                                     std::function<void(int, json)> done) {
  // The same rule the accepted node checks again before it acts.
  auto preview = preview_accept(last_snapshot_, node);
  if (!preview.refusal.empty()) {
    json body = to_json(preview, node);
    body["error"] = "refused, nothing written: " + preview.refusal;
    return done(409, body);
  }
  const cold_start::AcceptRecord record{node, requested_by, utc_iso8601(std::chrono::system_clock::now(), false)};
  consul::PutOptions create_only;
  create_only.cas = 0;
  consul_.kv_put(keys_.cold_start(), cold_start::encode(record), create_only,
                 [this, record, preview, done](consul::Result<bool> w) {
                   if (!w) return done(503, json{{"error", "not written: " + w.error().to_string()}});
                   if (!w.value())
                     return done(409, json{{"error", "an acceptance is already stored (hactl status shows it; "
                                                     "hactl cold-start --cancel removes it): nothing written"}});
                   const std::string said = "cold start: " + record.node + " accepted as founder by " +
                                            record.requested_by + ", losing " + preview.loses;
                   spdlog::warn("{}", said);
                   events_.note("supervisor", "config", said);
                   const bool records_lost = !last_snapshot_.db.cluster.initialized;
                   refresh_kv([done, record, preview, records_lost] {
                     json body = to_json(preview, record.node);
                     body["status"] = "accepted: " + record.node +
                                      (records_lost ? "'s supervisor writes its copies of the records back, then "
                                                      "Patroni's own rules decide"
                                                    : "'s supervisor asks its Patroni to promote it");
                     done(200, body);
                   });
                 });
}

void Engine::cancel_cold_start_accept(std::function<void(int, json)> done) {
  consul_.kv_delete(keys_.cold_start(), std::nullopt, false, [this, done](consul::Result<bool> r) {
    if (!r) return done(503, json{{"error", "not removed: " + r.error().to_string()}});
    spdlog::warn("cold start: the acceptance is cancelled");
    events_.note("supervisor", "config", "cold start: the acceptance is cancelled");
    refresh_kv([done] { done(200, json{{"status", "no acceptance is stored now"}}); });
  });
}

}  // namespace hasup::loop
