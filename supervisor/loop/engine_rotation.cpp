// The engine's part in a rotation of a login (the manager's database login,
// the replication login): the operator's request written into the store. The steps are the leader's
// (components/db-login: decide and driver); the API never acts.
#include <spdlog/spdlog.h>

#include "components/db-login/decide.hpp"
#include "components/db-login/record.hpp"
#include "components/db-login/secret.hpp"
#include "components/pause/decide.hpp"
#include "supervisor/loop/engine.hpp"
#include "supervisor/util/utc_time.hpp"

namespace hasup::loop {

using nlohmann::json;

void Engine::write_login_rotation_request(db_login::LoginSecret secret, const std::string& requested_by,
                                          std::function<void(int, json)> done) {
  if (!config_.db.enabled()) return done(404, json{{"error", "this node runs no database (db.backend = none)"}});
  if (auto why = pause_blocker(last_snapshot_, "login rotation"); !why.empty())
    return done(409, json{{"error", "refused, nothing written: " + why}});
  const LoginView& view = login_view(last_snapshot_, secret);
  if (!view.enabled)
    return done(404, json{{"error", db_login::secret_name(secret) + " rotates with the Patroni backend only (db.backend = " +
                                        config_.db.backend + ": stolon keeps it in its keepers' own flags)"}});
  // The driver read the key (at start and SIGHUP): the leader cannot derive without one either.
  if (const auto& why = view.store_key_error; !why.empty()) return done(409, json{{"error", "refused: " + why}});
  const std::string key = login_record_key(keys_, secret);
  const std::string what = db_login::login_label(secret);
  consul::ReadOptions consistent;
  consistent.consistency = consul::Consistency::consistent;
  consul_.kv_get(key, consistent, [this, secret, key, what, base = view.base_user, requested_by,
                                    done](consul::Result<consul::KvRead> r) {
    if (!r) return done(503, json{{"error", "cannot read the login's record: " + r.error().to_string()}});
    const auto& entry = r.value().entry;
    // No record while nodes keep copies: Consul's data was lost, and a
    // rotation counted from the install's login would skip the ones done.
    if (!entry && !login_copies(last_snapshot_, secret).empty())
      return done(409, json{{"error", "refused: Consul holds no " + what + " record but nodes keep copies of it "
                                      "(Consul's data lost?): it is written back first (hactl status says by whom); "
                                      "try again then"}});
    std::optional<db_login::LoginRecord> stored;
    if (entry) {
      auto decoded = db_login::decode_login_record(entry->value);
      if (!decoded.record)
        return done(409, json{{"error", "refused: the stored record " + key + " is unreadable (" +
                                            decoded.error + "); nothing written"}});
      stored = decoded.record;
    }
    const std::string nonce = db_login::new_nonce();
    if (nonce.empty()) return done(503, json{{"error", "no random bytes from the kernel for the rotation's nonce"}});
    auto request = db_login::request_rotation(stored, base, requested_by,
                                              utc_iso8601(std::chrono::system_clock::now(), false), nonce);
    if (!request.record) return done(409, json{{"error", "refused: " + request.refusal}});
    consul::PutOptions put;
    put.cas = entry ? entry->modify_index : 0;
    const auto& rotation = *request.record->rotation;
    consul_.kv_put(key, db_login::encode(*request.record), put,
                   [this, done, what, generation = rotation.generation, login = rotation.login](consul::Result<bool> w) {
                     if (!w) return done(503, json{{"error", "not written: " + w.error().to_string()}});
                     if (!w.value())
                       return done(409, json{{"error", "the login's record changed meanwhile; nothing written: try again"}});
                     const std::string said = "rotation " + std::to_string(generation) +
                                              " of " + what + " requested: login " + login + " next";
                     spdlog::info("{}", said);
                     events_.note("supervisor", "config", said);
                     refresh_kv([done, generation, login] {
                       done(200, json{{"generation", generation},
                                      {"login", login},
                                      {"status", "rotation " + std::to_string(generation) +
                                                     " requested: the leader gives login " + login +
                                                     " a new password, every node switches to it, then the "
                                                     "previous login is refused"}});
                     });
                   });
  });
}

}  // namespace hasup::loop
