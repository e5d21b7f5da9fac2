#pragma once
// Patroni's own records in Consul (initialize: the cluster's system
// identifier; config: its dynamic settings; sync: the members that may hold
// every acknowledged commit), copied on every node's disk by its supervisor.
// Consul's data lost (every server rebuilt, or wiped with the power) takes
// them away: Patroni would then let the first node it starts found the
// cluster with whatever it holds, a stale one included, or a node with an
// empty data directory initialise a new, empty one. The supervisors hold
// Patroni and write back the newest copy instead, from a majority of the
// nodes' copies (cluster/copy_verdict.hpp): a node cut off before the power
// loss has an older copy, and any majority includes a node that kept up.
// The copy's newness is the write-backs it comes after, then its index: a
// Consul rebuilt from nothing counts its indexes from 1 again, so a node down
// through two losses would otherwise hold the "newest" copy, from the first
// Raft log (cluster/copy_verdict.hpp: CopyNewness). Each write-back stores
// its count with the records, in one transaction (kWriteBacksKey). Patroni's
// own rules (the system identifier, the sync key) then decide again, as
// before the loss.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/consul/types.hpp"

namespace hasup::patroni {

// Beside Patroni's keys, in its namespace (Patroni reads only the names it
// knows): how many times they were written back. In Patroni's namespace, not
// the supervisor's prefix, so the write-back writes it with the records in
// one transaction, with Patroni's token; it goes with them when Consul's data
// is lost.
inline constexpr const char* kWriteBacksKey = "ha-supervisor-write-backs";

struct KeysCopy {
  std::uint64_t index = 0;  // the newest ModifyIndex among the three keys (Consul's, from before the loss)
  std::string initialize;   // never empty in a copy: only an initialised cluster is copied
  std::optional<std::string> config;
  std::optional<std::string> sync;
  std::uint64_t write_backs = 0;  // kWriteBacksKey's value then (absent: 0)
  bool operator==(const KeysCopy&) const = default;
};

std::string encode(const KeysCopy& copy);
struct KeysCopyDecode {
  std::optional<KeysCopy> copy;
  std::string error;
};
KeysCopyDecode decode_keys_copy(const std::string& text);

// The copy of what Consul holds under `prefix` ("service/mgrdb/"); none while
// the cluster is not initialised (no initialize key, or an empty one: a
// bootstrap under way), and none, with the error, while kWriteBacksKey holds
// anything but a decimal number (no copy is taken on a count it cannot
// trust; the one kept stays).
KeysCopyDecode keys_copy_of(const std::string& prefix, const std::vector<consul::KvEntry>& entries);

// What writes the copy back: one transaction, create-only, the initialize
// key last-in-order so Patroni never sees it without the sync key, and the
// count of write-backs one more than the copy's.
std::vector<consul::TxnOp> restore_ops(const std::string& prefix, const KeysCopy& copy);

}  // namespace hasup::patroni
