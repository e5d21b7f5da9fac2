#pragma once
// The switchover's part of the snapshot (snapshot.hpp): this node's write
// hold as written for its upload gate, the gate's acknowledgement, and the
// leader's newest request to Patroni. The switchover itself is the cluster's
// (KvView::switchover), decoded by decide.
#include <optional>
#include <string>

namespace hasup::loop {

struct SwitchoverView {
  bool enabled = false;      // the Patroni backend runs here: a switchover may be asked of this node
  bool hold_writes = false;  // this node's upload gate holds writes on request (switchover.hold_writes)
  std::string hold_written;  // the id in the hold file now; "" none
  std::string held_ack;      // the id the gate says it holds with no write at the REST service; "" none
  std::string hold_error;    // the newest failure to write or remove the hold file, or to read the ack
  struct PatroniAnswer {
    std::string id;          // the switchover asked
    bool switched = false;   // Patroni answered 200
    std::string words;       // its status and words, or why none (printable, cut)
  };
  std::optional<PatroniAnswer> patroni_answer;
  std::string patroni_woken;  // "id step" of this node's last wake of its Patroni (WakePatroni)
  std::string write_error;   // the newest failure to write the record
};

}  // namespace hasup::loop
