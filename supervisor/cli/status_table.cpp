#include "supervisor/cli/status_table.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "supervisor/cli/json_fields_text.hpp"
#include "supervisor/cli/pause_text.hpp"
#include "supervisor/cli/rotation_text.hpp"
#include "supervisor/cli/switchover_text.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::cli {

using nlohmann::json;

namespace {

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "?";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "?";
  if (it->is_string()) return it->get<std::string>().empty() ? "-" : terminal_safe(it->get<std::string>());
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
}

// An array element for the terminal: a string made safe, anything else "?".
std::string shown(const json& element) { return element.is_string() ? terminal_safe(element.get<std::string>()) : "?"; }

const json& member(const json& object, const char* key) {
  static const json none;
  if (!object.is_object()) return none;
  auto it = object.find(key);
  return it == object.end() ? none : *it;
}

void print_rows(std::ostringstream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

// A daemon found running an older file than its config (the supervisor
// stopped between writing it and the reload): said only when it happened.
void print_older_file(std::ostringstream& out, const json& section, const std::string& prefix) {
  const std::string reloads = text(section, "older_file_reloads");
  if (reloads != "0" && reloads != "?")
    out << prefix << "was running an older file than its config: reloaded " << reloads << " time(s)\n";
  const std::string error = text(section, "older_file_error");
  if (error != "-" && error != "?") out << prefix << "runs an older file than its config; the reload failed: " << error << "\n";
}

// A watched volume's room (util::filesystem_space_json), when the node says.
void print_filesystem_space(std::ostringstream& out, const std::string& label, const json& space) {
  if (!space.is_object()) return;
  out << label << (member(space, "text").is_string() ? text(space, "text") : "not read: " + text(space, "error")) << "\n";
}

// The supervisor's version on each live member, one line: the same on every
// node, or each version with its nodes (a rolling upgrade under way, or one
// forgotten). "" when no member says.
std::string versions_line(const json& members) {
  if (!members.is_array()) return {};
  std::map<std::string, std::vector<std::string>> nodes_by_version;
  for (const auto& m : members) {
    const json& version = member(member(m, "versions"), "supervisor");
    if (version.is_string() && !version.get<std::string>().empty() && text(m, "role") != "down")
      nodes_by_version[terminal_safe(version.get<std::string>())].push_back(text(m, "name"));
  }
  if (nodes_by_version.empty()) return {};
  if (nodes_by_version.size() == 1) return "versions: supervisor " + nodes_by_version.begin()->first + " on every node\n";
  std::string each;
  for (const auto& [version, nodes] : nodes_by_version) {
    std::string names;
    for (const auto& n : nodes) names += (names.empty() ? "" : ", ") + n;
    each += (each.empty() ? "" : "; ") + version + " on " + names;
  }
  return "versions: supervisor " + each + " (mixed: an upgrade under way?)\n";
}

}  // namespace

std::string render_status_table(const json& doc) {
  std::ostringstream out;
  const json& self = member(doc, "self");
  const json& leader = member(doc, "leader");
  std::string leader_text = leader.is_object() ? text(leader, "name") + " (epoch " + text(leader, "epoch") + ")" : "none";
  bool reachable = true_field(member(self, "quorum"), "reachable");
  out << "leader: " << leader_text << "   quorum: " << (reachable ? "reachable" : "NOT reachable")
      << "   seen from: " << text(self, "name") << "\n";
  if (true_field(doc, "stale")) out << "warning: this node is cut off from the Consul quorum; the table below is its last view\n";
  out << render_pause(member(self, "pause"));
  out << "\n";

  // The NGINX column only when some node runs the supervisor's nginx.
  bool any_nginx = false;
  if (member(doc, "members").is_array())
    for (const auto& m : member(doc, "members"))
      any_nginx = any_nginx || (member(m, "nginx").is_string() && !member(m, "nginx").get<std::string>().empty());
  // FLOATING IP: "holder" where the address is, else keepalived's state.
  bool any_vrrp = false;
  if (member(doc, "members").is_array())
    for (const auto& m : member(doc, "members"))
      any_vrrp = any_vrrp || true_field(m, "holds_vip") ||
                 (member(m, "vrrp_state").is_string() && !member(m, "vrrp_state").get<std::string>().empty());
  bool any_files = false;
  if (member(doc, "members").is_array())
    for (const auto& m : member(doc, "members"))
      any_files = any_files || (member(m, "files").is_string() && !member(m, "files").get<std::string>().empty());
  bool any_broker = false;
  if (member(doc, "members").is_array())
    for (const auto& m : member(doc, "members"))
      any_broker = any_broker || (member(m, "broker").is_string() && !member(m, "broker").get<std::string>().empty());
  std::vector<std::vector<std::string>> rows{{"NODE", "ADDRESS", "ROLE", "HEALTH", "LEADER EPOCH", "LAST CHANGE"}};
  if (any_vrrp) rows[0].push_back("FLOATING IP");
  if (any_nginx) rows[0].push_back("NGINX");
  const json& database = member(doc, "database");
  const bool any_db = database.is_object();
  if (any_db) rows[0].push_back("DATABASE");
  if (any_files) rows[0].push_back("FILES");
  if (any_broker) rows[0].push_back("BROKER");
  if (member(doc, "members").is_array()) {
    for (const auto& m : member(doc, "members")) {
      std::string role = text(m, "role");
      if (true_field(m, "maintenance") && role != "maintenance") role += " (maintenance)";
      std::string epoch = text(m, "leader_epoch");
      if (epoch == "0") epoch = "-";
      rows.push_back({text(m, "name"), text(m, "address"), role, text(m, "health"), epoch, text(m, "since")});
      if (any_vrrp) {
        std::string state = member(m, "vrrp_state").is_string() ? text(m, "vrrp_state") : "-";
        rows.back().push_back(true_field(m, "holds_vip") ? "holder (" + state + ")" : state);
      }
      if (any_nginx) rows.back().push_back(member(m, "nginx").is_string() ? text(m, "nginx") : "-");
      if (any_db) rows.back().push_back(member(m, "db").is_string() ? text(m, "db") : "-");
      if (any_files) rows.back().push_back(member(m, "files").is_string() ? text(m, "files") : "-");
      if (any_broker) rows.back().push_back(member(m, "broker").is_string() ? text(m, "broker") : "-");
    }
  }
  if (rows.size() == 1) rows.push_back({"(no live members)", "", "", "", "", ""});
  print_rows(out, rows);
  out << versions_line(member(doc, "members"));
  if (member(doc, "member_schema_note").is_string()) out << "records: " << text(doc, "member_schema_note") << "\n";

  const json& unreadable = member(doc, "unreadable");
  if (unreadable.is_array() && !unreadable.empty()) {
    out << "\nunreadable records (ignored):\n";
    for (const auto& u : unreadable) out << "  " << text(u, "key") << ": " << text(u, "error") << "\n";
  }
  out << "\nthis node: " << text(self, "role") << ": " << text(self, "reason") << "\n";
  const json& known_nodes = member(self, "known_nodes");
  const json& memory_error = member(known_nodes, "memory_error");
  if (memory_error.is_string() && !memory_error.get<std::string>().empty())
    out << "warning: " << text(known_nodes, "memory_error") << "\n";
  const json& protections = member(self, "protections");
  if (protections.is_object()) {
    // One line, each protection named with on, OFF or unknown: what an operator checks first.
    auto on_off = [&](const char* key) {
      const json& v = member(protections, key);
      return v.is_boolean() ? (v.get<bool>() ? std::string("on") : std::string("OFF")) : std::string("unknown");
    };
    out << "protections: Consul gossip encryption " << on_off("consul_gossip_encryption") << ", RPC TLS "
        << on_off("consul_rpc_tls") << ", ACLs (default deny) " << on_off("consul_acls_default_deny")
        << ", API HTTPS only " << on_off("consul_api_https_only");
    if (member(protections, "vrrp_filter").is_string()) out << ", VRRP filter " << text(protections, "vrrp_filter");
    if (member(protections, "members_only_ports").is_string())
      out << ", members-only ports " << text(protections, "members_only_ports");
    if (member(protections, "patroni_rest_auth").is_boolean())
      out << ", Patroni REST password " << on_off("patroni_rest_auth");
    out << ", API writes " << text(protections, "api_writes") << "\n";
  }
  // Peers this node no longer waits for (components/dead-peers): said only when there are some.
  const json& dead_peers = member(self, "dead_peers");
  if (member(dead_peers, "failed_peers").is_object() && !member(dead_peers, "failed_peers").empty()) {
    std::string peers;
    for (const auto& [name, address] : member(dead_peers, "failed_peers").items())
      peers += (peers.empty() ? "" : ", ") + name + " (" + shown(address) + ")";
    out << "dead peers: this node's TCP to " << peers << " is refused at once (Consul's gossip: failed)"
        << (true_field(dead_peers, "table_current") ? "" : "; the kernel's table does not hold it yet") << "\n";
  }
  if (member(dead_peers, "error").is_string())
    out << "dead peers: nft refused the table: " << text(dead_peers, "error") << "\n";
  // The cluster's settings (hactl settings): said only for a node that waits
  // for a restart to apply them or refused them.
  if (member(doc, "members").is_array())
    for (const auto& m : member(doc, "members")) {
      const json& settings = member(m, "settings");
      if (!settings.is_object()) continue;
      if (text(settings, "error") != "-")
        out << "settings: " << text(m, "name") << " refused the cluster's settings: " << text(settings, "error") << "\n";
      if (member(settings, "pending").is_array() && !member(settings, "pending").empty()) {
        std::string keys;
        for (const auto& k : member(settings, "pending")) keys += (keys.empty() ? "" : ", ") + shown(k);
        out << "settings: " << text(m, "name") << " needs a restart to apply " << keys << "\n";
      }
    }
  // The rotating logins (hactl rotate db-password, replication-password):
  // said while a rotation is under way, and when something keeps this node
  // from its part.
  static const json kNoLogins = json::object();
  const json& logins = member(self, "db_login").is_object() ? member(self, "db_login") : kNoLogins;
  for (const auto& item : logins.items()) {
    const json& login = item.value();
    const std::string label = text(login, "label");
    if (member(login, "from_copy").is_string()) out << label << ": " << text(login, "from_copy") << "\n";
    if (std::string step = render_rotation_step(login); !step.empty()) out << label << " rotation: " << step << "\n";
    else if (member(login, "errors").is_array())
      for (const auto& e : member(login, "errors")) out << label << ": " << shown(e) << "\n";
  }
  // The rotation of syncthing's API keys (hactl rotate syncthing-key): said
  // while under way, and each node's failure.
  const json& key_rotation = member(member(self, "files"), "key_rotation");
  if (std::string step = render_rotation_step(key_rotation); !step.empty())
    out << "syncthing key rotation: " << step << "\n";
  else if (member(key_rotation, "errors").is_array())
    for (const auto& e : member(key_rotation, "errors")) out << "syncthing key: " << shown(e) << "\n";
  // The newest planned switchover (hactl switchover): under way, or how it ended.
  if (const json& last = member(member(self, "switchover"), "last"); last.is_object())
    out << render_switchover_step(last) << "\n";
  if (const json& why = member(member(self, "switchover"), "hold_error"); why.is_string())
    out << "switchover: " << shown(why) << "\n";
  print_older_file(out, member(self, "vip"), "floating IP: keepalived ");
  const json& nginx = member(self, "nginx");
  if (nginx.is_object()) {
    out << "nginx: " << text(nginx, "serving") << ", " << text(nginx, "reloads") << " reload(s)\n";
    const json& upstreams = member(nginx, "upstreams");
    if (upstreams.is_object())
      for (const auto& [name, u] : upstreams.items()) {
        std::string servers;
        if (member(u, "passing").is_array())
          for (const auto& p : member(u, "passing")) servers += (servers.empty() ? "" : ", ") + shown(p);
        out << "  " << name << ": " << (true_field(u, "known") ? (servers.empty() ? "no passing instance" : servers) : "not read yet")
            << "\n";
      }
    if (member(nginx, "rejected_instances").is_array())
      for (const auto& r : member(nginx, "rejected_instances"))
        out << "  refused from Consul: " << shown(r) << "\n";
    if (text(nginx, "refused_config") != "-") out << "  refused config: " << text(nginx, "refused_config") << "\n";
    if (text(nginx, "last_error") != "-") out << "  last error: " << text(nginx, "last_error") << "\n";
    print_older_file(out, nginx, "  nginx ");
  }
  const json& broker = member(self, "broker");
  if (broker.is_object()) {
    out << "broker: " << text(broker, "state") << " (" << text(broker, "node") << "), founded by "
        << text(broker, "founder") << "\n";
    if (member(broker, "quorum_queues").is_array())
      for (const auto& q : member(broker, "quorum_queues")) {
        std::size_t members = member(q, "members").is_array() ? member(q, "members").size() : 0;
        std::size_t online = member(q, "online").is_array() ? member(q, "online").size() : 0;
        out << "  quorum queue " << text(q, "name") << ": leader " << text(q, "leader") << ", " << online << " of "
            << members << " replicas online, " << text(q, "messages") << " message(s)\n";
      }
    for (const char* key : {"founder_error", "read_error", "facts_error", "queues_error", "local_alarm", "files_error", "join_error", "forget_error", "last_error"})
      if (text(broker, key) != "-") out << "  " << key << ": " << text(broker, key) << "\n";
  }
  if (any_db) {
    std::string primary = text(database, "primary");
    out << "database (" << text(database, "backend") << "): ";
    if (!true_field(database, "known")) out << "state not read from Consul yet";
    else if (!true_field(database, "initialized")) out << "cluster not initialised yet";
    else out << "primary " << (primary == "-" ? "none (failover in progress)" : primary);
    std::string sync;
    if (member(database, "sync_standbys").is_array())
      for (const auto& n : member(database, "sync_standbys")) sync += (sync.empty() ? "" : ", ") + shown(n);
    if (!sync.empty()) out << ", synchronous standby " << sync;
    out << "\n";
    if (text(database, "error") != "-") out << "  state refused: " << text(database, "error") << "\n";
    if (member(database, "problems").is_array())
      for (const auto& p : member(database, "problems")) out << "  refused from Consul: " << shown(p) << "\n";
    const json& db = member(self, "db");
    const json& endpoint = member(db, "endpoint");
    if (endpoint.is_object())
      out << "  local endpoint: " << (true_field(endpoint, "writable") ? "writable via " + text(endpoint, "server") + " (" + text(endpoint, "took_ms") + " ms)"
                                                            : "NOT writable: " + text(endpoint, "error")) << "\n";
    print_filesystem_space(out, "  data filesystem: ", member(db, "data_space"));
    if (text(db, "config_error") != "-") out << "  config: " << text(db, "config_error") << "\n";
    if (text(db, "last_error") != "-") out << "  last error: " << text(db, "last_error") << "\n";
    print_older_file(out, db, "  Patroni ");
  }
  const json& durability = member(doc, "durability");
  if (durability.is_object()) {
    out << "durability: " << text(durability, "rule") << ": " << text(durability, "meaning") << "\n";
    if (member(durability, "database").is_string()) out << "  database: " << text(durability, "database") << "\n";
    if (member(durability, "database_differs").is_string()) out << "  database: " << text(durability, "database_differs") << "\n";
    if (member(durability, "uploads").is_string()) out << "  uploads: " << text(durability, "uploads") << "\n";
    if (member(durability, "uploads_differ").is_string()) out << "  uploads: " << text(durability, "uploads_differ") << "\n";
    if (member(durability, "now").is_array())
      for (const auto& n : member(durability, "now")) out << "  now: " << shown(n) << "\n";
  }
  const json& files = member(self, "files");
  if (files.is_object()) {
    out << "files (syncthing " << text(files, "device_id").substr(0, 7) << "): " << text(files, "summary") << "\n";
    if (member(files, "peers").is_array())
      for (const auto& p : member(files, "peers")) {
        out << "  peer " << text(p, "name") << ": " << (true_field(p, "connected") ? "connected" : "NOT connected");
        if (member(p, "completion").is_object())
          for (const auto& [folder, c] : member(p, "completion").items())
            out << ", " << text(c, "percent") << "% of " << folder << " (needs " << text(c, "need_items") << ")";
        out << "\n";
      }
    if (member(files, "folders").is_array())
      for (const auto& f : member(files, "folders")) {
        const json& status = member(f, "status");
        out << "  folder " << text(f, "path") << ": "
            << (status.is_object() ? text(status, "state") + (text(status, "error") != "-" ? " (" + text(status, "error") + ")" : "") +
                                         ", this node needs " + text(status, "need_items") + " item(s)"
                                   : "not read yet")
            << "\n";
      }
    if (text(files, "conflicts") != "0") {
      out << "  CONFLICTS: " << text(files, "conflicts") << " conflict copy(ies) kept by syncthing, e.g.:\n";
      if (member(files, "conflict_examples").is_array())
        for (const auto& e : member(files, "conflict_examples")) out << "    " << shown(e) << "\n";
    }
    print_filesystem_space(out, "  files filesystem: ", member(files, "space"));
    if (text(files, "api_error") != "-") out << "  syncthing: " << text(files, "api_error") << "\n";
    if (text(files, "last_error") != "-") out << "  last error: " << text(files, "last_error") << "\n";
  }
  return out.str();
}

}  // namespace hasup::cli
