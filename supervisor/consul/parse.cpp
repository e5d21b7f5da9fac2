#include "supervisor/consul/parse.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/util/base64.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::consul {

using nlohmann::json;

std::string Error::to_string() const {
  switch (kind) {
    case Kind::transport: return "consul unreachable: " + message;
    case Kind::timeout: return "consul timeout: " + message;
    case Kind::status: return "consul answered " + std::to_string(status) + ": " + message;
    case Kind::parse: return "consul answer not understood: " + message;
  }
  return message;
}

namespace {

Error parse_error(std::string what) { return Error{Error::Kind::parse, 0, std::move(what)}; }

// A field reader that remembers the first problem, so one malformed field
// fails the whole value instead of leaving it half filled.
class Fields {
 public:
  Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) problem_ = where_ + ": not a JSON object";
  }
  std::string string(const char* name, bool required = true) {
    const json* v = find(name, required);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) return bad(name, "not a string"), std::string{};
    return v->get<std::string>();
  }
  std::uint64_t uint(const char* name, bool required = true) {
    const json* v = find(name, required);
    if (!v || v->is_null()) return 0;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0))
      return bad(name, "not an unsigned number"), 0;
    return v->get<std::uint64_t>();
  }
  int integer(const char* name, bool required = true) {
    const json* v = find(name, required);
    if (!v || v->is_null()) return 0;
    if (!v->is_number_integer()) return bad(name, "not an integer"), 0;
    return v->get<int>();
  }
  bool boolean(const char* name, bool required = true) {
    const json* v = find(name, required);
    if (!v || v->is_null()) return false;
    if (!v->is_boolean()) return bad(name, "not a boolean"), false;
    return v->get<bool>();
  }
  std::vector<std::string> strings(const char* name, bool required = true) {
    std::vector<std::string> out;
    const json* v = find(name, required);
    if (!v || v->is_null()) return out;
    if (!v->is_array()) return bad(name, "not an array"), out;
    for (auto& item : *v) {
      if (!item.is_string()) return bad(name, "holds a non-string"), std::vector<std::string>{};
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  const json* object(const char* name, bool required = true) {
    const json* v = find(name, required);
    if (v && !v->is_object()) return bad(name, "not an object"), nullptr;
    return v;
  }
  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }

 private:
  const json* find(const char* name, bool required) {
    if (!problem_.empty() || !object_.is_object()) return nullptr;
    auto it = object_.find(name);
    if (it == object_.end()) {
      if (required) problem_ = where_ + ": missing field " + name;
      return nullptr;
    }
    return &*it;
  }
  void bad(const char* name, const char* what) {
    if (problem_.empty()) problem_ = where_ + ": field " + name + " " + what;
  }
  const json& object_;
  std::string where_;
  std::string problem_;
};

Result<json> parse_json(const std::string& body, const char* what) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return parse_error(std::string(what) + ": malformed JSON");
  return parsed;
}

Result<KvEntry> kv_entry_from(const json& item, std::size_t position) {
  Fields f(item, "kv entry " + std::to_string(position));
  KvEntry entry;
  entry.key = f.string("Key");
  std::string encoded = f.string("Value", false);
  entry.create_index = f.uint("CreateIndex");
  entry.modify_index = f.uint("ModifyIndex");
  entry.lock_index = f.uint("LockIndex", false);
  entry.flags = f.uint("Flags", false);
  entry.session = f.string("Session", false);
  if (!f.ok()) return parse_error(f.problem());
  auto decoded = base64_decode(encoded);
  if (!decoded) return parse_error("kv entry " + entry.key + ": value is " + decoded.error().message);
  entry.value = std::move(decoded.value());
  return entry;
}

Result<SessionInfo> session_from(const json& item, std::size_t position) {
  Fields f(item, "session " + std::to_string(position));
  SessionInfo s;
  s.id = f.string("ID");
  s.name = f.string("Name", false);
  s.node = f.string("Node");
  // Consul 1.7+ splits checks into NodeChecks/ServiceChecks but keeps Checks.
  s.checks = f.strings("Checks", false);
  s.behavior = f.string("Behavior", false);
  s.ttl = f.string("TTL", false);
  s.create_index = f.uint("CreateIndex", false);
  if (!f.ok()) return parse_error(f.problem());
  return s;
}

}  // namespace

std::uint64_t parse_index_header(const std::string& value) {
  return number_from<std::uint64_t>(value).value_or(0);
}

Result<std::vector<KvEntry>> parse_kv_entries(const std::string& body) {
  auto parsed = parse_json(body, "kv");
  if (!parsed) return parsed.error();
  if (!parsed.value().is_array()) return parse_error("kv: expected a JSON array");
  std::vector<KvEntry> out;
  std::size_t position = 0;
  for (auto& item : parsed.value()) {
    auto entry = kv_entry_from(item, position++);
    if (!entry) return entry.error();
    out.push_back(std::move(entry.value()));
  }
  return out;
}

Result<std::string> parse_session_id(const std::string& body) {
  auto parsed = parse_json(body, "session create");
  if (!parsed) return parsed.error();
  Fields f(parsed.value(), "session create");
  std::string id = f.string("ID");
  if (!f.ok()) return parse_error(f.problem());
  if (id.empty()) return parse_error("session create: empty ID");
  return id;
}

Result<std::vector<SessionInfo>> parse_sessions(const std::string& body) {
  auto parsed = parse_json(body, "sessions");
  if (!parsed) return parsed.error();
  if (parsed.value().is_null()) return std::vector<SessionInfo>{};
  if (!parsed.value().is_array()) return parse_error("sessions: expected a JSON array");
  std::vector<SessionInfo> out;
  std::size_t position = 0;
  for (auto& item : parsed.value()) {
    auto s = session_from(item, position++);
    if (!s) return s.error();
    out.push_back(std::move(s.value()));
  }
  return out;
}

Result<TxnResult> parse_txn(int http_status, const std::string& body) {
  // 200: committed; 409: rolled back, with Errors; anything else is an error.
  if (http_status != 200 && http_status != 409)
    return Error{Error::Kind::status, http_status, body.substr(0, 200)};
  auto parsed = parse_json(body, "txn");
  if (!parsed) return parsed.error();
  const json& root = parsed.value();
  if (!root.is_object()) return parse_error("txn: expected a JSON object");
  TxnResult result;
  result.committed = http_status == 200;
  if (auto it = root.find("Results"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return parse_error("txn: Results is not an array");
    std::size_t position = 0;
    for (auto& item : *it) {
      if (!item.is_object() || !item.contains("KV")) return parse_error("txn: result without KV");
      auto entry = kv_entry_from(item["KV"], position++);
      if (!entry) return entry.error();
      result.entries.push_back(std::move(entry.value()));
    }
  }
  if (auto it = root.find("Errors"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return parse_error("txn: Errors is not an array");
    for (auto& item : *it) {
      Fields f(item, "txn error");
      int op = f.integer("OpIndex", false);
      std::string what = f.string("What", false);
      if (!f.ok()) return parse_error(f.problem());
      result.errors.push_back("op " + std::to_string(op) + ": " + what);
    }
  }
  if (!result.committed && result.errors.empty()) return parse_error("txn: 409 without Errors");
  return result;
}

Result<std::vector<ServiceInstance>> parse_health_service(const std::string& body) {
  auto parsed = parse_json(body, "health service");
  if (!parsed) return parsed.error();
  if (!parsed.value().is_array()) return parse_error("health service: expected a JSON array");
  std::vector<ServiceInstance> out;
  std::size_t position = 0;
  for (auto& item : parsed.value()) {
    std::string where = "health entry " + std::to_string(position++);
    Fields top(item, where);
    const json* node = top.object("Node");
    const json* service = top.object("Service");
    if (!top.ok() || !node || !service) return parse_error(top.ok() ? where + ": incomplete" : top.problem());
    Fields n(*node, where + " Node");
    Fields s(*service, where + " Service");
    ServiceInstance instance;
    instance.node = n.string("Node");
    instance.node_address = n.string("Address");
    instance.service_id = s.string("ID");
    instance.service = s.string("Service");
    instance.address = s.string("Address", false);
    instance.port = s.integer("Port", false);
    instance.tags = s.strings("Tags", false);
    if (!n.ok()) return parse_error(n.problem());
    if (!s.ok()) return parse_error(s.problem());
    instance.status = "passing";
    auto checks = item.find("Checks");
    if (checks != item.end() && !checks->is_null()) {
      if (!checks->is_array()) return parse_error(where + ": Checks is not an array");
      for (auto& check : *checks) {
        Fields c(check, where + " check");
        std::string status = c.string("Status");
        std::string id = c.string("CheckID", false);
        if (!c.ok()) return parse_error(c.problem());
        if (status == "critical" || (status == "warning" && instance.status == "passing")) instance.status = status;
        if (id == "serfHealth" && status != "passing") instance.node_alive = false;
      }
    }
    out.push_back(std::move(instance));
  }
  return out;
}

// serf's MemberStatus values (hashicorp/serf, serf.go).
static std::string gossip_status_word(int status) {
  switch (status) {
    case 0: return "none";
    case 1: return "alive";
    case 2: return "leaving";
    case 3: return "left";
    case 4: return "failed";
    default: return "unknown " + std::to_string(status);
  }
}

Result<std::vector<GossipMember>> parse_agent_members(const std::string& body) {
  auto parsed = parse_json(body, "agent members");
  if (!parsed) return parsed.error();
  if (!parsed.value().is_array()) return parse_error("agent members: not an array");
  std::vector<GossipMember> members;
  for (const json& entry : parsed.value()) {
    Fields f(entry, "agent member");
    GossipMember m;
    m.name = f.string("Name");
    m.address = f.string("Addr");
    const int status = f.integer("Status");
    if (!f.ok()) return parse_error(f.problem());
    m.status = gossip_status_word(status);
    members.push_back(std::move(m));
  }
  return members;
}

Result<CheckStatuses> parse_check_statuses(const std::string& body) {
  auto parsed = parse_json(body, "checks");
  if (!parsed) return parsed.error();
  const json& doc = parsed.value();
  if (!doc.is_array() && !doc.is_object()) return parse_error("checks: neither an array nor an object");
  CheckStatuses out;
  for (const json& entry : doc) {
    Fields f(entry, "check");
    std::string id = f.string("CheckID");
    std::string status = f.string("Status");
    if (!f.ok()) return parse_error(f.problem());
    if (id.empty()) return parse_error("check: empty CheckID");
    if (status != "passing" && status != "warning" && status != "critical")
      return parse_error("check " + quoted_printable(id) + ": Status is not passing, warning or critical");
    if (!out.emplace(std::move(id), std::move(status)).second) return parse_error("checks: a CheckID twice");
  }
  return out;
}

Result<AgentSelf> parse_agent_self(const std::string& body) {
  auto parsed = parse_json(body, "agent self");
  if (!parsed) return parsed.error();
  Fields top(parsed.value(), "agent self");
  const json* config = top.object("Config");
  if (!top.ok() || !config) return parse_error(top.ok() ? "agent self: no Config" : top.problem());
  Fields c(*config, "agent self Config");
  AgentSelf self;
  self.node_name = c.string("NodeName");
  self.datacenter = c.string("Datacenter");
  self.version = c.string("Version", false);
  self.server = c.boolean("Server", false);
  if (!c.ok()) return parse_error(c.problem());
  // Read leniently: a field of another type or missing says "unknown", never fails the whole answer.
  if (const json* debug = top.object("DebugConfig", false); debug && debug->is_object()) {
    auto flag = [&](const char* name) -> std::optional<bool> {
      auto it = debug->find(name);
      if (it == debug->end() || !it->is_boolean()) return std::nullopt;
      return it->get<bool>();
    };
    auto text = [&](const char* name) -> std::optional<std::string> {
      auto it = debug->find(name);
      if (it == debug->end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto all = [](std::initializer_list<std::optional<bool>> parts) -> std::optional<bool> {
      for (const auto& p : parts)
        if (!p) return std::nullopt;
      for (const auto& p : parts)
        if (!*p) return false;
      return true;
    };
    auto key = text("EncryptKey");  // "hidden" when set
    self.protections.gossip_encrypted =
        all({key ? std::optional<bool>(!key->empty()) : std::nullopt, flag("EncryptVerifyIncoming"),
             flag("EncryptVerifyOutgoing")});
    self.protections.rpc_tls = all({flag("VerifyIncomingRPC"), flag("VerifyOutgoing"), flag("VerifyServerHostname")});
    auto port_open = [&](const char* name) -> std::optional<bool> {
      auto it = debug->find(name);
      if (it == debug->end() || !it->is_number_integer()) return std::nullopt;
      return it->get<long long>() > 0;  // -1: that listener is off
    };
    auto https = port_open("HTTPSPort");
    auto plain = port_open("HTTPPort");
    self.protections.api_https_only =
        all({https, plain ? std::optional<bool>(!*plain) : std::nullopt});
    auto policy = text("ACLDefaultPolicy");
    self.protections.acls_deny =
        all({flag("ACLsEnabled"), policy ? std::optional<bool>(*policy == "deny") : std::nullopt});
  }
  return self;
}

Result<std::string> parse_status_leader(const std::string& body) {
  auto parsed = parse_json(body, "status leader");
  if (!parsed) return parsed.error();
  if (!parsed.value().is_string()) return parse_error("status leader: expected a JSON string");
  return parsed.value().get<std::string>();
}

std::string encode_session_spec(const SessionSpec& spec) {
  json body;
  if (!spec.name.empty()) body["Name"] = spec.name;
  if (!spec.node.empty()) body["Node"] = spec.node;
  body["Checks"] = spec.checks;
  body["LockDelay"] = std::to_string(spec.lock_delay.count()) + "ms";
  body["Behavior"] = spec.behavior == SessionSpec::Behavior::remove ? "delete" : "release";
  if (spec.ttl.count() > 0) body["TTL"] = std::to_string(spec.ttl.count()) + "s";
  return body.dump();
}

std::string encode_txn(const std::vector<TxnOp>& ops) {
  json body = json::array();
  for (const auto& op : ops) {
    json kv;
    switch (op.verb) {
      case TxnOp::Verb::set: kv["Verb"] = "set"; break;
      case TxnOp::Verb::cas: kv["Verb"] = "cas"; break;
      case TxnOp::Verb::lock: kv["Verb"] = "lock"; break;
      case TxnOp::Verb::unlock: kv["Verb"] = "unlock"; break;
      case TxnOp::Verb::get: kv["Verb"] = "get"; break;
      case TxnOp::Verb::check_index: kv["Verb"] = "check-index"; break;
      case TxnOp::Verb::check_session: kv["Verb"] = "check-session"; break;
      case TxnOp::Verb::check_not_exists: kv["Verb"] = "check-not-exists"; break;
      case TxnOp::Verb::remove: kv["Verb"] = "delete"; break;
      case TxnOp::Verb::delete_cas: kv["Verb"] = "delete-cas"; break;
    }
    kv["Key"] = op.key;
    if (op.verb == TxnOp::Verb::set || op.verb == TxnOp::Verb::cas || op.verb == TxnOp::Verb::lock)
      kv["Value"] = base64_encode(op.value);
    if (op.index) kv["Index"] = op.index;
    if (!op.session.empty()) kv["Session"] = op.session;
    body.push_back(json{{"KV", kv}});
  }
  return body.dump();
}

std::string encode_service_registration(const ServiceRegistration& r) {
  json body;
  body["ID"] = r.id;
  body["Name"] = r.name;
  if (!r.address.empty()) body["Address"] = r.address;
  if (r.port) body["Port"] = r.port;
  body["Tags"] = r.tags;
  if (!r.meta.empty()) body["Meta"] = r.meta;
  json checks = json::array();
  for (const auto& c : r.checks) {
    json check;
    check["CheckID"] = c.id;
    check["Name"] = c.name.empty() ? c.id : c.name;
    if (c.ttl.count() > 0) check["TTL"] = std::to_string(c.ttl.count()) + "ms";
    if (!c.initial_status.empty()) check["Status"] = c.initial_status;
    if (c.deregister_critical_after.count() > 0)
      check["DeregisterCriticalServiceAfter"] = std::to_string(c.deregister_critical_after.count()) + "s";
    checks.push_back(check);
  }
  body["Checks"] = checks;
  return body.dump();
}

}  // namespace hasup::consul
