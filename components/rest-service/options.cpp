#include "components/rest-service/options.hpp"

#include <libpq-fe.h>

#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "supervisor/util/number_from.hpp"

namespace hasup::rest_standin {

const char* const kUsage =
    "usage: rest-standin (--db-file FILE | --db CONNINFO) [--listen ADDR] [--port N]\n"
    "                    [--resources DIR] [--max-body BYTES] [--threads N]\n"
    "                    [--max-connections N] [--body-min-rate BYTES_PER_S] [--body-grace-ms MS]\n"
    "                    [--reconnect-pause-ms MS] [--check]\n"
    "  --db-file FILE     a file holding the libpq connection string (it may hold a\n"
    "                     password: keep it root-only; the installed unit uses this);\n"
    "                     SIGHUP reads it again (a password rotation): each connection\n"
    "                     switches at its next use, a bad file keeps the one in use\n"
    "  --db CONNINFO      the connection string itself, e.g. \"host=127.0.0.1 port=5432\n"
    "                     dbname=manager user=manager connect_timeout=2 target_session_attrs=read-write\"\n"
    "                     (visible to every local user in ps: never with a password)\n"
    "  --listen ADDR      IP address to listen on (default 127.0.0.1)\n"
    "  --port N           TCP port (default 8100)\n"
    "  --resources DIR    resources root; archives go to DIR/blueprints/ID/archive\n"
    "                     (default /opt/manager/resources)\n"
    "  --max-body BYTES   largest accepted upload, larger ones get 413 (default 2147483648)\n"
    "  --threads N        request threads, each with its own database connection (default 4)\n"
    "  --max-connections N  open connections at most; beyond: 503 with Retry-After (default 640)\n"
    "  --body-min-rate BYTES_PER_S  an upload's least average rate after the grace; slower: 408\n"
    "                     (default 1024; 0: none)\n"
    "  --body-grace-ms MS  the start of an upload that may be slower (default 10000)\n"
    "  --reconnect-pause-ms MS  after a failed connect, status checks and reads answer with\n"
    "                     that failure for this long instead of connecting again; writes\n"
    "                     connect anyway (default 300)\n"
    "  --check            check the options, print \"ok\" and exit (0 when valid)\n"
    "A stand-in for the manager's REST service, for HA tests: see its README.md.\n";

namespace {

// libpq's own parser, so a typo is reported at start rather than at first use.
std::string conninfo_error(const std::string& conninfo) {
  char* message = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &message);
  std::string error;
  if (!parsed) error = message ? message : "cannot parse";
  if (parsed) PQconninfoFree(parsed);
  if (message) PQfreemem(message);
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  return error;
}

}  // namespace

// Whole, at most 64 KiB, trailing blanks and the newline dropped.
std::string read_conninfo_file(const std::string& path, std::string& conninfo) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "'" + path + "' is not a readable file";
  if (std::filesystem::file_size(path, ec) > 65536) return "'" + path + "' is larger than 64 KiB";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read '" + path + "'";
  std::ostringstream text;
  text << in.rdbuf();
  conninfo = text.str();
  while (!conninfo.empty() && (conninfo.back() == '\n' || conninfo.back() == '\r' || conninfo.back() == ' '))
    conninfo.pop_back();
  if (conninfo.empty()) return "'" + path + "' is empty";
  if (conninfo.find('\n') != std::string::npos) return "'" + path + "' holds more than one line";
  // libpq's message may quote the offending piece, which may be part of the password.
  if (!conninfo_error(conninfo).empty()) return "'" + path + "' does not hold a connection string libpq can parse";
  return {};
}

ParsedOptions parse_options(const std::vector<std::string>& args) {
  ParsedOptions out;
  Options options;
  bool have_db = false, have_db_file = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name == "--help" || name == "-h") {
      out.help = true;
      continue;
    }
    if (name == "--check") {
      options.check_only = true;
      continue;
    }
    if (name != "--listen" && name != "--port" && name != "--resources" && name != "--db" && name != "--db-file" &&
        name != "--max-body" && name != "--threads" && name != "--max-connections" && name != "--body-min-rate" &&
        name != "--body-grace-ms" && name != "--reconnect-pause-ms") {
      out.errors.push_back("unknown option '" + name + "'");
      continue;
    }
    if (i + 1 >= args.size()) {
      out.errors.push_back(name + ": a value is required");
      continue;
    }
    const std::string& value = args[++i];
    if (name == "--listen") {
      boost::system::error_code ec;
      boost::asio::ip::make_address(value, ec);
      if (ec) out.errors.push_back("--listen: '" + value + "' is not an IP address");
      options.listen = value;
    } else if (name == "--port") {
      auto port = number_from<std::uint64_t>(value);
      if (!port || *port < 1 || *port > 65535) {
        out.errors.push_back("--port: '" + value + "' is not a port number (1-65535)");
      } else {
        options.port = static_cast<unsigned short>(*port);
      }
    } else if (name == "--resources") {
      if (value.empty() || value.front() != '/')
        out.errors.push_back("--resources: '" + value + "' is not an absolute path");
      options.resources = value;
    } else if (name == "--db") {
      have_db = true;
      if (value.empty()) {
        out.errors.push_back("--db: empty connection string");
      } else if (auto error = conninfo_error(value); !error.empty()) {
        out.errors.push_back("--db: " + error);
      }
      options.db = value;
    } else if (name == "--db-file") {
      have_db_file = true;
      options.db_file = value;
      if (auto error = read_conninfo_file(value, options.db); !error.empty()) out.errors.push_back("--db-file: " + error);
    } else if (name == "--max-body") {
      auto bytes = number_from<std::uint64_t>(value);
      if (!bytes || *bytes < 1) {
        out.errors.push_back("--max-body: '" + value + "' is not a positive number of bytes");
      } else {
        options.max_body = *bytes;
      }
    } else if (name == "--max-connections") {
      auto n = number_from<std::uint64_t>(value);
      if (!n || *n < 1 || *n > 100000) {
        out.errors.push_back("--max-connections: '" + value + "' is not between 1 and 100000");
      } else {
        options.max_connections = *n;
      }
    } else if (name == "--body-min-rate") {
      auto n = number_from<std::uint64_t>(value);
      if (!n || *n > (std::uint64_t{1} << 30)) {
        out.errors.push_back("--body-min-rate: '" + value + "' is not a number of bytes per second");
      } else {
        options.body_min_rate = *n;
      }
    } else if (name == "--body-grace-ms") {
      auto n = number_from<std::uint64_t>(value);
      if (!n || *n > 3600000) {
        out.errors.push_back("--body-grace-ms: '" + value + "' is not between 0 and 3600000");
      } else {
        options.body_grace_ms = *n;
      }
    } else if (name == "--reconnect-pause-ms") {
      auto n = number_from<std::uint64_t>(value);
      if (!n || *n > 600000) {
        out.errors.push_back("--reconnect-pause-ms: '" + value + "' is not between 0 and 600000");
      } else {
        options.reconnect_pause_ms = *n;
      }
    } else if (name == "--threads") {
      auto threads = number_from<std::uint64_t>(value);
      if (!threads || *threads < 1 || *threads > 64) {
        out.errors.push_back("--threads: '" + value + "' is not between 1 and 64");
      } else {
        options.threads = static_cast<int>(*threads);
      }
    }
  }
  if (have_db && have_db_file) out.errors.push_back("--db, --db-file: give one, not both");
  if (!have_db && !have_db_file && !out.help) out.errors.push_back("--db-file (or --db): required");
  if (out.errors.empty()) out.options = options;
  return out;
}

}  // namespace hasup::rest_standin
