#include "supervisor/cli/hactl_args.hpp"

#include <charconv>

#include "supervisor/util/number_from.hpp"

namespace hasup::cli {

const char* const kHactlUsage =
    "usage: hactl [--api HOST:PORT | --config FILE] [--token-file FILE] COMMAND\n"
    "commands:\n"
    "  status [--json]          the cluster as this node sees it\n"
    "  health                   this node's health (exit 0 when healthy)\n"
    "  leader                   exit 0 when this node is the leader\n"
    "  maintenance on|off [NODE]  write maintenance intent (default: this node)\n"
    "  forget NODE              remove a node that is down for good from the cluster\n"
  "  events [--follow] [--since T] [--node N] [--json]\n"
  "                           the cluster's event timeline (T: a UTC time or 30s, 10m, 2h, 1d ago)\n"
  "  incidents [--json]       the flight recorder: each incident and how long its phases took\n"
  "  incident ID [--json]     one incident as a timeline\n"
  "  settings [--json]        the cluster's settings (set for every node through Consul) and each node's\n"
  "  settings set KEY=VALUE...  set cluster-wide keys (ha-supervisor --help-config: CLUSTER yes)\n"
  "  settings unset KEY...    back to each node's own file for these keys\n"
  "  rotate db-password|replication-password|syncthing-key [--timeout S]\n"
  "                           a new password for the manager's database login or the replication login,\n"
  "                           or a new syncthing API key on every node, with no failed request; waits\n"
  "                           for the end (default 120 s), exit 0 once the old one is refused\n"
  "  cold-start               after a power loss of every node: whom the database waits for\n"
  "  cold-start --accept NODE [--dry-run] [--timeout S]\n"
  "                           found the database on NODE although it missed commits (what it loses is\n"
  "                           printed; --dry-run only prints); exit 0 once NODE is primary\n"
  "  cold-start --cancel      remove a stored acceptance\n"
  "  switchover [--to NODE] [--dry-run] [--timeout S]\n"
  "                           move the primary, the writes and the floating IP to NODE (default: a fit\n"
  "                           synchronous standby) with writes held, not failed; --dry-run prints the plan\n"
  "                           or what blocks it; exit 0 once NODE serves writes\n"
  "  pause [--reason TEXT]    the whole cluster stops its automatic moves (no failover, no floating IP\n"
  "                           move but by VRRP, no settings pushed), for work on Consul or PostgreSQL\n"
  "  resume                   the automatic rules apply again\n"
    "The API address defaults to 127.0.0.1:8801, or the api.* keys of --config FILE\n"
    "(read by the ha-supervisor next to hactl: one config parser, one schema).\n"
    "maintenance, forget, settings set/unset, rotate, switchover, pause, resume and cold-start --accept/--cancel need the supervisor's API token, a root-only file:\n"
    "/run/ha-supervisor/api-token, api.token_file of --config FILE, or --token-file.\n";

namespace {

HactlArgs fail(std::string why) { return HactlArgs{std::nullopt, std::move(why)}; }

// One word at most after the command's own: anything more is named, not ignored.
std::string extra_word(const std::vector<std::string>& args, std::size_t from, const std::string& command) {
  if (from >= args.size()) return {};
  return "'" + command + "' does not take '" + args[from] + "'";
}

// 30s, 10m, 2h, 1d: seconds; nullopt otherwise.
std::optional<long> seconds_ago(const std::string& value) {
  long n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || n < 0 || n > 10000000 || end + 1 != value.data() + value.size()) return std::nullopt;
  switch (*end) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
  }
  return std::nullopt;
}

// --timeout's seconds, 1-86400; nullopt otherwise.
std::optional<long> timeout_seconds(const std::string& value) {
  auto seconds = number_from<long>(value);
  if (!seconds || *seconds < 1 || *seconds > 86400) return std::nullopt;
  return seconds;
}

// The API checks the format exactly; here only enough to tell a time from a typo.
bool looks_like_utc(const std::string& value) {
  return value.size() >= 20 && value.size() <= 24 && value[4] == '-' && value[10] == 'T' && value.back() == 'Z';
}

}  // namespace

std::optional<ApiAddress> parse_api_address(const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  auto port = port_number(std::string_view(value).substr(colon + 1));
  if (!port) return std::nullopt;
  return ApiAddress{value.substr(0, colon), *port};
}

HactlArgs parse_hactl_args(const std::vector<std::string>& args) {
  HactlCommand c;
  std::size_t i = 0;
  while (i < args.size() && args[i].rfind("--", 0) == 0) {
    const std::string& option = args[i];
    if (option != "--api" && option != "--config" && option != "--token-file")
      return fail("unknown option '" + option + "' (options go before the command: --api, --config, --token-file)");
    if (i + 1 >= args.size()) return fail(option + " needs a value");
    const std::string& value = args[i + 1];
    if (option == "--api") {
      auto address = parse_api_address(value);
      if (!address) return fail("--api wants HOST:PORT (a port 1-65535), not '" + value + "'");
      c.api = address->host;
      c.api_port = address->port;
    } else if (option == "--config") {
      c.config = value;
    } else {
      c.token_file = value;
    }
    i += 2;
  }
  if (c.api && c.config) return fail("--api and --config both name the API: give one");
  if (i >= args.size()) return fail("no command given");
  const std::string command = args[i++];
  if (command == "status") {
    c.kind = HactlCommand::Kind::status;
    if (i < args.size() && args[i] == "--json") {
      c.json = true;
      ++i;
    }
  } else if (command == "health") {
    c.kind = HactlCommand::Kind::health;
  } else if (command == "leader") {
    c.kind = HactlCommand::Kind::leader;
  } else if (command == "maintenance") {
    c.kind = HactlCommand::Kind::maintenance;
    if (i >= args.size() || (args[i] != "on" && args[i] != "off"))
      return fail("'maintenance' wants on or off" + (i < args.size() ? ", not '" + args[i] + "'" : std::string()));
    c.maintenance_on = args[i++] == "on";
    if (i < args.size()) c.node = args[i++];
  } else if (command == "forget") {
    c.kind = HactlCommand::Kind::forget;
    if (i >= args.size()) return fail("'forget' wants the NODE to forget");
    c.node = args[i++];
  } else if (command == "events") {
    c.kind = HactlCommand::Kind::events;
    while (i < args.size()) {
      const std::string& option = args[i];
      if (option == "--follow") {
        c.follow = true;
        ++i;
      } else if (option == "--json") {
        c.json = true;
        ++i;
      } else if (option == "--since" || option == "--node") {
        if (i + 1 >= args.size()) return fail("'events " + option + "' needs a value");
        const std::string& value = args[i + 1];
        if (option == "--node") {
          c.node = value;
        } else if (auto ago = seconds_ago(value)) {
          c.since_seconds_ago = *ago;
        } else if (looks_like_utc(value)) {
          c.since = value;
        } else {
          return fail("'events --since' wants a UTC time (2026-12-04T20:42:24Z) or an age (30s, 10m, 2h, 1d), not '" +
                      value + "'");
        }
        i += 2;
      } else {
        return fail("'events' does not take '" + option + "'");
      }
    }
  } else if (command == "incidents" || command == "incident") {
    c.kind = command == "incidents" ? HactlCommand::Kind::incidents : HactlCommand::Kind::incident;
    if (c.kind == HactlCommand::Kind::incident) {
      if (i >= args.size() || args[i].rfind("--", 0) == 0) return fail("'incident' wants the incident's ID (hactl incidents lists them)");
      c.incident = args[i++];
    }
    if (i < args.size() && args[i] == "--json") {
      c.json = true;
      ++i;
    }
  } else if (command == "settings") {
    c.kind = HactlCommand::Kind::settings_show;
    const std::string verb = i < args.size() ? args[i] : "";
    if (verb == "set" || verb == "unset") {
      ++i;
      c.kind = verb == "set" ? HactlCommand::Kind::settings_set : HactlCommand::Kind::settings_unset;
      for (; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (verb == "unset") {
          c.unset.push_back(word);
          continue;
        }
        const auto equals = word.find('=');
        if (equals == std::string::npos || equals == 0)
          return fail("'settings set' wants KEY=VALUE (e.g. vip.unfit_grace_ms=2500), not '" + word + "'");
        c.settings.emplace_back(word.substr(0, equals), word.substr(equals + 1));
      }
      if (c.settings.empty() && c.unset.empty()) return fail("'settings " + verb + "' wants at least one key");
    } else if (verb == "--json") {
      c.json = true;
      ++i;
    } else if (!verb.empty() && verb != "show") {
      return fail("'settings' wants show, set or unset, not '" + verb + "'");
    } else if (verb == "show") {
      ++i;
      if (i < args.size() && args[i] == "--json") {
        c.json = true;
        ++i;
      }
    }
  } else if (command == "rotate") {
    c.kind = HactlCommand::Kind::rotate;
    if (i >= args.size() || args[i].rfind("--", 0) == 0)
      return fail("'rotate' wants the secret: db-password, replication-password or syncthing-key");
    c.secret = args[i++];
    if (c.secret == "consul-tokens")
      return fail("'rotate consul-tokens' is not built yet: db-password, replication-password and syncthing-key rotate");
    if (c.secret != "db-password" && c.secret != "replication-password" && c.secret != "syncthing-key")
      return fail("'rotate' knows db-password, replication-password and syncthing-key, not '" + c.secret + "'");
    if (i < args.size() && args[i] == "--timeout") {
      auto timeout = timeout_seconds(i + 1 < args.size() ? args[i + 1] : "");
      if (!timeout) return fail("'rotate --timeout' wants seconds, 1-86400");
      c.timeout_s = *timeout;
      i += 2;
    }
  } else if (command == "cold-start") {
    c.kind = HactlCommand::Kind::cold_start;
    while (i < args.size()) {
      const std::string& option = args[i];
      if (option == "--dry-run") {
        c.dry_run = true;
        ++i;
      } else if (option == "--cancel") {
        c.cancel = true;
        ++i;
      } else if (option == "--accept" || option == "--timeout") {
        if (i + 1 >= args.size()) return fail("'cold-start " + option + "' needs a value");
        const std::string& value = args[i + 1];
        if (option == "--accept") {
          c.accept = value;
        } else {
          auto timeout = timeout_seconds(value);
          if (!timeout) return fail("'cold-start --timeout' wants seconds, 1-86400");
          c.timeout_s = *timeout;
        }
        i += 2;
      } else {
        return fail("'cold-start' does not take '" + option + "'");
      }
    }
    if (c.cancel && (!c.accept.empty() || c.dry_run)) return fail("'cold-start --cancel' takes nothing else");
    if (c.dry_run && c.accept.empty()) return fail("'cold-start --dry-run' goes with --accept NODE");
  } else if (command == "switchover") {
    c.kind = HactlCommand::Kind::switchover;
    while (i < args.size()) {
      const std::string& option = args[i];
      if (option == "--dry-run") {
        c.dry_run = true;
        ++i;
      } else if (option == "--to" || option == "--timeout") {
        if (i + 1 >= args.size()) return fail("'switchover " + option + "' needs a value");
        const std::string& value = args[i + 1];
        if (option == "--to") {
          c.to = value;
        } else {
          auto timeout = timeout_seconds(value);
          if (!timeout) return fail("'switchover --timeout' wants seconds, 1-86400");
          c.timeout_s = *timeout;
        }
        i += 2;
      } else {
        return fail("'switchover' does not take '" + option + "'");
      }
    }
  } else if (command == "pause") {
    c.kind = HactlCommand::Kind::pause;
    if (i < args.size() && args[i] == "--reason") {
      if (i + 1 >= args.size()) return fail("'pause --reason' needs a value");
      c.reason = args[i + 1];
      i += 2;
    }
  } else if (command == "resume") {
    c.kind = HactlCommand::Kind::resume;
  } else {
    return fail("unknown command '" + command + "'");
  }
  if (auto extra = extra_word(args, i, command); !extra.empty()) return fail(extra);
  return HactlArgs{c, {}};
}

}  // namespace hasup::cli
