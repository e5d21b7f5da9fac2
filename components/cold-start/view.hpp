#pragma once
// The cold start's part of the snapshot (snapshot.hpp): this node's newest
// request to Patroni on the operator's acceptance. The acceptance itself is
// the cluster's (KvView::cold_start), decoded by decide.
#include <chrono>
#include <optional>
#include <string>

namespace hasup::loop {

struct ColdStartView {
  bool enabled = false;  // the Patroni backend runs here
  struct Attempt {
    std::string node;                     // the candidate asked for
    std::chrono::milliseconds ago{0};     // since its answer
    bool accepted = false;                // Patroni answered 200: it failed over
    std::string answer;                   // its status and words, or why none (printable, cut)
  };
  std::optional<Attempt> last_attempt;
  std::string drop_error;                 // the newest failure to drop a done acceptance (the primary's node)
};

}  // namespace hasup::loop
