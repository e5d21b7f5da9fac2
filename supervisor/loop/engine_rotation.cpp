// The engine's part in a rotation of a login (the manager's database login,
// the replication login) or of syncthing's API keys: the operator's request
// written into the store. The steps are the leader's (components/db-login:
// decide and driver) or each node's own (components/syncthing/key_rotation.hpp);
// the API never acts.
#include <spdlog/spdlog.h>

#include "components/db-login/decide.hpp"
#include "components/db-login/record.hpp"
#include "components/db-login/secret.hpp"
#include "components/pause/decide.hpp"
#include "components/syncthing/key_record.hpp"
#include "components/syncthing/key_rotation.hpp"
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

void Engine::write_syncthing_key_rotation(const std::string& requested_by, std::function<void(int, json)> done) {
  if (!config_.files.enabled)
    return done(404, json{{"error", "this node replicates no files (files.enabled = false): ask a node that does"}});
  const Snapshot& s = last_snapshot_;
  if (!s.kv.known) return done(503, json{{"error", "the cluster's records are not read yet: try again"}});
  if (auto why = pause_blocker(s, "key rotation"); !why.empty())
    return done(409, json{{"error", "refused, nothing written: " + why}});
  auto request = next_key_rotation(s.kv);
  if (!request.refusal.empty()) return done(409, json{{"error", "refused, nothing written: " + request.refusal}});
  syncthing::KeyRotationRecord record;
  record.generation = request.generation;
  record.by = requested_by;
  record.at = utc_iso8601(std::chrono::system_clock::now(), false);
  consul::PutOptions put;
  put.cas = s.kv.syncthing_key ? s.kv.syncthing_key->index : 0;
  consul_.kv_put(keys_.syncthing_key(), syncthing::encode(record), put, [this, record, done](consul::Result<bool> w) {
    if (!w) return done(503, json{{"error", "not written: " + w.error().to_string()}});
    if (!w.value())
      return done(409, json{{"error", "the rotation's record changed meanwhile (another hactl?); nothing written: "
                                      "try again"}});
    const std::string said = "rotation " + std::to_string(record.generation) + " of syncthing's API keys requested by " +
                             record.by;
    spdlog::info("{}", said);
    events_.note("supervisor", "config", said);
    refresh_kv([done, generation = record.generation] {
      done(200, json{{"generation", generation},
                     {"status", "rotation " + std::to_string(generation) +
                                    " of syncthing's API keys requested: every node gives its syncthing, upload gate "
                                    "and supervisor a new key of its own, then the previous key is refused"}});
    });
  });
}

}  // namespace hasup::loop
