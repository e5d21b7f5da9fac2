#pragma once
// The cluster's nodes, alive or not, as every component uses them: Consul's
// registrations (PREFIX/nodes/), plus the nodes this node remembers that
// vanished from Consul without an operator forgetting them.
//
// A node leaves the cluster only through `hactl forget NAME`, which leaves a
// tombstone (PREFIX/forgotten/NAME). A registration that is merely missing
// (Consul's data lost or reset, an ACL token that cannot read nodes/) is not
// a departure: applying it would leave every keepalived alone and MASTER,
// make the VRRP filter drop every peer's adverts, and have syncthing drop
// every device. Pure: tested by feeding views.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "supervisor/cluster/records.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::cluster {

using NodeMap = std::map<std::string, NodeRegistration>;

// nodes = registered ∪ (remembered − forgotten − registered); a registration
// in Consul wins over the memory (a new address or device id) and over a
// tombstone (the node registered again after it was forgotten). Before the
// first read of Consul nothing is known: no nodes. `self` is never counted as
// kept: it registers itself again (decide_cluster).
loop::KnownNodes known_nodes(const loop::KvView& kv, const NodeMap& remembered, const std::string& self);

// The addresses of the cluster's nodes, this one included, as every component
// admits them (keepalived's peers, the VRRP filter, PostgreSQL's pg_hba): the
// known nodes, alive or not (a node that is down now comes back), plus live
// members that have not registered yet.
std::set<std::string> node_addresses(const loop::KnownNodes& known, const loop::KvView& kv);

// The memory file: {"schema": 1, "nodes": [registration, ...]}.
std::string encode_remembered(const NodeMap& nodes);
struct RememberedDecode {
  std::optional<NodeMap> nodes;  // all of them, or none
  std::string error;
};
RememberedDecode decode_remembered(const std::string& json_text);

}  // namespace hasup::cluster
