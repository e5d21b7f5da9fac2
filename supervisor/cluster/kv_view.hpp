#pragma once
// Turns a recursive listing of the cluster prefix into the view decide() uses.
// Pure: a record that cannot be read is listed as unreadable with the reason,
// and is never half-used.
#include <vector>

#include "supervisor/cluster/keys.hpp"
#include "supervisor/consul/types.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::cluster {

loop::KvView build_kv_view(const std::vector<consul::KvEntry>& entries, const Keys& keys);

}  // namespace hasup::cluster
