#include "components/db-login/decide.hpp"

#include "components/postgres/decide.hpp"
#include "supervisor/cluster/copy_verdict.hpp"
#include "supervisor/loop/decide.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::loop {

using nlohmann::json;
using db_login::LoginSecret;

namespace {

// The login this node's REST service has yet to be given, if any. The
// replication login is given by the database's own decision (patroni.yml).
std::optional<db_login::LoginCredential> login_to_give(const LoginView& v) {
  if (v.secret != LoginSecret::db_password || !v.writes_client_file || !v.record) return std::nullopt;
  auto target = v.record->target();
  if (!target || target->generation == v.applied_generation) return std::nullopt;
  return target;
}

// The generation this node's clients use now: the REST service's as given
// by this process; Patroni's once it runs the patroni.yml holding it.
std::optional<std::uint64_t> applied_generation(const Snapshot& s, const LoginView& v) {
  if (!v.enabled || !v.writes_client_file) return std::nullopt;
  if (v.secret == LoginSecret::db_password) return v.applied_generation;
  if (patroni_runs_rendered_conf(s)) return s.db.patroni.replication_generation;
  // Not yet the newest: the generation before the rotation's, at most.
  return v.record ? v.record->current_generation() : 0;
}

// Every node: its REST service follows the record's login.
std::string follow_record(Plan& plan, const Snapshot& s, const LoginView& v) {
  auto target = login_to_give(v);
  if (!target) return {};
  const std::string which = "login " + target->login + " (generation " + std::to_string(target->generation) + ")";
  if (!v.store_key_error.empty()) return "db login: cannot give the REST service " + which + ": " + v.store_key_error;
  if (!want(plan, s, ApplyClientLogin{target->generation, target->login, target->nonce})) return {};
  return "db login: giving this node's REST service " + which +
         (v.apply_error.empty() ? "" : " (the last try failed: " + v.apply_error + ")");
}

// The leader: the rotation's next step.
std::string drive_rotation(Plan& plan, const Snapshot& s, const LoginView& v) {
  if (plan.role != cluster::Role::leader || !v.record || !v.record->rotation) return {};
  const auto& rot = *v.record->rotation;
  const std::string head = db_login::login_label(v.secret) + " rotation " + std::to_string(rot.generation) + ": ";
  if (rot.step == db_login::RotationStep::requested) {
    if (!v.store_key_error.empty()) return head + "cannot derive the new password: " + v.store_key_error;
    if (!s.db.endpoint || !s.db.endpoint->writable) return head + "waiting for a writable primary";
    want(plan, s, StartLoginRotation{v.secret, rot.generation, rot.login, v.record_index});
    return head + "setting login " + rot.login + "'s new password on the primary" +
           (v.rotation_error.empty() ? "" : " (the last try failed: " + v.rotation_error + ")");
  }
  auto behind = members_behind(s, v.secret, rot.generation);
  if (!behind.empty()) return head + "waiting for " + sentence_list(behind) + " to switch to login " + rot.login;
  if (!s.db.endpoint || !s.db.endpoint->writable) return head + "every node switched; waiting for a writable primary";
  want(plan, s, FinishLoginRotation{v.secret, rot.generation, rot.previous_login, v.record_index});
  return head + "every node switched: refusing login " + rot.previous_login + " from now on" +
         (v.rotation_error.empty() ? "" : " (the last try failed: " + v.rotation_error + ")");
}

// Consul holds no record but this node a copy (record_copy.hpp): the copy
// keeps the clients on the login in force; no rotation step is taken on it;
// the node with the newest copy of a majority's writes it back.
cluster::CopyVerdict restore_verdict(const Snapshot& s, const LoginView& v) {
  const auto copies = login_copies(s, v.secret);
  return cluster::newest_copy_verdict(copies, std::max(s.known.nodes.size(), copies.size()),
                                      "the " + db_login::login_label(v.secret) + "'s record", "revision",
                                      accepted_founder(s));
}

// What status and the plan's reason say while the record is the copy's.
std::string from_copy_note(const LoginView& v, const cluster::CopyVerdict& verdict) {
  return "Consul holds no record (its data lost?): this node follows its copy (generation " +
         std::to_string(v.copy->current_generation()) + ", revision " + std::to_string(v.copy->revision) +
         "), and no rotation step is taken until the record is back; " + verdict.note;
}

std::string restore_record(Plan& plan, const Snapshot& s, const LoginView& v) {
  auto verdict = restore_verdict(s, v);
  if (verdict.restorer == s.self && s.consul.quorum_reachable)
    want(plan, s, RestoreLoginRecord{v.secret, db_login::encode(*v.copy), v.copy->revision});
  return db_login::login_label(v.secret) + ": " + from_copy_note(v, verdict);
}

std::string decide_login(Plan& plan, const Snapshot& s, const LoginView& v) {
  if (!v.enabled) return {};
  if (!v.record_error.empty())
    return db_login::login_label(v.secret) + ": the stored record is refused, nothing done with it: " + v.record_error;
  std::string note = follow_record(plan, s, v);
  std::string step = v.record_from_copy ? restore_record(plan, s, v) : drive_rotation(plan, s, v);
  if (!note.empty() && !step.empty()) note += "; ";
  return note + step;
}

json login_status(const Snapshot& s, const LoginView& v) {
  json o;
  const auto generation = v.record ? v.record->current_generation() : 0;
  o["enabled"] = v.enabled;
  o["label"] = db_login::login_label(v.secret);  // hactl's words for it
  o["generation"] = generation;
  o["login"] = v.record && v.record->current ? v.record->current->login : db_login::login_for(0, v.base_user);
  o["writes_client_file"] = v.writes_client_file;
  auto applied = applied_generation(s, v);
  o["applied_generation"] = applied ? json(*applied) : json(nullptr);
  if (v.record && v.record->rotation) {
    const auto& r = *v.record->rotation;
    o["rotation"] = {{"generation", r.generation},         {"step", db_login::to_string(r.step)},
                     {"login", r.login},                   {"previous_login", r.previous_login},
                     {"requested_by", r.requested_by},     {"requested_at", r.requested_at},
                     {"switching_at", r.switching_at},     {"waiting_for", members_behind(s, v.secret, r.generation)}};
  } else {
    o["rotation"] = nullptr;
  }
  if (v.record && v.record->last) {
    const auto& l = *v.record->last;
    o["last"] = {{"generation", l.generation}, {"outcome", l.done ? "done" : "failed"}, {"detail", l.detail},
                 {"requested_at", l.requested_at}, {"finished_at", l.finished_at}};
  } else {
    o["last"] = nullptr;
  }
  // A missing store key matters once there is something to derive: an older
  // secrets file on a cluster that never rotates is no error.
  o["store_key"] = v.store_key_error.empty() ? "readable" : v.store_key_error;
  const bool deriving = (v.record && v.record->rotation) || login_to_give(v) || generation > 0;
  json errors = json::array();
  for (const auto* e : {&v.record_error, &v.apply_error, &v.rotation_error})
    if (!e->empty()) errors.push_back(*e);
  if (deriving && !v.store_key_error.empty()) errors.push_back(v.store_key_error);
  if (!v.copy_error.empty()) errors.push_back(v.copy_error);
  o["errors"] = errors;
  o["copy_revision"] = v.copy ? json(v.copy->revision) : json(nullptr);
  o["from_copy"] = v.record_from_copy ? json(from_copy_note(v, restore_verdict(s, v))) : json(nullptr);
  return o;
}

}  // namespace

const LoginView& login_view(const Snapshot& s, LoginSecret secret) {
  return secret == LoginSecret::db_password ? s.db_login : s.replication_login;
}

std::string login_record_key(const cluster::Keys& keys, LoginSecret secret) {
  return secret == LoginSecret::db_password ? keys.db_login() : keys.replication_login();
}

// A login record's revision is the record's own, which no rebuilt Consul
// resets: its copies never need write_backs.
std::map<std::string, cluster::CopyNewness> login_copies(const Snapshot& s, LoginSecret secret) {
  const auto& v = login_view(s, secret);
  const auto own = v.copy ? std::optional(cluster::CopyNewness{0, v.copy->revision}) : std::nullopt;
  return cluster::gather_copies(s.self, own, s.kv.members,
                                [secret](const cluster::MemberRecord& m) -> std::optional<cluster::CopyNewness> {
                                  const auto& revision = secret == LoginSecret::db_password
                                                             ? m.db_login_copy_revision
                                                             : m.replication_login_copy_revision;
                                  if (!revision) return std::nullopt;
                                  return cluster::CopyNewness{0, *revision};
                                });
}

std::vector<std::string> members_behind(const Snapshot& s, LoginSecret secret, std::uint64_t generation) {
  std::vector<std::string> behind;
  // Live members only: a node that is down takes the login from the record
  // when it returns. A member without the field has no such clients.
  for (const auto& [name, member] : s.kv.members) {
    const auto& field =
        secret == LoginSecret::db_password ? member.db_login_generation : member.replication_login_generation;
    if (field && *field != generation) behind.push_back(name);
  }
  return behind;
}

std::string decide_db_login(Plan& plan, const Snapshot& s) {
  std::string note = decide_login(plan, s, s.db_login);
  std::string replication = decide_login(plan, s, s.replication_login);
  if (!note.empty() && !replication.empty()) note += "; ";
  return note + replication;
}

std::string db_login_problem(const Snapshot&) { return {}; }

json db_login_status(const Snapshot& s) {
  json o;
  for (auto secret : {LoginSecret::db_password, LoginSecret::replication_password})
    if (login_view(s, secret).enabled) o[db_login::secret_name(secret)] = login_status(s, login_view(s, secret));
  return o;
}

void publish_db_login(const Snapshot& s, cluster::MemberRecord& record) {
  record.db_login_generation = applied_generation(s, s.db_login);
  record.replication_login_generation = applied_generation(s, s.replication_login);
  if (s.db_login.copy) record.db_login_copy_revision = s.db_login.copy->revision;
  if (s.replication_login.copy) record.replication_login_copy_revision = s.replication_login.copy->revision;
}

}  // namespace hasup::loop
