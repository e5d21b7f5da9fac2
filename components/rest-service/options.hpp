#pragma once
// The command line of rest-standin: every option, its default and its check.
// Every error is reported at once, like the supervisor's config schema.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hasup::rest_standin {

struct Options {
  std::string listen = "127.0.0.1";
  unsigned short port = 8100;  // Cloudify's REST service port behind nginx
  std::string resources = "/opt/manager/resources";
  std::string db;                                   // libpq conninfo
  std::string db_file;  // --db-file, read again at SIGHUP; empty with --db
  std::uint64_t max_body = std::uint64_t{2} << 30;  // 2 GiB
  int threads = 4;
  // The defaults of session.hpp's Limits, which these override.
  std::optional<std::size_t> max_connections;
  std::optional<std::uint64_t> body_min_rate;        // bytes/s after the grace
  std::optional<std::uint64_t> body_grace_ms;
  std::optional<std::uint64_t> reconnect_pause_ms;  // DbSettings::reconnect_pause
  bool check_only = false;  // --check: validate the command line and exit
};

struct ParsedOptions {
  std::optional<Options> options;  // set when there is no error
  std::vector<std::string> errors;
  bool help = false;
};

extern const char* const kUsage;

ParsedOptions parse_options(const std::vector<std::string>& args);

// Reads the conninfo of --db-file into `conninfo`: at start, and again at each
// SIGHUP. Gives "" or what is wrong, which never quotes the content (it holds
// a password).
std::string read_conninfo_file(const std::string& path, std::string& conninfo);

}  // namespace hasup::rest_standin
