#pragma once
// Runs a short-lived program (e.g. `nginx -t`) with a deadline and captures
// its output. Blocking: call it off the loop's thread.
#include <chrono>
#include <string>
#include <vector>

namespace hasup {

struct CommandResult {
  int exit_code = -1;      // the program's exit status; -1 when it did not exit normally
  bool timed_out = false;  // killed at the deadline
  std::string output;      // stdout and stderr together, at most 64 KiB
  std::string error;       // it could not be started

  bool ok() const { return error.empty() && !timed_out && exit_code == 0; }
  // One line for a log or status: why it failed, with the program's own words.
  std::string summary() const;
};

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace hasup
