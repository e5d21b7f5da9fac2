#include "components/db-login/record.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"

namespace hasup::db_login {

using nlohmann::json;

namespace {

constexpr int kSchema = 1;

// A sub-object's field (current, rotation, last): the error names both.
bool field(const json& o, const char* where, const char* key, std::string& out, std::string& error,
           bool required = true) {
  if (get_string(o, key, out, error, required)) return true;
  error = std::string(where) + ": " + error;
  return false;
}

bool generation(const json& o, const char* where, std::uint64_t& out, std::string& error) {
  auto it = o.find("generation");
  if (it == o.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() == 0) {
    error = std::string(where) + ": generation is not a number above 0";
    return false;
  }
  out = it->get<std::uint64_t>();
  return true;
}

// The sub-object under `key`: nullptr when absent (or null); `error` set when it is not an object.
const json* object_at(const json& o, const char* key, std::string& error) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  if (!it->is_object()) error = std::string(key) + " is not an object";
  return it->is_object() ? &*it : nullptr;
}

bool nonce_ok(const std::string& nonce) {
  return nonce.size() == 32 && nonce.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// What makes a credential unusable here (record_problem says why it matters).
std::string credential_problem(const char* where, std::uint64_t generation, const std::string& login,
                               const std::string& nonce, const std::string& base_user) {
  if (login != login_for(generation, base_user))
    return std::string(where) + " names login '" + login + "' for generation " + std::to_string(generation) +
           ", not '" + login_for(generation, base_user) + "'";
  if (!nonce_ok(nonce)) return std::string(where) + ".nonce is not 32 hex digits";
  return {};
}

}  // namespace

std::string secret_name(LoginSecret secret) {
  return secret == LoginSecret::db_password ? "db-password" : "replication-password";
}

std::string login_label(LoginSecret secret) {
  return secret == LoginSecret::db_password ? "db login" : "replication login";
}

std::optional<LoginSecret> parse_login_secret(const std::string& name) {
  for (auto secret : {LoginSecret::db_password, LoginSecret::replication_password})
    if (name == secret_name(secret)) return secret;
  return std::nullopt;
}

std::string to_string(RotationStep step) { return step == RotationStep::requested ? "requested" : "switching"; }

std::optional<LoginCredential> LoginRecord::target() const {
  if (rotation && rotation->step == RotationStep::switching)
    return LoginCredential{rotation->generation, rotation->login, rotation->nonce};
  return current;
}

std::string login_for(std::uint64_t generation, const std::string& base_user) {
  return generation % 2 == 0 ? base_user : base_user + "_alt";
}

std::string record_problem(const LoginRecord& r, const std::string& base_user) {
  if (r.current) {
    auto why = credential_problem("current", r.current->generation, r.current->login, r.current->nonce, base_user);
    if (!why.empty()) return why;
  }
  if (r.rotation) {
    const auto& x = *r.rotation;
    auto why = credential_problem("rotation", x.generation, x.login, x.nonce, base_user);
    if (!why.empty()) return why;
    if (x.previous_login != login_for(x.generation - 1, base_user))
      return "rotation.previous_login '" + x.previous_login + "' is not '" + login_for(x.generation - 1, base_user) + "'";
  }
  return {};
}

std::string encode(const LoginRecord& r) {
  json o{{"schema", kSchema}, {"revision", r.revision}};
  if (r.current)
    o["current"] = {{"generation", r.current->generation}, {"login", r.current->login}, {"nonce", r.current->nonce}};
  if (r.rotation) {
    const auto& x = *r.rotation;
    json j{{"generation", x.generation},         {"step", to_string(x.step)},
           {"login", x.login},                   {"previous_login", x.previous_login},
           {"nonce", x.nonce},                   {"requested_by", x.requested_by},
           {"requested_at", x.requested_at}};
    if (!x.switching_at.empty()) j["switching_at"] = x.switching_at;
    o["rotation"] = j;
  }
  if (r.last)
    o["last"] = {{"generation", r.last->generation},     {"outcome", r.last->done ? "done" : "failed"},
                 {"detail", r.last->detail},             {"requested_at", r.last->requested_at},
                 {"finished_at", r.last->finished_at}};
  return json_text(o);
}

LoginDecode decode_login_record(const std::string& text) {
  LoginDecode out;
  std::string& error = out.error;
  auto parsed = parse_object(text, error);
  if (!parsed || !schema_ok(*parsed, kSchema, error)) return out;
  const json& o = *parsed;
  LoginRecord r;
  if (auto it = o.find("revision"); it != o.end()) {
    if (!it->is_number_unsigned()) {
      error = "revision is not a number";
      return out;
    }
    r.revision = it->get<std::uint64_t>();
  }
  if (const json* c = object_at(o, "current", error)) {
    LoginCredential cred;
    if (!generation(*c, "current", cred.generation, error) || !field(*c, "current", "login", cred.login, error) ||
        !field(*c, "current", "nonce", cred.nonce, error))
      return out;
    r.current = cred;
  }
  if (!error.empty()) return out;
  if (const json* x = object_at(o, "rotation", error)) {
    LoginRotation rot;
    std::string step;
    const char* where = "rotation";
    if (!generation(*x, where, rot.generation, error) || !field(*x, where, "step", step, error) ||
        !field(*x, where, "login", rot.login, error) || !field(*x, where, "previous_login", rot.previous_login, error) ||
        !field(*x, where, "nonce", rot.nonce, error) || !field(*x, where, "requested_by", rot.requested_by, error, false) ||
        !field(*x, where, "requested_at", rot.requested_at, error, false) ||
        !field(*x, where, "switching_at", rot.switching_at, error, false))
      return out;
    if (step == "requested") {
      rot.step = RotationStep::requested;
    } else if (step == "switching") {
      rot.step = RotationStep::switching;
    } else {
      error = "rotation: step '" + step + "' is not requested or switching";
      return out;
    }
    if (rot.generation != r.current_generation() + 1) {
      error = "rotation: generation " + std::to_string(rot.generation) + " does not follow the current " +
              std::to_string(r.current_generation());
      return out;
    }
    r.rotation = rot;
  }
  if (!error.empty()) return out;
  if (const json* l = object_at(o, "last", error)) {
    RotationOutcome last;
    std::string outcome;
    if (!generation(*l, "last", last.generation, error) || !field(*l, "last", "outcome", outcome, error) ||
        !field(*l, "last", "detail", last.detail, error, false) ||
        !field(*l, "last", "requested_at", last.requested_at, error, false) ||
        !field(*l, "last", "finished_at", last.finished_at, error, false))
      return out;
    if (outcome != "done" && outcome != "failed") {
      error = "last: outcome '" + outcome + "' is not done or failed";
      return out;
    }
    last.done = outcome == "done";
    r.last = last;
  }
  if (!error.empty()) return out;
  out.record = std::move(r);
  return out;
}

RotationRequest request_rotation(const std::optional<LoginRecord>& stored, const std::string& base_user,
                                 const std::string& requested_by, const std::string& now, const std::string& nonce) {
  RotationRequest out;
  LoginRecord r = stored.value_or(LoginRecord{});
  if (r.rotation) {
    out.refusal = "a rotation is under way: generation " + std::to_string(r.rotation->generation) + ", step " +
                  to_string(r.rotation->step) + " (requested by " + r.rotation->requested_by + " at " +
                  r.rotation->requested_at + ")";
    return out;
  }
  const std::uint64_t next = r.current_generation() + 1;
  LoginRotation rot;
  rot.generation = next;
  rot.login = login_for(next, base_user);
  rot.previous_login = r.current ? r.current->login : login_for(0, base_user);
  rot.requested_by = requested_by;
  rot.requested_at = now;
  rot.nonce = nonce;
  r.rotation = rot;
  ++r.revision;
  out.record = std::move(r);
  return out;
}

}  // namespace hasup::db_login
