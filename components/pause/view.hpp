#pragma once
// The pause's part of the snapshot (snapshot.hpp): whether this node's
// Patroni follows the cluster's pause, and the newest answer it gave the
// leader. The pause itself is the cluster's (KvView::pause), decoded by decide.
#include <chrono>
#include <optional>
#include <string>

namespace hasup::loop {

struct PauseView {
  bool patroni = false;  // the Patroni backend runs here: the leader pauses and resumes it
  struct PatroniAnswer {
    bool paused = false;  // what was asked
    bool ok = false;      // Patroni answered 200
    std::string words;    // its status and words, or why none (printable, cut)
    std::chrono::milliseconds ago{0};
  };
  std::optional<PatroniAnswer> patroni_answer;
};

}  // namespace hasup::loop
