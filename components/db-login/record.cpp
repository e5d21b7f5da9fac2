#include "components/db-login/record.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/util/json_text.hpp"

namespace hasup::db_login {

using nlohmann::json;

namespace {

constexpr int kSchema = 1;

// Each field checked for its type; the first problem ends the decode.
struct Reader {
  const json& o;
  std::string& error;
  const char* where;

  bool string(const char* key, std::string& out, bool required) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) error = std::string(where) + "." + key + " is missing";
      return !required;
    }
    if (!it->is_string()) {
      error = std::string(where) + "." + key + " is not a string";
      return false;
    }
    out = it->get<std::string>();
    return true;
  }
  bool generation(std::uint64_t& out) {
    auto it = o.find("generation");
    if (it == o.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() == 0) {
      error = std::string(where) + ".generation is not a number above 0";
      return false;
    }
    out = it->get<std::uint64_t>();
    return true;
  }
};

const json* object_at(const json& o, const char* key, std::string& error) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  if (!it->is_object()) error = std::string(key) + " is not an object";
  return it->is_object() ? &*it : nullptr;
}

}  // namespace

std::string to_string(RotationStep step) { return step == RotationStep::requested ? "requested" : "switching"; }

std::optional<LoginCredential> LoginRecord::target() const {
  if (rotation && rotation->step == RotationStep::switching)
    return LoginCredential{rotation->generation, rotation->login, rotation->nonce};
  return current;
}

std::string login_for(std::uint64_t generation, const std::string& manager_user) {
  return generation % 2 == 0 ? manager_user : manager_user + "_alt";
}

namespace {

bool nonce_ok(const std::string& nonce) {
  return nonce.size() == 32 && nonce.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string credential_problem(const char* where, std::uint64_t generation, const std::string& login,
                               const std::string& nonce, const std::string& manager_user) {
  if (login != login_for(generation, manager_user))
    return std::string(where) + " names login '" + login + "' for generation " + std::to_string(generation) +
           ", not '" + login_for(generation, manager_user) + "'";
  if (!nonce_ok(nonce)) return std::string(where) + ".nonce is not 32 hex digits";
  return {};
}

}  // namespace

std::string record_problem(const LoginRecord& r, const std::string& manager_user) {
  if (r.current) {
    auto why = credential_problem("current", r.current->generation, r.current->login, r.current->nonce, manager_user);
    if (!why.empty()) return why;
  }
  if (r.rotation) {
    const auto& x = *r.rotation;
    auto why = credential_problem("rotation", x.generation, x.login, x.nonce, manager_user);
    if (!why.empty()) return why;
    if (x.previous_login != login_for(x.generation - 1, manager_user))
      return "rotation.previous_login '" + x.previous_login + "' is not '" + login_for(x.generation - 1, manager_user) + "'";
  }
  return {};
}

std::string encode(const LoginRecord& r) {
  json o{{"schema", kSchema}};
  if (r.current)
    o["current"] = {{"generation", r.current->generation}, {"login", r.current->login}, {"nonce", r.current->nonce}};
  if (r.rotation) {
    const auto& x = *r.rotation;
    json j{{"generation", x.generation},     {"step", to_string(x.step)},       {"login", x.login},
           {"previous_login", x.previous_login}, {"requested_by", x.requested_by}, {"requested_at", x.requested_at}};
    j["nonce"] = x.nonce;
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
  json o = json::parse(text, nullptr, false);
  if (o.is_discarded() || !o.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  if (auto it = o.find("schema"); it == o.end() || !it->is_number_integer() || it->get<int>() != kSchema) {
    out.error = "schema is not " + std::to_string(kSchema);
    return out;
  }
  LoginRecord r;
  if (const json* c = object_at(o, "current", out.error)) {
    LoginCredential cred;
    Reader read{*c, out.error, "current"};
    if (!read.generation(cred.generation) || !read.string("login", cred.login, true) ||
        !read.string("nonce", cred.nonce, true))
      return out;
    r.current = cred;
  }
  if (const json* x = object_at(o, "rotation", out.error)) {
    LoginRotation rot;
    std::string step;
    Reader read{*x, out.error, "rotation"};
    if (!read.generation(rot.generation) || !read.string("step", step, true) ||
        !read.string("login", rot.login, true) || !read.string("previous_login", rot.previous_login, true) ||
        !read.string("nonce", rot.nonce, true) || !read.string("requested_by", rot.requested_by, false) ||
        !read.string("requested_at", rot.requested_at, false) ||
        !read.string("switching_at", rot.switching_at, false))
      return out;
    if (step == "requested") {
      rot.step = RotationStep::requested;
    } else if (step == "switching") {
      rot.step = RotationStep::switching;
    } else {
      out.error = "rotation.step '" + step + "' is not requested or switching";
      return out;
    }
    if (rot.generation != r.current_generation() + 1) {
      out.error = "rotation.generation " + std::to_string(rot.generation) + " does not follow the current " +
                  std::to_string(r.current_generation());
      return out;
    }
    r.rotation = rot;
  }
  if (const json* l = object_at(o, "last", out.error)) {
    RotationOutcome last;
    std::string outcome;
    Reader read{*l, out.error, "last"};
    if (!read.generation(last.generation) || !read.string("outcome", outcome, true) ||
        !read.string("detail", last.detail, false) || !read.string("requested_at", last.requested_at, false) ||
        !read.string("finished_at", last.finished_at, false))
      return out;
    if (outcome != "done" && outcome != "failed") {
      out.error = "last.outcome '" + outcome + "' is not done or failed";
      return out;
    }
    last.done = outcome == "done";
    r.last = last;
  }
  if (!out.error.empty()) return out;  // an object_at refusal
  out.record = std::move(r);
  return out;
}

RotationRequest request_rotation(const std::optional<LoginRecord>& stored, const std::string& manager_user,
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
  rot.login = login_for(next, manager_user);
  rot.previous_login = r.current ? r.current->login : login_for(0, manager_user);
  rot.requested_by = requested_by;
  rot.requested_at = now;
  rot.nonce = nonce;
  r.rotation = rot;
  out.record = std::move(r);
  return out;
}

}  // namespace hasup::db_login
