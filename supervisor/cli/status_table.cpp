#include "supervisor/cli/status_table.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace hasup::cli {

using nlohmann::json;

namespace {

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "?";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "?";
  if (it->is_string()) return it->get<std::string>().empty() ? "-" : it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
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

}  // namespace

std::string render_status_table(const json& doc) {
  std::ostringstream out;
  const json& self = doc.is_object() && doc.contains("self") ? doc["self"] : json::object();
  const json& leader = doc.is_object() && doc.contains("leader") ? doc["leader"] : json();
  std::string leader_text = leader.is_object() ? text(leader, "name") + " (epoch " + text(leader, "epoch") + ")" : "none";
  bool reachable = self.contains("quorum") && self["quorum"].is_object() && self["quorum"].value("reachable", false);
  out << "leader: " << leader_text << "   quorum: " << (reachable ? "reachable" : "NOT reachable")
      << "   seen from: " << text(self, "name") << "\n";
  if (doc.value("stale", false)) out << "warning: this node is cut off from the Consul quorum; the table below is its last view\n";
  out << "\n";

  std::vector<std::vector<std::string>> rows{{"NODE", "ADDRESS", "ROLE", "HEALTH", "LEADER EPOCH", "LAST CHANGE"}};
  if (doc.contains("members") && doc["members"].is_array()) {
    for (const auto& m : doc["members"]) {
      std::string role = text(m, "role");
      if (m.is_object() && m.value("maintenance", false) && role != "maintenance") role += " (maintenance)";
      std::string epoch = text(m, "leader_epoch");
      if (epoch == "0") epoch = "-";
      rows.push_back({text(m, "name"), text(m, "address"), role, text(m, "health"), epoch, text(m, "since")});
    }
  }
  if (rows.size() == 1) rows.push_back({"(no live members)", "", "", "", "", ""});
  print_rows(out, rows);

  if (doc.contains("unreadable") && doc["unreadable"].is_array() && !doc["unreadable"].empty()) {
    out << "\nunreadable records (ignored):\n";
    for (const auto& u : doc["unreadable"]) out << "  " << text(u, "key") << ": " << text(u, "error") << "\n";
  }
  out << "\nthis node: " << text(self, "role") << ": " << text(self, "reason") << "\n";
  return out.str();
}

}  // namespace hasup::cli
