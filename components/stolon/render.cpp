#include "components/stolon/render.hpp"

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace hasup::stolon {

namespace {

using kainjow::mustache::data;
using nlohmann::json;
using std::chrono::milliseconds;

// stolon-keeper sets these itself (cmd/keeper/cmd/keeper.go, managedPGParameters
// in v0.17.0) and drops them from the spec without a word: refuse them here
// instead of letting an operator believe they apply.
constexpr std::array kStolonManagedParameters = {
    "unix_socket_directories", "wal_keep_segments", "wal_keep_size", "hot_standby", "listen_addresses", "port",
    "max_replication_slots", "max_wal_senders", "wal_log_hints", "synchronous_standby_names", "primary_conninfo",
    "primary_slot_name", "recovery_min_apply_delay", "restore_command", "recovery_target_timeline",
    "recovery_target", "recovery_target_lsn", "recovery_target_name", "recovery_target_time", "recovery_target_xid",
    "recovery_target_action"};

// stolon keeps the synchronous standby counts in uint16 fields.
constexpr unsigned kMaxUint16 = 65535;

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

bool has_control_character(const std::string& value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// PostgreSQL's GUC names: a letter or '_', then letters, digits, '_' and '.'
// (extension parameters: "pg_stat_statements.max").
bool valid_parameter_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

std::string lowercase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A JSON string literal (quoted, escaped); throws on invalid UTF-8.
std::string json_string(const std::string& value) { return json(value).dump(); }

// What the rendered spec must say, whatever the template looks like around it.
json expected_spec(const StolonSpecSettings& s) {
  json spec;
  spec["initMode"] = "new";
  spec["sleepInterval"] = go_duration(s.sleep_interval);
  spec["requestTimeout"] = go_duration(s.request_timeout);
  spec["failInterval"] = go_duration(s.fail_interval);
  spec["convergenceTimeout"] = go_duration(s.convergence_timeout);
  spec["proxyCheckInterval"] = go_duration(s.proxy_check_interval);
  spec["proxyTimeout"] = go_duration(s.proxy_timeout);
  spec["synchronousReplication"] = s.synchronous_replication;
  spec["minSynchronousStandbys"] = s.min_synchronous_standbys;
  spec["maxSynchronousStandbys"] = s.max_synchronous_standbys;
  spec["maxStandbyLag"] = s.max_standby_lag;
  spec["usePgrewind"] = s.use_pg_rewind;
  spec["pgParameters"] = json::object();
  for (const auto& [name, value] : s.pg_parameters) spec["pgParameters"][name] = value;
  // null, not []: stolon tells "no extra entries" (null) from "an empty list".
  spec["pgHBA"] = s.pg_hba.empty() ? json(nullptr) : json(s.pg_hba);
  return spec;
}

}  // namespace

std::string go_duration(milliseconds d) {
  if (d.count() != 0 && d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

std::vector<std::string> stolon_timing_problems(const StolonSpecSettings& s) {
  std::vector<std::string> out;
  const std::pair<const char*, milliseconds> durations[] = {
      {"sleepInterval", s.sleep_interval},           {"requestTimeout", s.request_timeout},
      {"failInterval", s.fail_interval},             {"convergenceTimeout", s.convergence_timeout},
      {"proxyCheckInterval", s.proxy_check_interval}, {"proxyTimeout", s.proxy_timeout}};
  bool all_positive = true;
  for (const auto& [name, d] : durations)
    if (d.count() <= 0) {
      all_positive = false;
      out.push_back(std::string(name) + " must be greater than 0, not " + go_duration(d));
    }
  if (all_positive) {
    if (s.proxy_check_interval >= s.proxy_timeout) {
      out.push_back("proxyCheckInterval (" + go_duration(s.proxy_check_interval) + ") must be less than proxyTimeout (" +
                    go_duration(s.proxy_timeout) + "): stolon refuses the spec otherwise");
    } else if (2 * s.proxy_check_interval > s.proxy_timeout) {
      out.push_back("proxyTimeout (" + go_duration(s.proxy_timeout) + ") must be at least twice proxyCheckInterval (" +
                    go_duration(s.proxy_check_interval) +
                    "): one late check would make a proxy drop every client connection");
    }
    // A keeper publishes its state once per loop, and a loop may spend a whole
    // requestTimeout on one check: a healthy keeper can stay silent that long.
    if (s.sleep_interval + s.request_timeout >= s.fail_interval)
      out.push_back("failInterval (" + go_duration(s.fail_interval) + ") must be greater than sleepInterval + requestTimeout (" +
                    go_duration(s.sleep_interval) + " + " + go_duration(s.request_timeout) +
                    "): a healthy but slow keeper would be declared failed and its primary failed over");
    // Before it names the new primary, the sentinel waits until every proxy has
    // dropped its connections to the old one; a proxy that died with its node
    // counts as gone only after 2 x proxyTimeout without news.
    if (2 * s.proxy_timeout > s.sleep_interval + s.fail_interval)
      out.push_back("2 x proxyTimeout (" + go_duration(2 * s.proxy_timeout) +
                    ") must not exceed sleepInterval + failInterval (" + go_duration(s.sleep_interval + s.fail_interval) +
                    "): when a whole node dies the sentinel waits that long for its silent proxy, so the failover "
                    "would take longer than detecting the dead keeper");
  }
  // stolon's own checks (ClusterSpec.Validate in v0.17.0), and its uint16 fields.
  if (s.min_synchronous_standbys < 1) out.push_back("minSynchronousStandbys must be at least 1 (stolon refuses 0)");
  if (s.max_synchronous_standbys < 1) out.push_back("maxSynchronousStandbys must be at least 1 (stolon refuses 0)");
  if (s.max_synchronous_standbys < s.min_synchronous_standbys)
    out.push_back("maxSynchronousStandbys (" + std::to_string(s.max_synchronous_standbys) +
                  ") must not be less than minSynchronousStandbys (" + std::to_string(s.min_synchronous_standbys) + ")");
  if (s.min_synchronous_standbys > kMaxUint16 || s.max_synchronous_standbys > kMaxUint16)
    out.push_back("synchronous standby counts must not exceed 65535");
  return out;
}

std::vector<std::string> stolon_spec_problems(const StolonSpecSettings& s) {
  std::vector<std::string> out;
  for (const auto& [name, value] : s.pg_parameters) {
    if (!valid_parameter_name(name)) {
      out.push_back("pg parameter name " + json(name).dump(-1, ' ', true, json::error_handler_t::replace) +
                    " is not a PostgreSQL parameter name");
      continue;
    }
    const auto lower = lowercase(name);
    if (std::find(kStolonManagedParameters.begin(), kStolonManagedParameters.end(), lower) !=
        kStolonManagedParameters.end())
      out.push_back("pg parameter " + name + " is set by stolon itself; the keeper would ignore it");
    if (has_control_character(value)) out.push_back("pg parameter " + name + ": the value holds a control character");
  }
  for (std::size_t i = 0; i < s.pg_hba.size(); ++i) {
    const auto& entry = s.pg_hba[i];
    if (entry.find_first_not_of(" \t") == std::string::npos)
      out.push_back("pg_hba entry " + std::to_string(i + 1) + " is empty");
    else if (has_control_character(entry))
      out.push_back("pg_hba entry " + std::to_string(i + 1) + " holds a newline or another control character");
  }
  return out;
}

Rendered render_cluster_spec(const std::string& template_text, const StolonSpecSettings& s) {
  Rendered out;
  auto problems = stolon_timing_problems(s);
  auto spec_problems = stolon_spec_problems(s);
  problems.insert(problems.end(), spec_problems.begin(), spec_problems.end());
  if (!problems.empty()) {
    out.error = "refusing the stolon cluster spec: " + join(problems, "; ");
    return out;
  }
  data root;
  root.set("sleep_interval", go_duration(s.sleep_interval));
  root.set("request_timeout", go_duration(s.request_timeout));
  root.set("fail_interval", go_duration(s.fail_interval));
  root.set("convergence_timeout", go_duration(s.convergence_timeout));
  root.set("proxy_check_interval", go_duration(s.proxy_check_interval));
  root.set("proxy_timeout", go_duration(s.proxy_timeout));
  root.set("synchronous_replication", s.synchronous_replication ? "true" : "false");
  root.set("min_synchronous_standbys", std::to_string(s.min_synchronous_standbys));
  root.set("max_synchronous_standbys", std::to_string(s.max_synchronous_standbys));
  root.set("max_standby_lag", std::to_string(s.max_standby_lag));
  root.set("use_pg_rewind", s.use_pg_rewind ? "true" : "false");
  try {
    data parameters = data::type::list;
    std::size_t i = 0;
    for (const auto& [name, value] : s.pg_parameters) {
      data p;
      p.set("name", json_string(name));
      p.set("value", json_string(value));
      p.set("last", data(++i == s.pg_parameters.size()));
      parameters.push_back(p);
    }
    root.set("pg_parameters", parameters);
    data hba = data::type::list;
    for (std::size_t j = 0; j < s.pg_hba.size(); ++j) {
      data e;
      e.set("entry", json_string(s.pg_hba[j]));
      e.set("last", data(j + 1 == s.pg_hba.size()));
      hba.push_back(e);
    }
    root.set("pg_hba", hba);
    root.set("has_pg_hba", data(!s.pg_hba.empty()));
  } catch (const json::exception&) {
    out.error = "refusing the stolon cluster spec: a pg parameter or pg_hba entry is not valid UTF-8";
    return out;
  }
  out = render_config(template_text, root);
  if (!out.error.empty()) return out;

  // The template is ours to edit: check that what it produced is JSON and says
  // what the settings say, before stolonctl (or a keeper, much later) finds out.
  json parsed = json::parse(out.text, nullptr, /*allow_exceptions=*/false);
  std::string error;
  if (parsed.is_discarded() || !parsed.is_object()) {
    error = "template: the rendered cluster spec is not a JSON object";
  } else {
    const json expected = expected_spec(s);
    for (const auto& [key, want] : expected.items()) {
      if (!parsed.contains(key)) {
        error = "template: the rendered cluster spec has no " + key;
        break;
      }
      if (parsed[key] != want) {
        error = "template: the rendered cluster spec has " + key + " = " + parsed[key].dump() + ", expected " +
                want.dump();
        break;
      }
    }
  }
  if (!error.empty()) {
    out.text.clear();
    out.error = error;
  }
  return out;
}

}  // namespace hasup::stolon
