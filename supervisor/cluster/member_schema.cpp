#include "supervisor/cluster/member_schema.hpp"

#include <algorithm>
#include <map>

namespace hasup::cluster {

namespace {

// Each node's newest readable schema: the lower of its registration's and its
// record's word (a node downgraded after it registered says so in its record).
std::map<std::string, int> reads_by_node(const loop::KvView& kv) {
  std::map<std::string, int> reads = kv.registered_reads_schema;
  for (const auto& [name, record] : kv.members) {
    auto [it, added] = reads.emplace(name, record.reads_schema);
    if (!added) it->second = std::min(it->second, record.reads_schema);
  }
  return reads;
}

}  // namespace

int member_schema_to_write(const loop::KvView& kv) {
  int schema = newest_member_schema();
  for (const auto& [name, reads] : reads_by_node(kv)) schema = std::min(schema, reads);
  return std::max(schema, kOldestMemberSchema);
}

std::string member_schema_note(const loop::KvView& kv) {
  const int newest = newest_member_schema();
  const int written = member_schema_to_write(kv);
  if (written >= newest) return {};
  std::string behind;
  for (const auto& [name, reads] : reads_by_node(kv))
    if (reads < newest) behind += (behind.empty() ? "" : ", ") + name + " reads up to " + std::to_string(reads);
  return "member records written in schema " + std::to_string(written) + ", not this supervisor's " +
         std::to_string(newest) + ", until every node reads it (" + behind + ": an upgrade under way?)";
}

}  // namespace hasup::cluster
