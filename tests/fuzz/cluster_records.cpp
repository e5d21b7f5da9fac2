// The records the supervisors share through Consul (supervisor/cluster/records.hpp)
// and the node memory file (supervisor/cluster/known_nodes.hpp). Another node,
// another version or anyone with KV write access may have written them. Each
// has an encoder too: a record read once must encode to text that reads back
// as the same record, else a node republishing what it read would change it.
// A node's event ring (supervisor/events) too, then merged and tied into
// incidents as GET /events does. The manager's database login's record
// (components/db-login/record.hpp): the leader runs SQL with what it names.
// The operator's intents: a planned switchover (components/switchover/record.hpp,
// the leader asks Patroni and moves the floating IP on what it names) and a
// cold start's accepted founder (components/cold-start/record.hpp), and the
// cluster's pause (components/pause/record.hpp: while it says paused nothing fails over).
// The syncthing key rotation's record (components/syncthing/key_record.hpp:
// a node makes a new key when it names a newer generation) and the node's own
// journal of a rotation under way (a file a crash may have cut short).
#include "components/cold-start/record.hpp"
#include "components/pause/record.hpp"
#include "components/db-login/record.hpp"
#include "components/switchover/record.hpp"
#include "components/syncthing/key_record.hpp"
#include "supervisor/cluster/known_nodes.hpp"
#include "supervisor/cluster/records.hpp"
#include "supervisor/events/event.hpp"
#include "supervisor/events/timeline.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace hasup::cluster;
using hasup::fuzz::must_hold;

enum Parser : std::uint8_t { member, node, forgotten, leader_value, maintenance, cluster_state, remembered, event_ring,
                             login_record, switchover_record, cold_start_record, pause_record, syncthing_key_record,
                             pending_key, count };

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [parser, text] = hasup::fuzz::pick(data, size, Parser::count);
  switch (parser) {
    case member:
      if (auto read = decode_member(text); read.record) must_hold(decode_member(encode(*read.record)).record == read.record);
      break;
    case node:
      if (auto read = decode_node(text)) must_hold(decode_node(encode(*read)) == read);
      break;
    case forgotten:
      if (auto read = decode_forgotten(text)) must_hold(decode_forgotten(encode(*read)) == read);
      break;
    case leader_value:
      if (auto read = decode_leader_value(text)) {
        auto again = decode_leader_value(encode(*read));
        must_hold(again && again->name == read->name && again->address == read->address);
      }
      break;
    case maintenance:
      if (auto read = decode_maintenance(text)) {
        auto again = decode_maintenance(encode(*read));
        must_hold(again && again->enabled == read->enabled && again->requested_by == read->requested_by &&
                  again->at == read->at);
      }
      break;
    case cluster_state:
      if (auto read = decode_cluster_state(text); read.state)
        must_hold(decode_cluster_state(encode(*read.state)).state == read.state);
      break;
    case remembered:
      if (auto read = decode_remembered(text); read.nodes)
        must_hold(decode_remembered(encode_remembered(*read.nodes)).nodes == read.nodes);
      break;
    case login_record:
      if (auto read = hasup::db_login::decode_login_record(text); read.record) {
        must_hold(hasup::db_login::decode_login_record(hasup::db_login::encode(*read.record)).record == read.record);
        hasup::db_login::record_problem(*read.record, "manager");
        read.record->target();
      }
      break;
    case switchover_record:
      if (auto read = hasup::switchover::decode_switchover(text); read.record) {
        must_hold(hasup::switchover::decode_switchover(hasup::switchover::encode(*read.record)).record == read.record);
        must_hold(hasup::switchover::database_phase(text) == (read.record->phase == hasup::switchover::Phase::database));
      }
      break;
    case pause_record:
      if (auto read = hasup::pause::decode_pause(text); read.record)
        must_hold(hasup::pause::decode_pause(hasup::pause::encode(*read.record)).record == read.record);
      break;
    case cold_start_record:
      if (auto read = hasup::cold_start::decode_accept(text); read.record)
        must_hold(hasup::cold_start::decode_accept(hasup::cold_start::encode(*read.record)).record == read.record);
      break;
    case syncthing_key_record:
      if (auto read = hasup::syncthing::decode_key_rotation(text); read.record) {
        must_hold(read.record->generation > 0);
        must_hold(hasup::syncthing::decode_key_rotation(hasup::syncthing::encode(*read.record)).record == read.record);
      }
      break;
    case pending_key:
      // A journal read back is one a rotation may act on: two usable keys that
      // differ and a generation from 1.
      if (auto read = hasup::syncthing::decode_pending_key(text)) {
        must_hold(read->generation > 0 && read->key != read->previous);
        must_hold(hasup::syncthing::usable_api_key(read->key) && hasup::syncthing::usable_api_key(read->previous));
        must_hold(hasup::syncthing::decode_pending_key(hasup::syncthing::encode(*read)) == read);
      }
      break;
    case event_ring:
      if (auto read = hasup::events::decode_ring("n1", text); read.error.empty()) {
        must_hold(hasup::events::decode_ring("n1", hasup::events::encode_ring("n1", read.events)).events == read.events);
        auto merged = hasup::events::merge_rings({{"n1", read.events}});
        hasup::events::assign_incidents(merged);
        must_hold(merged.size() == read.events.size());
      }
      break;
  }
  return 0;
}
