#include "components/upload-gate/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <fstream>
#include <functional>
#include <libconfig.h++>
#include <map>
#include <set>
#include <sstream>

#include "supervisor/http/request_reading.hpp"

namespace hasup::upload_gate {

namespace {

using libconfig::Setting;

// Collects errors with file:line; every check runs, so all errors show at once.
class Checker {
 public:
  explicit Checker(std::string name) : name_(std::move(name)) {}
  void error(const Setting* at, const std::string& message) {
    int line = at ? static_cast<int>(at->getSourceLine()) : 0;
    errors_.push_back(name_ + ":" + (line > 0 ? std::to_string(line) : std::string("-")) + ": " + message);
  }
  std::vector<std::string> take() { return std::move(errors_); }

 private:
  std::string name_;
  std::vector<std::string> errors_;
};

// The keys a group may hold; anything else is an error (a typo must not
// silently leave a default in place).
void check_keys(Checker& check, const Setting& group, const std::string& where, const std::set<std::string>& known) {
  for (int i = 0; i < group.getLength(); ++i) {
    const Setting& child = group[i];
    if (!child.getName()) continue;
    if (!known.count(child.getName())) {
      std::string list;
      for (auto& k : known) list += (list.empty() ? "" : ", ") + k;
      check.error(&child, "unknown key '" + where + child.getName() + "' (known: " + list + ")");
    }
  }
}

const Setting* child(const Setting& group, const char* key) {
  return group.exists(key) ? &group[key] : nullptr;
}

bool read_int(Checker& check, const Setting& group, const char* key, const std::string& full, long long min,
              long long max, long long& out) {
  const Setting* s = child(group, key);
  if (!s) return false;
  if (s->getType() != Setting::TypeInt && s->getType() != Setting::TypeInt64) {
    check.error(s, full + " must be an integer");
    return false;
  }
  long long value = s->getType() == Setting::TypeInt ? static_cast<long long>(static_cast<int>(*s))
                                                     : static_cast<long long>(*s);
  if (value < min || value > max) {
    check.error(s, full + " = " + std::to_string(value) + " is out of range " + std::to_string(min) + ".." +
                       std::to_string(max));
    return false;
  }
  out = value;
  return true;
}

bool read_string(Checker& check, const Setting& group, const char* key, const std::string& full, std::string& out) {
  const Setting* s = child(group, key);
  if (!s) return false;
  if (s->getType() != Setting::TypeString) {
    check.error(s, full + " must be a string");
    return false;
  }
  out = static_cast<const char*>(*s);
  return true;
}

void read_ms(Checker& check, const Setting& group, const char* key, const std::string& full, long long min,
             long long max, std::chrono::milliseconds& out) {
  long long v = 0;
  if (read_int(check, group, key, full, min, max, v)) out = std::chrono::milliseconds(v);
}

const Setting* group_of(Checker& check, const Setting& root, const char* key) {
  const Setting* s = child(root, key);
  if (s && !s->isGroup()) {
    check.error(s, std::string(key) + " must be a group: " + key + " = { ... };");
    return nullptr;
  }
  return s;
}

void read_address_port(Checker& check, const Setting& root, const char* key, std::string& address,
                       unsigned short& port) {
  const Setting* g = group_of(check, root, key);
  if (!g) return;
  std::string prefix = std::string(key) + ".";
  check_keys(check, *g, prefix, {"address", "port"});
  if (read_string(check, *g, "address", prefix + "address", address)) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(address, ec);
    if (ec) check.error(child(*g, "address"), prefix + "address '" + address + "' is not an IP address");
  }
  long long p = 0;
  if (read_int(check, *g, "port", prefix + "port", 1, 65535, p)) port = static_cast<unsigned short>(p);
}

void read_syncthing(Checker& check, const Setting& root, GateConfig& config) {
  const Setting* g = group_of(check, root, "syncthing");
  if (!g) return;
  check_keys(check, *g, "syncthing.", {"api_url", "api_key_file", "timeout_ms"});
  if (read_string(check, *g, "api_url", "syncthing.api_url", config.syncthing_url)) {
    // Only the local syncthing: its API key must not cross a network.
    const std::string scheme = "http://127.0.0.1:";
    std::string rest = config.syncthing_url.rfind(scheme, 0) == 0 ? config.syncthing_url.substr(scheme.size()) : "";
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    bool digits = !rest.empty() && rest.size() <= 5 && rest.find_first_not_of("0123456789") == std::string::npos;
    long port = digits ? std::stol(rest) : 0;
    if (port < 1 || port > 65535)
      check.error(child(*g, "api_url"), "syncthing.api_url '" + config.syncthing_url +
                                           "' must be http://127.0.0.1:PORT (the local syncthing only)");
    else
      config.syncthing_port = static_cast<unsigned short>(port);
  }
  read_string(check, *g, "api_key_file", "syncthing.api_key_file", config.api_key_file);
  read_ms(check, *g, "timeout_ms", "syncthing.timeout_ms", 100, 60000, config.syncthing_timeout);
}

void read_rules(Checker& check, const Setting& root, GateConfig& config) {
  const Setting* rules = child(root, "rules");
  if (!rules) return;
  if (!rules->isList()) {
    check.error(rules, "rules must be a list: rules = ( { methods = [\"PUT\"]; path_prefix = \"/\"; } );");
    return;
  }
  config.rules.clear();
  for (int i = 0; i < rules->getLength(); ++i) {
    const Setting& r = (*rules)[i];
    std::string where = "rules[" + std::to_string(i) + "]";
    if (!r.isGroup()) {
      check.error(&r, where + " must be a group { methods = [...]; path_prefix = \"...\"; }");
      continue;
    }
    check_keys(check, r, where + ".", {"methods", "path_prefix"});
    WriteRule rule;
    rule.methods.clear();
    const Setting* methods = child(r, "methods");
    if (!methods || !methods->isArray() || methods->getLength() == 0) {
      check.error(methods ? methods : &r, where + ".methods must be a non-empty array of strings, e.g. [\"PUT\"]");
    } else {
      for (int m = 0; m < methods->getLength(); ++m) {
        if ((*methods)[m].getType() != Setting::TypeString) {
          check.error(&(*methods)[m], where + ".methods must hold strings");
          continue;
        }
        std::string method = static_cast<const char*>((*methods)[m]);
        if (auto why = check_method_name(method); !why.empty()) check.error(&(*methods)[m], where + ": " + why);
        rule.methods.push_back(method);
      }
    }
    if (read_string(check, r, "path_prefix", where + ".path_prefix", rule.path_prefix) &&
        (rule.path_prefix.empty() || rule.path_prefix[0] != '/'))
      check.error(child(r, "path_prefix"), where + ".path_prefix must start with '/'");
    config.rules.push_back(std::move(rule));
  }
  if (config.rules.empty()) check.error(rules, "rules is empty: no request would ever be gated");
}

void read_replication(Checker& check, const Setting& root, GateConfig& config) {
  const Setting* g = group_of(check, root, "replication");
  if (!g) return;
  check_keys(check, *g, "replication.",
             {"quorum", "min_peers", "timeout_ms", "min_rate_kib_s", "max_timeout_ms", "on_timeout", "durability",
              "durability_file", "poll_interval_ms", "retry_after_s"});
  if (const Setting* q = child(*g, "quorum")) {
    if (q->getType() == Setting::TypeString) {
      std::string value = static_cast<const char*>(*q);
      if (value == "all-connected") {
        config.quorum.all_connected = true;
      } else {
        check.error(q, "replication.quorum '" + value + "' must be \"all-connected\" or a number of peers (1..31)");
      }
    } else {
      long long n = 0;
      if (read_int(check, *g, "quorum", "replication.quorum (a number of peers)", 1, 31, n)) {
        config.quorum.all_connected = false;
        config.quorum.count = static_cast<int>(n);
      }
    }
  }
  long long min_peers = 0;
  if (read_int(check, *g, "min_peers", "replication.min_peers", 1, 31, min_peers))
    config.quorum.min_peers = static_cast<int>(min_peers);
  read_ms(check, *g, "timeout_ms", "replication.timeout_ms", 100, 600000, config.timeout);
  long long rate = 0;
  if (read_int(check, *g, "min_rate_kib_s", "replication.min_rate_kib_s", 1, 10 * 1024 * 1024, rate))
    config.min_rate_kib_s = static_cast<std::uint64_t>(rate);
  read_ms(check, *g, "max_timeout_ms", "replication.max_timeout_ms", 100, 86400000, config.max_timeout);
  std::string on_timeout;
  if (read_string(check, *g, "on_timeout", "replication.on_timeout", on_timeout)) {
    if (on_timeout == "fail") config.on_timeout = OnTimeout::fail;
    else if (on_timeout == "warn") config.on_timeout = OnTimeout::warn;
    else check.error(child(*g, "on_timeout"), "replication.on_timeout '" + on_timeout + "' must be \"fail\" or \"warn\"");
  }
  std::string durability;
  if (read_string(check, *g, "durability", "replication.durability", durability)) {
    if (durability == "strict") config.durability = Durability::strict;
    else if (durability == "available") config.durability = Durability::available;
    else check.error(child(*g, "durability"), "replication.durability '" + durability + "' must be \"strict\" or \"available\"");
  }
  if (read_string(check, *g, "durability_file", "replication.durability_file", config.durability_file) &&
      !config.durability_file.empty() && (config.durability_file[0] != '/' || config.durability_file.back() == '/'))
    check.error(child(*g, "durability_file"),
                "replication.durability_file '" + config.durability_file + "' must be an absolute path to a file, or \"\"");
  read_ms(check, *g, "poll_interval_ms", "replication.poll_interval_ms", 20, 5000, config.poll_interval);
  long long retry = 0;
  if (read_int(check, *g, "retry_after_s", "replication.retry_after_s", 1, 3600, retry))
    config.retry_after = std::chrono::seconds(retry);
}

void read_limits(Checker& check, const Setting& root, GateConfig& config) {
  const Setting* g = group_of(check, root, "limits");
  if (!g) return;
  check_keys(check, *g, "limits.",
             {"header_bytes", "header_timeout_ms", "idle_timeout_ms", "body_grace_ms", "body_min_rate_bytes_s",
              "body_max_ms", "upstream_timeout_ms", "max_connections", "max_connections_per_client",
              "held_response_bytes", "relay_chunk_bytes"});
  auto& l = config.limits;
  long long v = 0;
  // At most half the read buffer's cap (http::kReadBufferLimit): a header
  // meets its own limit (431) before the buffer's.
  if (read_int(check, *g, "header_bytes", "limits.header_bytes", 1024, http::kReadBufferLimit / 2, v)) l.header_bytes = v;
  read_ms(check, *g, "header_timeout_ms", "limits.header_timeout_ms", 100, 600000, l.header_timeout);
  read_ms(check, *g, "idle_timeout_ms", "limits.idle_timeout_ms", 100, 3600000, l.idle_timeout);
  read_ms(check, *g, "body_grace_ms", "limits.body_grace_ms", 0, 3600000, l.body_pace.grace);
  if (read_int(check, *g, "body_min_rate_bytes_s", "limits.body_min_rate_bytes_s", 0, 1LL << 30, v))
    l.body_pace.min_rate_bytes_s = v;
  read_ms(check, *g, "body_max_ms", "limits.body_max_ms", 1000, 86400000, l.body_pace.max_duration);
  read_ms(check, *g, "upstream_timeout_ms", "limits.upstream_timeout_ms", 100, 3600000, l.upstream_timeout);
  if (read_int(check, *g, "max_connections", "limits.max_connections", 1, 100000, v)) l.max_connections = v;
  // 0: no cap per address.
  if (read_int(check, *g, "max_connections_per_client", "limits.max_connections_per_client", 0, 100000, v))
    l.max_connections_per_client = v;
  if (read_int(check, *g, "held_response_bytes", "limits.held_response_bytes", 1024, 256LL << 20, v))
    l.held_response_bytes = v;
  if (read_int(check, *g, "relay_chunk_bytes", "limits.relay_chunk_bytes", 4096, 16LL << 20, v))
    l.relay_chunk_bytes = v;
}

bool is_inside(const std::string& path, const std::string& dir) {
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return path.rfind(prefix + "/", 0) == 0;
}

void read_hold_path(Checker& check, const Setting& group, const char* key, std::string& out) {
  const std::string full = std::string("hold.") + key;
  if (!read_string(check, group, key, full, out)) return;
  if (out.empty() || out[0] != '/' || out.back() == '/')
    check.error(child(group, key), full + " '" + out + "' must be an absolute path to a file");
}

void read_hold(Checker& check, const Setting& root, GateConfig& config) {
  const Setting* g = group_of(check, root, "hold");
  if (!g) return;
  check_keys(check, *g, "hold.", {"file", "ack_file", "max_ms"});
  read_hold_path(check, *g, "file", config.hold.file);
  read_hold_path(check, *g, "ack_file", config.hold.ack_file);
  read_ms(check, *g, "max_ms", "hold.max_ms", 1000, 60000, config.hold.max);
  if (config.hold.file == config.hold.ack_file)
    check.error(child(*g, "ack_file"), "hold.ack_file is hold.file ('" + config.hold.file +
                                           "'): the gate would answer itself");
}

// The key gives full control of syncthing: owned by root (or by the user the
// gate runs as) and readable by nobody else.
void read_api_key(Checker& check, const Setting* at, GateConfig& config) {
  struct stat st {};
  if (stat(config.api_key_file.c_str(), &st) != 0) {
    check.error(at, "syncthing.api_key_file '" + config.api_key_file + "' cannot be read: does not exist");
    return;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid())
    check.error(at, "syncthing.api_key_file '" + config.api_key_file + "' must be owned by root");
  if (st.st_mode & 077) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    check.error(at, "syncthing.api_key_file '" + config.api_key_file + "' has mode 0" + mode.str() +
                        ": must be 0600 (it holds syncthing's API key)");
  }
  std::ifstream in(config.api_key_file);
  std::string key;
  std::getline(in, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (!in && key.empty()) {
    check.error(at, "syncthing.api_key_file '" + config.api_key_file + "' cannot be read");
    return;
  }
  if (key.empty() || key.find_first_of(" \t\"") != std::string::npos)
    check.error(at, "syncthing.api_key_file '" + config.api_key_file + "' must hold the API key on its first line");
  config.api_key = key;
}

LoadResult check_root(const libconfig::Config& file, const std::string& name) {
  Checker check(name);
  GateConfig config;
  const Setting& root = file.getRoot();
  check_keys(check, root, "",
             {"listen", "upstream", "metrics", "folder", "syncthing", "rules", "replication", "limits", "threads",
              "log_level", "hold"});
  read_address_port(check, root, "listen", config.listen_address, config.listen_port);
  if (root.exists("metrics")) {
    read_address_port(check, root, "metrics", config.metrics_address, config.metrics_port);
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(config.metrics_address, ec);
    // Counts and timings of every write: for this node's own scraper, not the network.
    const Setting* g = child(root, "metrics");
    if (!ec && !address.is_loopback())
      check.error(g && g->isGroup() ? child(*g, "address") : g,
                  "metrics.address '" + config.metrics_address + "' must be a loopback address (127.0.0.1)");
  }
  read_address_port(check, root, "upstream", config.upstream_address, config.upstream_port);
  if (const Setting* g = group_of(check, root, "folder")) {
    check_keys(check, *g, "folder.", {"id", "path"});
    if (read_string(check, *g, "id", "folder.id", config.folder_id) && config.folder_id.empty())
      check.error(child(*g, "id"), "folder.id cannot be empty");
    if (read_string(check, *g, "path", "folder.path", config.folder_path)) {
      struct stat st {};
      if (config.folder_path.empty() || config.folder_path[0] != '/')
        check.error(child(*g, "path"), "folder.path '" + config.folder_path + "' must be an absolute path");
      else if (stat(config.folder_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        check.error(child(*g, "path"), "folder.path '" + config.folder_path + "' is not a directory");
    }
  } else {
    check.error(nullptr, "folder = { id = \"...\"; path = \"...\"; } is required");
  }
  read_syncthing(check, root, config);
  read_rules(check, root, config);
  read_replication(check, root, config);
  read_hold(check, root, config);
  read_limits(check, root, config);
  long long threads = 0;
  if (read_int(check, root, "threads", "threads", 1, 64, threads)) config.threads = static_cast<int>(threads);
  if (read_string(check, root, "log_level", "log_level", config.log_level)) {
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
    if (!levels.count(config.log_level))
      check.error(child(root, "log_level"), "log_level '" + config.log_level + "' must be trace, debug, info, warn or error");
  }
  if (!config.quorum.all_connected && config.quorum.count < config.quorum.min_peers)
    check.error(child(root, "replication"), "replication.quorum = " + std::to_string(config.quorum.count) +
                                                " is below replication.min_peers = " +
                                                std::to_string(config.quorum.min_peers));
  if (config.listen_address == config.upstream_address && config.listen_port == config.upstream_port)
    check.error(child(root, "listen"), "listen and upstream are the same address and port: the gate would call itself");
  // Inside the replicated folder the hold's files would travel to the peers and
  // count as changes of the writes in flight.
  for (const auto* path : {&config.hold.file, &config.hold.ack_file})
    if (is_inside(*path, config.folder_path))
      check.error(child(root, "hold"), "hold: '" + *path + "' is inside folder.path '" + config.folder_path +
                                           "' (replicated): use a runtime directory such as /run");
  if (!config.durability_file.empty() && is_inside(config.durability_file, config.folder_path))
    check.error(child(root, "replication"), "replication.durability_file '" + config.durability_file +
                                                "' is inside folder.path '" + config.folder_path +
                                                "' (replicated): use a runtime directory such as /run");
  const Setting* syncthing = child(root, "syncthing");
  read_api_key(check, syncthing && syncthing->exists("api_key_file") ? &(*syncthing)["api_key_file"] : syncthing,
               config);

  LoadResult result;
  result.errors = check.take();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

}  // namespace

LoadResult load_config_text(const std::string& text, const std::string& name) {
  libconfig::Config file;
  try {
    file.readString(text);
  } catch (const libconfig::ParseException& e) {
    LoadResult r;
    r.errors.push_back(name + ":" + std::to_string(e.getLine()) + ": " + e.getError());
    return r;
  }
  return check_root(file, name);
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.errors.push_back(path + ": cannot be read");
    return r;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), path);
}

const char* durability_name(Durability durability) {
  return durability == Durability::available ? "available" : "strict";
}

std::string describe(const QuorumRule& quorum) {
  if (quorum.all_connected) return "all-connected (min " + std::to_string(quorum.min_peers) + ")";
  return std::to_string(quorum.count) + " peer(s)";
}

}  // namespace hasup::upload_gate
