#pragma once
// A planned switchover of the whole appliance (hactl switchover), as stored in
// Consul at PREFIX/intent/switchover (cluster/keys.hpp). The API writes it in
// phase "floating-ip" once its preview allowed it; the leader's loop carries it
// through the phases (decide.hpp), each step's duration kept in the record;
// an ended record (done or failed) stays for hactl and status to read, until
// the next request replaces it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hasup::switchover {

// floating_ip: the floating IP goes to `to` (drained first: writes flow);
// hold: every node's upload gate holds new writes, the leader waits until no
// write is left at a REST service; database: Patroni switches the primary to
// `to`, then the hold ends; done / failed: ended.
enum class Phase { floating_ip, hold, database, done, failed };
std::string to_string(Phase phase);  // "hold", "database", "floating-ip", "done", "failed"
bool ended(Phase phase);

struct Step {
  std::string name;  // the phase's word
  std::int64_t ms = 0;
  bool operator==(const Step&) const = default;
};

struct SwitchoverRecord {
  std::string id;            // "so-" and 8 hex digits: names the hold each gate acknowledges
  std::string from;          // the primary when requested
  std::string to;            // the member that serves writes once done
  std::string requested_by;  // "api@n2"
  std::string requested_at;  // UTC, as the API wrote it
  Phase phase = Phase::floating_ip;
  std::int64_t phase_started_ms = 0;  // wall clock (Unix ms) of the phase's start: any leader can time it
  std::int64_t hold_until_ms = 0;     // set with the hold: the gates release held writes then whatever happens
  std::vector<Step> steps;            // the ended phases, in order
  std::string outcome;                // done / failed: in words (which step failed, what was rolled back)
  bool operator==(const SwitchoverRecord&) const = default;
};

std::string encode(const SwitchoverRecord& record);

// A whole record or why not; never half-used.
struct SwitchoverDecode {
  std::optional<SwitchoverRecord> record;
  std::string error;
};
SwitchoverDecode decode_switchover(const std::string& text);

// The record moved on to `next` at `now_ms`: the ended phase's duration kept.
SwitchoverRecord advanced(const SwitchoverRecord& record, Phase next, std::int64_t now_ms, std::string outcome = {});

// Whether the switchover stored as `kv_text` waits for the database now (its
// phase "database"): the database driver probes the endpoint more often then.
bool database_phase(const std::string& kv_text);

}  // namespace hasup::switchover
