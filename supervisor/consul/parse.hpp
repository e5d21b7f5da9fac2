#pragma once
// Consul answers -> plain values. Pure functions: a body that is not exactly
// what the API documents is an Error, never a partly filled value.
#include <string>

#include "supervisor/consul/types.hpp"

namespace hasup::consul {

std::uint64_t parse_index_header(const std::string& value);  // 0 when absent or bad

Result<std::vector<KvEntry>> parse_kv_entries(const std::string& body);
Result<std::string> parse_session_id(const std::string& body);
Result<std::vector<SessionInfo>> parse_sessions(const std::string& body);
Result<TxnResult> parse_txn(int http_status, const std::string& body);
Result<std::vector<ServiceInstance>> parse_health_service(const std::string& body);
Result<AgentSelf> parse_agent_self(const std::string& body);
Result<std::vector<GossipMember>> parse_agent_members(const std::string& body);
Result<std::string> parse_status_leader(const std::string& body);
// GET /v1/agent/checks (an object by check id) or /v1/health/node/NODE (an
// array): each entry's CheckID and Status.
Result<CheckStatuses> parse_check_statuses(const std::string& body);

// Requests -> JSON bodies.
std::string encode_session_spec(const SessionSpec& spec);
std::string encode_txn(const std::vector<TxnOp>& ops);
std::string encode_service_registration(const ServiceRegistration& registration);

}  // namespace hasup::consul
