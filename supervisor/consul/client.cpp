#include "supervisor/consul/client.hpp"

#include "supervisor/consul/parse.hpp"

namespace hasup::consul {

namespace {

Error status_error(const http::Response& r) {
  std::string text = r.body.substr(0, 200);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return Error{Error::Kind::status, r.status, text};
}

bool success(int status) { return status >= 200 && status < 300; }

// "true"/"false" bodies of KV put, delete, session renew... anything else is a parse error.
Result<bool> parse_bool_body(const std::string& body) {
  std::string trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
  if (trimmed == "true") return true;
  if (trimmed == "false") return false;
  return Error{Error::Kind::parse, 0, "expected true or false"};
}

}  // namespace

Client::Client(boost::asio::io_context& io, ClientSettings settings) : io_(io), settings_(std::move(settings)) {}

std::string Client::read_query(const ReadOptions& options) {
  std::string q;
  auto add = [&q](const std::string& part) { q += (q.empty() ? "?" : "&") + part; };
  if (options.consistency == Consistency::stale) add("stale");
  if (options.consistency == Consistency::consistent) add("consistent");
  if (options.index > 0) {
    add("index=" + std::to_string(options.index));
    if (options.wait.count() > 0) add("wait=" + std::to_string(options.wait.count()) + "s");
  }
  return q;
}

std::chrono::milliseconds Client::timeout_for(const ReadOptions& options) const {
  if (options.index == 0) return settings_.request_timeout;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(options.wait.count() > 0 ? options.wait
                                                                                            : std::chrono::seconds(300));
  return wait + wait / 16 + settings_.request_timeout;
}

void Client::call(http::Method method, std::string target, std::string body, std::chrono::milliseconds timeout,
                  RawHandler done) {
  http::Request request;
  request.method = method;
  request.target = std::move(target);
  request.body = std::move(body);
  if (!request.body.empty()) request.content_type = "application/json";
  if (!settings_.token.empty()) request.headers.emplace_back("X-Consul-Token", settings_.token);
  http::Policy policy;
  policy.timeout = timeout;
  policy.pool = pool_;
  http::async_request(io_, settings_.agent, std::move(request), policy, [done = std::move(done)](http::Outcome o) {
    if (!o.ok) {
      done(Error{o.timed_out ? Error::Kind::timeout : Error::Kind::transport, 0, o.error});
      return;
    }
    done(std::move(o.response));
  });
}

void Client::kv_get(const std::string& key, const ReadOptions& options, Handler<KvRead> done) {
  call(http::Method::get, "/v1/kv/" + http::url_encode(key, true) + read_query(options), {}, timeout_for(options),
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         const auto& response = r.value();
         KvRead read;
         read.index = parse_index_header(response.header("x-consul-index"));
         if (response.status == 404) return done(read);
         if (!success(response.status)) return done(status_error(response));
         auto entries = parse_kv_entries(response.body);
         if (!entries) return done(entries.error());
         if (entries.value().size() != 1)
           return done(Error{Error::Kind::parse, 0, "kv get: expected one entry"});
         read.entry = std::move(entries.value().front());
         done(read);
       });
}

void Client::kv_list(const std::string& prefix, const ReadOptions& options, Handler<KvTree> done) {
  std::string query = read_query(options);
  query += query.empty() ? "?recurse" : "&recurse";
  call(http::Method::get, "/v1/kv/" + http::url_encode(prefix, true) + query, {}, timeout_for(options),
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         const auto& response = r.value();
         KvTree tree;
         tree.index = parse_index_header(response.header("x-consul-index"));
         if (response.status == 404) return done(tree);
         if (!success(response.status)) return done(status_error(response));
         auto entries = parse_kv_entries(response.body);
         if (!entries) return done(entries.error());
         tree.entries = std::move(entries.value());
         done(tree);
       });
}

void Client::kv_put(const std::string& key, std::string value, const PutOptions& options, Handler<bool> done) {
  std::string query;
  auto add = [&query](const std::string& part) { query += (query.empty() ? "?" : "&") + part; };
  if (options.cas) add("cas=" + std::to_string(*options.cas));
  if (!options.acquire.empty()) add("acquire=" + http::url_encode(options.acquire));
  if (!options.release.empty()) add("release=" + http::url_encode(options.release));
  call(http::Method::put, "/v1/kv/" + http::url_encode(key, true) + query, std::move(value), settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_bool_body(r.value().body));
       });
}

void Client::kv_delete(const std::string& key, std::optional<std::uint64_t> cas, bool recurse, Handler<bool> done) {
  std::string query;
  if (cas) query = "?cas=" + std::to_string(*cas);
  if (recurse) query += query.empty() ? "?recurse" : "&recurse";
  call(http::Method::del, "/v1/kv/" + http::url_encode(key, true) + query, {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_bool_body(r.value().body));
       });
}

void Client::txn(const std::vector<TxnOp>& ops, Handler<TxnResult> done) {
  call(http::Method::put, "/v1/txn", encode_txn(ops), settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         done(parse_txn(r.value().status, r.value().body));
       });
}

void Client::session_create(const SessionSpec& spec, Handler<std::string> done) {
  call(http::Method::put, "/v1/session/create", encode_session_spec(spec), settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_session_id(r.value().body));
       });
}

void Client::session_renew(const std::string& id, Handler<bool> done) {
  call(http::Method::put, "/v1/session/renew/" + http::url_encode(id), {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (r.value().status == 404) return done(false);
         if (!success(r.value().status)) return done(status_error(r.value()));
         auto sessions = parse_sessions(r.value().body);
         if (!sessions) return done(sessions.error());
         done(!sessions.value().empty());
       });
}

void Client::session_destroy(const std::string& id, Handler<bool> done) {
  call(http::Method::put, "/v1/session/destroy/" + http::url_encode(id), {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_bool_body(r.value().body));
       });
}

void Client::session_info(const std::string& id, Handler<std::optional<SessionInfo>> done) {
  call(http::Method::get, "/v1/session/info/" + http::url_encode(id), {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         auto sessions = parse_sessions(r.value().body);
         if (!sessions) return done(sessions.error());
         if (sessions.value().empty()) return done(std::optional<SessionInfo>{});
         done(std::optional<SessionInfo>{sessions.value().front()});
       });
}

void Client::sessions_on_node(const std::string& node, Handler<std::vector<SessionInfo>> done) {
  call(http::Method::get, "/v1/session/node/" + http::url_encode(node), {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_sessions(r.value().body));
       });
}

void Client::lock_acquire(const std::string& key, const std::string& session, std::string value, Handler<bool> done) {
  PutOptions options;
  options.acquire = session;
  kv_put(key, std::move(value), options, std::move(done));
}

void Client::lock_release(const std::string& key, const std::string& session, Handler<bool> done) {
  PutOptions options;
  options.release = session;
  kv_put(key, {}, options, std::move(done));
}

void Client::service_register(const ServiceRegistration& registration, Handler<bool> done) {
  call(http::Method::put, "/v1/agent/service/register", encode_service_registration(registration),
       settings_.request_timeout, [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(true);
       });
}

void Client::service_deregister(const std::string& service_id, Handler<bool> done) {
  call(http::Method::put, "/v1/agent/service/deregister/" + http::url_encode(service_id), {},
       settings_.request_timeout, [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(true);
       });
}

void Client::check_pass(const std::string& check_id, const std::string& note, Handler<bool> done) {
  call(http::Method::put, "/v1/agent/check/pass/" + http::url_encode(check_id) + "?note=" + http::url_encode(note), {},
       settings_.request_timeout, [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(true);
       });
}

void Client::check_fail(const std::string& check_id, const std::string& note, Handler<bool> done) {
  call(http::Method::put, "/v1/agent/check/fail/" + http::url_encode(check_id) + "?note=" + http::url_encode(note), {},
       settings_.request_timeout, [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(true);
       });
}

void Client::health_service(const std::string& name, bool passing_only, const ReadOptions& options,
                            Handler<HealthList> done) {
  std::string query = read_query(options);
  if (passing_only) query += query.empty() ? "?passing" : "&passing";
  call(http::Method::get, "/v1/health/service/" + http::url_encode(name) + query, {}, timeout_for(options),
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         auto instances = parse_health_service(r.value().body);
         if (!instances) return done(instances.error());
         HealthList list;
         list.index = parse_index_header(r.value().header("x-consul-index"));
         list.instances = std::move(instances.value());
         done(list);
       });
}

void Client::agent_self(Handler<AgentSelf> done) {
  call(http::Method::get, "/v1/agent/self", {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_agent_self(r.value().body));
       });
}

void Client::agent_members(Handler<std::vector<GossipMember>> done) {
  call(http::Method::get, "/v1/agent/members", {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_agent_members(r.value().body));
       });
}

void Client::agent_checks(Handler<CheckStatuses> done) {
  call(http::Method::get, "/v1/agent/checks", {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_check_statuses(r.value().body));
       });
}

void Client::node_checks(const std::string& node, Handler<CheckStatuses> done) {
  call(http::Method::get, "/v1/health/node/" + http::url_encode(node), {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_check_statuses(r.value().body));
       });
}

void Client::agent_reload(Handler<bool> done) {
  call(http::Method::put, "/v1/agent/reload", {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(true);
       });
}

void Client::agent_join(const std::string& address, Handler<bool> done) {
  call(http::Method::put, "/v1/agent/join/" + http::url_encode(address), {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(true);
       });
}

void Client::status_leader(Handler<std::string> done) {
  call(http::Method::get, "/v1/status/leader", {}, settings_.request_timeout,
       [done = std::move(done)](Result<http::Response> r) {
         if (!r) return done(r.error());
         if (!success(r.value().status)) return done(status_error(r.value()));
         done(parse_status_leader(r.value().body));
       });
}

}  // namespace hasup::consul
