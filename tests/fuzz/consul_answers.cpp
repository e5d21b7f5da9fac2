// Consul's answers (supervisor/consul/parse.hpp): every body the client reads,
// the X-Consul-Index header, base64 values, and a KV listing on to the view
// decide() uses (supervisor/cluster/kv_view.hpp). The parsers return a value
// or an Error, and are never to throw.
#include "supervisor/cluster/kv_view.hpp"
#include "supervisor/consul/parse.hpp"
#include "supervisor/util/base64.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace hasup;
using fuzz::must_hold;

enum Parser : std::uint8_t {
  index_header, kv_entries, session_id, sessions, txn_committed, txn_rolled_back, health_service,
  agent_self, agent_members, status_leader, base64, check_statuses, count
};

// Consul's values travel as base64 both ways (supervisor/util/base64.hpp):
// what was decoded encodes back to text that decodes to the same bytes, and
// any bytes survive the trip.
void check_base64(const std::string& text) {
  auto decoded = base64_decode(text);
  if (decoded) {
    auto again = base64_decode(base64_encode(decoded.value()));
    must_hold(again && again.value() == decoded.value());
  }
  auto trip = base64_decode(base64_encode(text));
  must_hold(trip && trip.value() == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [parser, body] = fuzz::pick(data, size, Parser::count);
  switch (parser) {
    case index_header: consul::parse_index_header(body); break;
    case kv_entries:
      // The cluster's own prefix, as the supervisor reads it (cluster/keys.hpp).
      if (auto entries = consul::parse_kv_entries(body)) cluster::build_kv_view(entries.value(), cluster::Keys{"ha-supervisor"});
      break;
    case session_id: consul::parse_session_id(body); break;
    case sessions: consul::parse_sessions(body); break;
    case txn_committed: consul::parse_txn(200, body); break;
    case txn_rolled_back: consul::parse_txn(409, body); break;
    case health_service: consul::parse_health_service(body); break;
    case agent_self: consul::parse_agent_self(body); break;
    case agent_members: consul::parse_agent_members(body); break;
    case status_leader: consul::parse_status_leader(body); break;
    case base64: check_base64(body); break;
    case check_statuses: consul::parse_check_statuses(body); break;
  }
  return 0;
}
