#pragma once
// Records a supervisor keeps a copy of on its own disk (Patroni's keys, the
// rotating logins' records) and writes back when Consul's data is lost. One
// rule for who writes back: the newest copy of a majority of the nodes'. A
// node cut off before the loss holds an older copy, and any majority holds a
// node that kept up; a copy is never written back on fewer nodes' word.
#include <cstdint>
#include <map>
#include <string>

namespace hasup::cluster {

struct CopyVerdict {
  std::string restorer;  // "" while waiting
  std::string note;      // for the plan's reason and hactl status
};

// copies: node name -> how new its copy is (a number that only grows along
// the record's history), for every live node that has one (this one
// included); nodes: how many nodes the cluster has; what: the records'
// name ("Patroni's records"); measure: the number's name ("index").
// The restorer is the node with the newest copy, the lowest name among equals.
CopyVerdict newest_copy_verdict(const std::map<std::string, std::uint64_t>& copies, std::size_t nodes,
                                const std::string& what, const std::string& measure);

}  // namespace hasup::cluster
