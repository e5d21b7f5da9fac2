// hactl's command line, parsed without side effects: what to call and where,
// or the one sentence that says which word was not understood.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hasup::cli {

struct HactlCommand {
  enum class Kind { status, health, leader, maintenance, forget, events, incidents, incident, settings_show,
                    settings_set, settings_unset, rotate, cold_start, switchover, pause, resume };
  Kind kind = Kind::status;
  bool json = false;                 // status --json, events --json
  bool follow = false;               // events --follow
  std::string since;                 // events --since: a UTC time as given ("" none) ...
  std::optional<long> since_seconds_ago;  // ... or how long ago (30s, 10m, 2h, 1d)
  bool maintenance_on = false;       // maintenance on|off
  std::string node;                  // maintenance's NODE (optional), forget's NODE
  std::string incident;              // incident's ID
  std::vector<std::pair<std::string, std::string>> settings;  // settings set KEY=VALUE...
  std::vector<std::string> unset;    // settings unset KEY...
  std::string secret;                // rotate's SECRET
  long timeout_s = 120;              // rotate/cold-start/switchover --timeout S: how long hactl waits for the end
  std::string accept;                // cold-start --accept NODE ("": show the state)
  bool dry_run = false;              // cold-start --accept NODE --dry-run, switchover --dry-run
  std::string to;                    // switchover --to NODE ("": the first fit synchronous standby)
  bool cancel = false;               // cold-start --cancel
  std::string reason;                // pause --reason TEXT ("" none)
  std::optional<std::string> api;    // --api HOST:PORT, as given
  std::optional<unsigned short> api_port;
  std::optional<std::string> config; // --config FILE
  std::optional<std::string> token_file;  // --token-file FILE: the API's write token
};

struct HactlArgs {
  std::optional<HactlCommand> command;
  std::string error;  // set when command is empty: what was wrong, in one line
};

HactlArgs parse_hactl_args(const std::vector<std::string>& args);

struct ApiAddress {
  std::string host;
  unsigned short port = 0;
};
// HOST:PORT (the last ':' splits, so an IPv6 host keeps its colons; a port
// 1-65535), or nullopt. --api's value and what `ha-supervisor --print-api` says.
std::optional<ApiAddress> parse_api_address(const std::string& value);

extern const char* const kHactlUsage;

}  // namespace hasup::cli
