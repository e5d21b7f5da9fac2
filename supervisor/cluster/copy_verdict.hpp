#pragma once
// Records a supervisor keeps a copy of on its own disk (Patroni's keys, the
// rotating logins' records) and writes back when Consul's data is lost. One
// rule for who writes back: the newest copy of a majority of the nodes'. A
// node cut off before the loss holds an older copy, and any majority holds a
// node that kept up; a copy is never written back on fewer nodes' word
// unless the operator accepts its holder as founder (hactl cold-start).
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "supervisor/cluster/records.hpp"

namespace hasup::cluster {

// How new a copy is. First, how many times the records had been written back
// into a Consul that lost its data before the copy was taken: a rebuilt
// Consul counts its indexes from 1 again, so a node down through two losses
// keeps a copy whose index (from the first Raft log) is higher than those
// taken since; any copy taken after a write-back is newer than every copy
// from before it. Then the number that grows along the record's history (its
// index, its revision).
struct CopyNewness {
  std::uint64_t write_backs = 0;
  std::uint64_t number = 0;
  auto operator<=>(const CopyNewness&) const = default;
};
// "index 77", or "index 40 after 1 write-back" (measure: "index").
std::string newness_text(const std::string& measure, const CopyNewness& newness);

struct CopyVerdict {
  std::string restorer;  // "" while waiting
  std::string note;      // for the plan's reason and hactl status
};

// The copies newest_copy_verdict weighs: this node's own (`own`, when it
// has one) and each other live member's as its record publishes it
// (`published`: the record's field, nullopt when that member has none).
template <class Published>
std::map<std::string, CopyNewness> gather_copies(const std::string& self, std::optional<CopyNewness> own,
                                                 const std::map<std::string, MemberRecord>& members,
                                                 Published published) {
  std::map<std::string, CopyNewness> copies;
  if (own) copies[self] = *own;
  for (const auto& [name, member] : members) {
    const std::optional<CopyNewness> theirs = published(member);
    if (name != self && theirs) copies[name] = *theirs;
  }
  return copies;
}

// copies: node name -> how new its copy is, for every live node that has
// one (this one included); nodes: how many nodes the cluster has; what: the records'
// name ("Patroni's records"); measure: the number's name ("index").
// The restorer is the node with the newest copy, the lowest name among equals.
// With copies on fewer than a majority, nobody writes back on the nodes' word
// alone; the operator may then accept a founder (`accepted`, from hactl
// cold-start --accept NODE, "" for none): if it holds a copy, it writes its
// copy back, knowing that a node still down may hold a newer one.
CopyVerdict newest_copy_verdict(const std::map<std::string, CopyNewness>& copies, std::size_t nodes,
                                const std::string& what, const std::string& measure,
                                const std::string& accepted = {});

}  // namespace hasup::cluster
