#pragma once
// Consul's HTTP API over Beast, asynchronous, every call bounded in time.
// Blocking queries get wait + wait/16 (Consul's own jitter) + the request
// timeout, so a cut-off agent costs at most that, never an unbounded hang.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "supervisor/consul/types.hpp"
#include "supervisor/http/client.hpp"

namespace hasup::consul {

struct ClientSettings {
  http::Endpoint agent{"127.0.0.1", 8500};
  std::string token;  // ACL token, sent as X-Consul-Token; never logged
  std::chrono::milliseconds request_timeout{2000};
};

template <class T>
using Handler = std::function<void(Result<T>)>;

class Client {
 public:
  Client(boost::asio::io_context& io, ClientSettings settings);

  // Live changes (SIGHUP): later calls use the new values.
  void set_token(std::string token) { settings_.token = std::move(token); }
  void set_request_timeout(std::chrono::milliseconds t) { settings_.request_timeout = t; }
  const ClientSettings& settings() const { return settings_; }
  const http::ConnectionPool& connections() const { return *pool_; }

  void kv_get(const std::string& key, const ReadOptions& options, Handler<KvRead> done);
  void kv_list(const std::string& prefix, const ReadOptions& options, Handler<KvTree> done);
  // true when written; false when a CAS or acquire was refused.
  void kv_put(const std::string& key, std::string value, const PutOptions& options, Handler<bool> done);
  void kv_delete(const std::string& key, std::optional<std::uint64_t> cas, bool recurse, Handler<bool> done);
  void txn(const std::vector<TxnOp>& ops, Handler<TxnResult> done);

  void session_create(const SessionSpec& spec, Handler<std::string> done);
  // false when Consul no longer knows the session (it was invalidated).
  void session_renew(const std::string& id, Handler<bool> done);
  void session_destroy(const std::string& id, Handler<bool> done);
  void session_info(const std::string& id, Handler<std::optional<SessionInfo>> done);
  void sessions_on_node(const std::string& node, Handler<std::vector<SessionInfo>> done);

  void lock_acquire(const std::string& key, const std::string& session, std::string value, Handler<bool> done);
  void lock_release(const std::string& key, const std::string& session, Handler<bool> done);

  void service_register(const ServiceRegistration& registration, Handler<bool> done);
  void service_deregister(const std::string& service_id, Handler<bool> done);
  void check_pass(const std::string& check_id, const std::string& note, Handler<bool> done);
  void check_fail(const std::string& check_id, const std::string& note, Handler<bool> done);

  void health_service(const std::string& name, bool passing_only, const ReadOptions& options,
                      Handler<HealthList> done);
  void agent_self(Handler<AgentSelf> done);
  void agent_members(Handler<std::vector<GossipMember>> done);
  // The local agent's checks as it runs them, and the catalog's record of
  // NODE's checks (from the servers: it needs a leader).
  void agent_checks(Handler<CheckStatuses> done);
  void node_checks(const std::string& node, Handler<CheckStatuses> done);
  // The agent reads its config files again and syncs its whole local state
  // to the catalog (a full anti-entropy run). Needs agent:write.
  void agent_reload(Handler<bool> done);
  // The local agent joins gossip through ADDRESS (its serf LAN port): a
  // push/pull of member state both ways, at once.
  void agent_join(const std::string& address, Handler<bool> done);
  void status_leader(Handler<std::string> done);

 private:
  using RawHandler = std::function<void(Result<http::Response>)>;
  void call(http::Method method, std::string target, std::string body, std::chrono::milliseconds timeout,
            RawHandler done);
  std::chrono::milliseconds timeout_for(const ReadOptions& options) const;
  static std::string read_query(const ReadOptions& options);

  boost::asio::io_context& io_;
  ClientSettings settings_;
  // Every call to the agent reuses a kept connection when one is idle: a new
  // HTTPS connection per call (about 13 a second) cost each node ~2.3 % of a
  // core in TLS handshakes (bench/idle_cost.sh).
  std::shared_ptr<http::ConnectionPool> pool_ = std::make_shared<http::ConnectionPool>();
};

}  // namespace hasup::consul
