#pragma once
// Whether a gated write may be acknowledged: which peers hold every changed
// file, against the configured quorum. Pure, so every rule is unit-tested.
#include <set>
#include <string>
#include <vector>

#include "components/upload-gate/config.hpp"

namespace hasup::upload_gate {

struct Peer {
  std::string id;    // syncthing device id
  std::string name;  // device name (the node's name: n2)
  bool connected = false;
};

struct MissingPeer {
  std::string name;
  std::string reason;  // "not connected", "not in sync yet"
};

struct QuorumDecision {
  bool met = false;
  std::vector<std::string> replicated_to;  // names of peers holding every changed file, sorted
  std::vector<MissingPeer> missing;        // the folder's other peers, and why
  std::size_t required = 0;                // how many holders the rule asked for
  std::string reason;                      // one sentence for the log and the error body
};

// peers: the folder's devices other than this one. holders: ids of the peers
// known to hold the current version of every changed file.
QuorumDecision decide_quorum(const QuorumRule& rule, const std::vector<Peer>& peers,
                             const std::set<std::string>& holders);

// "n2, n3" and "n3 (not connected), n4 (not in sync yet)".
std::string join_names(const std::vector<std::string>& names);
std::string join_missing(const std::vector<MissingPeer>& missing);

}  // namespace hasup::upload_gate
