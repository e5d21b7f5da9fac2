// The loader: parse with libconfig++, then check the parsed tree against the
// schema (schema.cpp), collecting every error before giving up.
#include "supervisor/config/config.hpp"

#include <libconfig.h++>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "supervisor/config/schema.hpp"
#include "supervisor/http/client.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::config {

std::string ConfigError::to_string() const {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  if (!key.empty()) text += key + ": ";
  return text + message;
}

namespace {

using libconfig::Setting;

constexpr std::size_t kMaxConfigBytes = 1 << 20;
// A token is a UUID; the cap only keeps a wrong path (a log, /dev/zero) from
// being slurped.
constexpr std::size_t kMaxTokenBytes = 4096;

// ---- integer literals libconfig 1.5 would truncate ------------------------
//
// libconfig 1.5 reads a decimal integer with atoi() and a hex one with
// strtoul() cast to int, so "port = 4294975796;" silently becomes 8500.
// Nothing in the parsed tree shows this, so the raw text is scanned first for
// integer literals whose value does not survive, remembering the line and
// the value libconfig will store. A setting on that line holding exactly
// that value is then refused instead of being range-checked.

struct Truncation {
  int line = 0;
  long long stored_value = 0;  // what libconfig made of the literal
};

struct TextScan {
  std::vector<Truncation> truncations;
  std::vector<int> include_lines;  // lines with an @include directive
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '-' || c == '_'; }
bool is_number_char(char c) { return is_name_start(c) || is_digit(c) || c == '.' || c == '_'; }

// The value libconfig 1.5 stores for an integer literal, if the literal's
// own value differs from it; std::nullopt for floats, non-numbers and
// integers that survive.
std::optional<long long> truncated_value(const std::string& literal) {
  std::string_view digits = literal;
  const bool negative = digits.front() == '-';
  if (digits.front() == '-' || digits.front() == '+') digits.remove_prefix(1);
  const bool hex = digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  if (hex) digits.remove_prefix(2);
  std::size_t suffix = 0;
  while (suffix < 2 && suffix < digits.size() && digits[digits.size() - 1 - suffix] == 'L') ++suffix;
  digits.remove_suffix(suffix);
  const bool is_int64 = suffix > 0;

  unsigned long long magnitude = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, hex ? 16 : 10);
  if (error == std::errc::invalid_argument || end != digits.data() + digits.size()) return std::nullopt;
  const unsigned long long limit =
      (is_int64 ? static_cast<unsigned long long>(LLONG_MAX) : static_cast<unsigned long long>(INT_MAX)) +
      (negative && !hex ? 1 : 0);
  if (error != std::errc::result_out_of_range && magnitude <= limit) return std::nullopt;

  // What libconfig's scanner computes (scanner.l of libconfig 1.5).
  if (is_int64) return hex ? static_cast<long long>(std::strtoull(literal.c_str(), nullptr, 16))
                           : std::atoll(literal.c_str());
  return hex ? static_cast<int>(std::strtoul(literal.c_str(), nullptr, 16)) : std::atoi(literal.c_str());
}

// Walks the text the way libconfig's scanner does, far enough to skip
// comments, strings and names, and looks at every number.
TextScan scan_text(std::string_view text) {
  TextScan scan;
  int line = 1;
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return k < text.size() ? text[k] : '\0'; };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '#' || (c == '/' && at(i + 1) == '/')) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && at(i + 1) == '*') {
      for (i += 2; i < text.size() && !(text[i] == '*' && at(i + 1) == '/'); ++i) {
        if (text[i] == '\n') ++line;
      }
      i += 2;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        if (text[i] == '\n') ++line;
      }
      ++i;
    } else if (c == '@') {
      if (text.substr(i, 8) == "@include") scan.include_lines.push_back(line);
      ++i;
    } else if (is_name_start(c)) {
      while (i < text.size() && is_name_char(text[i])) ++i;
    } else if (is_digit(c) || ((c == '-' || c == '+' || c == '.') && is_digit(at(i + 1)))) {
      const std::size_t start = i++;
      while (i < text.size() && (is_number_char(text[i]) ||
                                 ((text[i] == '-' || text[i] == '+') && (text[i - 1] == 'e' || text[i - 1] == 'E')))) {
        ++i;
      }
      const std::string literal(text.substr(start, i - start));
      const bool is_float = literal.find_first_of(".eE") != std::string::npos && literal.find_first_of("xX") == std::string::npos;
      if (is_float) continue;
      if (const auto stored = truncated_value(literal)) scan.truncations.push_back({line, *stored});
    } else {
      ++i;
    }
  }
  return scan;
}

// ---- suggestions for unknown names ----------------------------------------

// Optimal string alignment distance: insertions, deletions, substitutions and
// swaps of neighbours, the usual typing slips, each count 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string_view leaf_of(std::string_view path) {
  const auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// The closest known name within edit distance 2; failing that, the one key
// elsewhere with the same leaf name ("consul.interval_ms" -> loop.interval_ms).
std::optional<std::string> suggestion_for(std::string_view unknown, bool is_top_level_group) {
  constexpr std::size_t kMaxDistance = 2;
  std::vector<std::string_view> candidates;
  if (is_top_level_group) {
    candidates = group_names();
  } else {
    for (const auto& key : all_keys()) candidates.push_back(key.path);
  }
  std::optional<std::string_view> closest;
  std::size_t closest_distance = kMaxDistance + 1;
  for (const auto candidate : candidates) {
    // The distance is at least the difference in length: no need to compute
    // it then (edit_distance is quadratic: a 20 KB name took 13 s under ASan
    // in tests/fuzz/config_file.cpp).
    const auto longer = std::max(unknown.size(), candidate.size());
    if (longer - std::min(unknown.size(), candidate.size()) > kMaxDistance) continue;
    const auto distance = edit_distance(unknown, candidate);
    if (distance < closest_distance) {
      closest = candidate;
      closest_distance = distance;
    }
  }
  if (closest) return std::string(*closest);
  if (is_top_level_group) return std::nullopt;

  std::vector<std::string_view> same_leaf;
  for (const auto& key : all_keys()) {
    if (leaf_of(key.path) == leaf_of(unknown)) same_leaf.push_back(key.path);
  }
  if (same_leaf.size() == 1) return std::string(same_leaf.front());
  return std::nullopt;
}

// ---- the load ---------------------------------------------------------------

struct LoadState {
  std::string origin;                  // names the text in every error
  std::filesystem::path relative_to;  // base of a relative consul.token_file
  TextScan scan;
  Config config{};
  std::vector<ConfigError> errors{};
  std::vector<ConfigError> notices{};
  std::map<std::string, int, std::less<>> set_in_file{};  // key -> line where the file sets it
  std::set<std::string, std::less<>> refused{};          // keys whose value was not stored

  void report(int line, std::string_view key, std::string message) {
    errors.push_back({origin, line, std::string(key), std::move(message)});
  }
  void refuse(const KeySpec& key, int line, std::string message) {
    refused.emplace(key.path);
    report(line, key.path, std::move(message));
  }
  bool was_truncated(int line, long long value) const {
    return std::any_of(scan.truncations.begin(), scan.truncations.end(),
                       [&](const Truncation& t) { return t.line == line && t.stored_value == value; });
  }
};

int line_of(const Setting& setting) { return static_cast<int>(setting.getSourceLine()); }

std::string_view setting_type_name(const Setting& setting) {
  switch (setting.getType()) {
    case Setting::TypeInt:
    case Setting::TypeInt64: return "int";
    case Setting::TypeFloat: return "float";
    case Setting::TypeString: return "string";
    case Setting::TypeBoolean: return "bool";
    case Setting::TypeGroup: return "group";
    case Setting::TypeArray: return "array";
    case Setting::TypeList: return "list";
    case Setting::TypeNone: break;
  }
  return "nothing";
}

// `shown_value` is appended to the message unless the key is secret.
void refuse_value(LoadState& state, const KeySpec& key, const Setting& setting, std::string message,
                  const std::string& shown_value) {
  if (!key.secret && !shown_value.empty()) message += ", got " + shown_value;
  state.refuse(key, line_of(setting), std::move(message));
}

void refuse_type(LoadState& state, const KeySpec& key, const Setting& setting) {
  state.refuse(key, line_of(setting),
               "expected " + std::string(type_name(key.type())) + ", got " + std::string(setting_type_name(setting)));
}

bool in_ranges(long long value, const std::vector<IntRange>& ranges) {
  if (ranges.empty()) return true;
  return std::any_of(ranges.begin(), ranges.end(), [&](const IntRange& r) { return value >= r.min && value <= r.max; });
}

// Both of libconfig's integer types are accepted; a float is not, since
// silently dropping a fraction would change what the operator wrote.
void store(LoadState& state, const KeySpec& key, const Setting& setting, IntField field) {
  long long value = 0;
  if (setting.getType() == Setting::TypeInt) {
    value = static_cast<int>(setting);
  } else if (setting.getType() == Setting::TypeInt64) {
    value = static_cast<long long>(setting);
  } else {
    return refuse_type(state, key, setting);
  }
  if (state.was_truncated(line_of(setting), value)) {
    return state.refuse(key, line_of(setting),
                        "integer literal too large (libconfig would silently truncate it); allowed " +
                            allowed_text(key));
  }
  if (!in_ranges(value, key.int_ranges)) {
    return refuse_value(state, key, setting, "out of range: allowed " + allowed_text(key), std::to_string(value));
  }
  field(state.config) = static_cast<int>(value);
}

void store(LoadState& state, const KeySpec& key, const Setting& setting, BoolField field) {
  if (setting.getType() != Setting::TypeBoolean) return refuse_type(state, key, setting);
  field(state.config) = static_cast<bool>(setting);
}

void store(LoadState& state, const KeySpec& key, const Setting& setting, FloatField field) {
  switch (setting.getType()) {
    case Setting::TypeFloat: field(state.config) = static_cast<double>(setting); return;
    case Setting::TypeInt: field(state.config) = static_cast<int>(setting); return;
    case Setting::TypeInt64: field(state.config) = static_cast<double>(static_cast<long long>(setting)); return;
    default: return refuse_type(state, key, setting);
  }
}

void store(LoadState& state, const KeySpec& key, const Setting& setting, StringField field) {
  if (setting.getType() != Setting::TypeString) return refuse_type(state, key, setting);
  std::string value = setting.c_str();
  const std::string shown = value.empty() ? std::string{} : quoted_printable(value, kWholeValue);
  const auto& allowed = key.allowed_values;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    return refuse_value(state, key, setting, "not an allowed value: allowed " + allowed_text(key), shown);
  }
  if (key.format != nullptr) {
    if (auto problem = key.format->problem(value); !problem.empty()) {
      return refuse_value(state, key, setting, std::move(problem), shown);
    }
  }
  field(state.config) = std::move(value);
}

void report_unknown(LoadState& state, const Setting& setting, const std::string& path, bool top_level) {
  std::string message = setting.isGroup() ? "unknown group" : "unknown key";
  if (const auto suggestion = suggestion_for(path, top_level && setting.isGroup())) {
    message += "; did you mean " + *suggestion + "?";
  }
  state.report(line_of(setting), path, std::move(message));
}

// Keys that moved: a file written for an older supervisor still loads (an
// upgrade must not stop the daemon for a renamed tuning key), read under the
// new name unless the file sets that too, and the operator is told.
const std::map<std::string, std::string, std::less<>> kMovedKeys = {
    {"dead_peers.poll_interval_ms", "consul.gossip_poll_interval_ms"},
};

void check_group_members(LoadState& state, const Setting& group, const std::string& group_name) {
  for (const Setting& setting : group) {
    std::string path = group_name + "." + setting.getName();
    const KeySpec* key = find_key(path);
    if (auto moved = kMovedKeys.find(path); key == nullptr && moved != kMovedKeys.end()) {
      const std::string& to = moved->second;
      const bool also_set = state.set_in_file.contains(to);
      state.notices.push_back({state.origin, line_of(setting), path,
                               "moved to " + to + (also_set ? ": ignored, the file sets " + to + " too"
                                                            : ": read as " + to + "; rename it")});
      if (also_set) continue;
      path = to;
      key = find_key(path);
    }
    if (key == nullptr) {
      report_unknown(state, setting, path, false);
      continue;
    }
    state.set_in_file[path] = line_of(setting);
    std::visit([&](auto field) { store(state, *key, setting, field); }, key->field);
  }
}

// Every key lives in a group; anything else at the top level is unknown.
void check_tree(LoadState& state, const Setting& root) {
  for (const Setting& setting : root) {
    const std::string name = setting.getName();
    if (!is_group(name)) {
      report_unknown(state, setting, name, true);
    } else if (!setting.isGroup()) {
      state.report(line_of(setting), name, "expected a group, got " + std::string(setting_type_name(setting)));
    } else {
      check_group_members(state, setting, name);
    }
  }
}

void check_required(LoadState& state) {
  for (const auto& key : all_keys()) {
    if (key.required && !state.set_in_file.contains(key.path)) state.report(0, key.path, "required key missing");
  }
}

void strip_trailing_whitespace(std::string& text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.pop_back();
  }
}

// Reads consul.token_file into consul.token. Messages name the file, never
// its content.
void resolve_token_file(LoadState& state) {
  auto& consul = state.config.consul;
  const KeySpec& key = *find_key("consul.token_file");
  if (consul.token_file.empty() || state.refused.contains(key.path)) return;
  const int line = state.set_in_file["consul.token_file"];
  const bool token_set = !consul.token.empty() || state.refused.contains("consul.token");
  if (token_set) {
    return state.refuse(key, line, "consul.token and consul.token_file are both set; set only one");
  }
  std::filesystem::path path = consul.token_file;
  if (path.is_relative()) path = state.relative_to / path;
  const std::string named_file = "token file " + quoted_printable(path.string(), kWholeValue);
  auto read = read_small_file(path, kMaxTokenBytes);
  if (!read.problem.empty()) return state.refuse(key, line, "cannot read " + named_file + ": " + read.problem);
  strip_trailing_whitespace(read.content);
  if (read.content.empty()) return state.refuse(key, line, named_file + " is empty");
  const KeySpec& token_key = *find_key("consul.token");
  if (auto problem = token_key.format->problem(read.content); !problem.empty()) {
    return state.refuse(key, line, named_file + ": token " + problem);
  }
  consul.token = std::move(read.content);
}

// Loads consul.ca_file the way the engine will, so a file that cannot serve
// (missing, no certificate) stops the start with its name, not the first call.
void check_ca_file(LoadState& state) {
  const auto& consul = state.config.consul;
  const KeySpec& key = *find_key("consul.ca_file");
  if (consul.ca_file.empty() || state.refused.contains(key.path)) return;
  std::string error;
  if (!http::load_tls_trust(consul.ca_file, error)) state.refuse(key, state.set_in_file["consul.ca_file"], error);
}

// A rule is checked only when all its keys hold accepted values: a refused
// key holds its default, and a rule broken by a default would only confuse.
// The error points at the first of the rule's keys the file sets.
void check_cross_key_rules(LoadState& state) {
  for (const auto& rule : cross_key_rules()) {
    const auto refused = [&](std::string_view key) { return state.refused.contains(key); };
    if (std::any_of(rule.keys.begin(), rule.keys.end(), refused)) continue;
    std::string message = rule.violation(state.config);
    if (message.empty()) continue;
    std::string_view located_key = rule.keys.front();
    int line = 0;
    for (const auto key : rule.keys) {
      if (const auto set = state.set_in_file.find(key); set != state.set_in_file.end()) {
        located_key = key;
        line = set->second;
        break;
      }
    }
    state.report(line, located_key, std::move(message));
  }
}

void parse_and_check(LoadState& state, const std::string& text) {
  // libconfig reads a C string: whatever follows a NUL byte would be ignored
  // without a word.
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
    state.report(static_cast<int>(line), "", "NUL byte in the configuration text");
    return;
  }
  for (const int line : state.scan.include_lines) {
    state.report(line, "", "@include is not supported; keep the whole configuration in one file");
  }
  // An included file would escape the checks above, so it is not even read.
  if (!state.scan.include_lines.empty()) return;

  libconfig::Config parsed;
  try {
    parsed.readString(text);
  } catch (const libconfig::ParseException& e) {
    state.report(e.getLine(), "", std::string("parse error: ") + e.getError());
    return;
  }
  check_tree(state, parsed.getRoot());
  check_required(state);
  resolve_token_file(state);
  check_ca_file(state);
  check_cross_key_rules(state);
}

LoadResult load_text(const std::string& text, const std::string& origin, std::filesystem::path relative_to) {
  LoadState state{.origin = origin, .relative_to = std::move(relative_to), .scan = scan_text(text)};
  try {
    parse_and_check(state, text);
  } catch (const std::exception& e) {
    // libconfig reports misuse by throwing; nothing may escape the loader.
    state.report(0, "", std::string("internal error while loading: ") + e.what());
  }
  std::stable_sort(state.errors.begin(), state.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  LoadResult result;
  result.errors = std::move(state.errors);
  result.notices = std::move(state.notices);
  if (result.errors.empty()) result.config = std::move(state.config);
  return result;
}

// ---- describe_schema --------------------------------------------------------

std::string default_text(const KeySpec& key, const Config& defaults) {
  return key.required ? std::string("(required)") : value_text(key, defaults);
}

// Long text wrapped to fit a terminal: `first_indent` before the first line,
// `indent` before the others.
void write_wrapped(std::ostream& out, std::string_view text, std::string_view first_indent, std::string_view indent) {
  constexpr std::size_t kWidth = 80;
  std::istringstream words{std::string(text)};
  std::string line(first_indent);
  bool line_has_words = false;
  for (std::string word; words >> word;) {
    if (line_has_words && line.size() + 1 + word.size() > kWidth) {
      out << line << "\n";
      line = indent;
      line_has_words = false;
    }
    if (line_has_words) line += ' ';
    line += word;
    line_has_words = true;
  }
  out << line << "\n";
}

LoadResult failure(const std::string& origin, std::string message) {
  LoadResult result;
  result.errors.push_back({origin, 0, "", std::move(message)});
  return result;
}

}  // namespace

LoadResult load_file(const std::string& path) {
  try {
    auto read = read_small_file(path, kMaxConfigBytes);
    if (!read.problem.empty()) return failure(path, "cannot read configuration: " + read.problem);
    return load_text(read.content, path, std::filesystem::path(path).parent_path());
  } catch (const std::exception& e) {
    return failure(path, std::string("internal error while loading: ") + e.what());
  }
}

LoadResult load_string(const std::string& text, const std::string& origin) {
  try {
    return load_text(text, origin, {});
  } catch (const std::exception& e) {
    return failure(origin, std::string("internal error while loading: ") + e.what());
  }
}

// ---- the cluster's settings ---------------------------------------------------
//
// The store's document is JSON, not libconfig text: it is turned into a
// libconfig tree, and that tree goes through the same checks as a file's
// (check_tree: type, range, allowed values, format), so there is one
// validator. Only cluster-wide keys may be set; then the rules between keys
// are checked on the whole result, the node's own file included.

namespace {

// Adds `value` under group.key in `root`; false (with an error) when the JSON
// value has no libconfig counterpart.
bool add_setting(LoadState& state, Setting& root, const KeySpec& key, const nlohmann::json& value) {
  const std::string group(key.group());
  const std::string leaf(key.path.substr(group.size() + 1));
  Setting& parent = root.exists(group) ? root[group.c_str()] : root.add(group, Setting::TypeGroup);
  if (value.is_boolean()) {
    parent.add(leaf, Setting::TypeBoolean) = value.get<bool>();
  } else if (value.is_number_integer()) {
    // Beyond int64 nlohmann gives an unsigned or a float: refused as a type.
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(LLONG_MAX)) {
      state.refuse(key, 0, "integer too large; allowed " + allowed_text(key));
      return false;
    }
    parent.add(leaf, Setting::TypeInt64) = value.get<long long>();
  } else if (value.is_number_float()) {
    parent.add(leaf, Setting::TypeFloat) = value.get<double>();
  } else if (value.is_string()) {
    parent.add(leaf, Setting::TypeString) = value.get<std::string>();
  } else {
    state.refuse(key, 0, "expected " + std::string(type_name(key.type())) + ", got JSON " + value.type_name());
    return false;
  }
  return true;
}

void check_settings(LoadState& state, const std::string& json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    state.report(0, "", "not a JSON object of \"group.key\": value");
    return;
  }
  libconfig::Config tree;
  Setting& root = tree.getRoot();
  for (const auto& [path, value] : doc.items()) {
    const KeySpec* key = find_key(path);
    const std::string shown = quoted_printable(path, 80);
    if (key == nullptr) {
      std::string message = "unknown key";
      if (const auto suggestion = suggestion_for(path, false)) message += "; did you mean " + *suggestion + "?";
      state.report(0, shown, std::move(message));
    } else if (!key->cluster_wide) {
      state.report(0, key->path, "not a cluster-wide key: set it in each node's own file");
    } else {
      add_setting(state, root, *key, value);
    }
  }
  check_tree(state, root);
  check_cross_key_rules(state);
}

}  // namespace

LoadResult overlay_cluster_settings(const Config& base, const std::string& json_text, const std::string& origin) {
  LoadState state{.origin = origin, .relative_to = {}, .scan = {}};
  state.config = base;
  try {
    check_settings(state, json_text);
  } catch (const std::exception& e) {
    state.report(0, "", std::string("internal error while checking: ") + e.what());
  }
  LoadResult result;
  result.errors = std::move(state.errors);
  if (result.errors.empty()) result.config = std::move(state.config);
  return result;
}

ReloadDiff diff(const Config& running, const Config& loaded) {
  ReloadDiff changes;
  for (const auto& key : all_keys()) {
    if (!values_differ(key, running, loaded)) continue;
    auto& list = key.reload == Reload::live ? changes.live : changes.needs_restart;
    list.emplace_back(key.path);
  }
  return changes;
}

ReloadDiff apply_live_keys(Config& running, const Config& loaded) {
  ReloadDiff changes = diff(running, loaded);
  Config source = loaded;  // the field accessors take a mutable Config
  Config mixed = running;
  const auto copy_key = [](const KeySpec& key, Config& to, Config& from) {
    std::visit([&](auto field) { field(to) = field(from); }, key.field);
  };
  for (const auto& key : all_keys())
    if (key.reload == Reload::live) copy_key(key, mixed, source);
  // Live keys taken beside restart keys still at their old values can break
  // a rule between them (consul.quorum_loss_timeout_ms against the session's
  // lock_delay_ms: a split-brain window). Such live keys wait for the
  // restart too, until no rule is broken.
  std::set<std::string_view> held;
  for (bool broke = true; broke;) {
    broke = false;
    for (const auto& rule : cross_key_rules()) {
      if (rule.violation(mixed).empty()) continue;
      for (const auto path : rule.keys) {
        const KeySpec& key = *find_key(path);
        if (key.reload != Reload::live || !values_differ(key, mixed, running)) continue;
        copy_key(key, mixed, running);
        held.insert(key.path);
        broke = true;
      }
    }
  }
  running = std::move(mixed);
  std::erase_if(changes.live, [&](const std::string& path) {
    if (!held.contains(path)) return false;
    changes.needs_restart.push_back(path);
    return true;
  });
  return changes;
}

std::string describe_schema() {
  const Config defaults;
  struct Row {
    std::string key, type, default_value, allowed, reload;
    std::string_view help;
  };
  std::vector<Row> rows;
  const Row header{"KEY", "TYPE", "DEFAULT", "ALLOWED", "RELOAD", {}};
  std::size_t key_width = header.key.size(), type_width = header.type.size();
  std::size_t default_width = header.default_value.size(), allowed_width = header.allowed.size();
  for (const auto& key : all_keys()) {
    Row row{std::string(key.path), std::string(type_name(key.type())), default_text(key, defaults),
            allowed_text(key),
            std::string(key.reload == Reload::live ? "live" : "restart") + (key.cluster_wide ? ", cluster" : ""),
            key.help};
    key_width = std::max(key_width, row.key.size());
    type_width = std::max(type_width, row.type.size());
    default_width = std::max(default_width, row.default_value.size());
    allowed_width = std::max(allowed_width, row.allowed.size());
    rows.push_back(std::move(row));
  }

  std::ostringstream out;
  const auto write_row = [&](const Row& row) {
    out << std::left << std::setw(static_cast<int>(key_width + 2)) << row.key
        << std::setw(static_cast<int>(type_width + 2)) << row.type
        << std::setw(static_cast<int>(default_width + 2)) << row.default_value
        << std::setw(static_cast<int>(allowed_width + 2)) << row.allowed << row.reload << "\n";
  };
  out << "Configuration keys (libconfig groups, e.g. consul: { port = 8500; };)\n"
      << "RELOAD: live = applied on SIGHUP and when the cluster's settings change; restart = needs a restart;\n"
      << "cluster = may be set for every node at once: hactl settings set KEY=VALUE (Consul's PREFIX/settings).\n\n";
  write_row(header);
  for (const auto& row : rows) {
    write_row(row);
    write_wrapped(out, row.help, "    ", "    ");
  }
  out << "\nRules between keys:\n";
  for (const auto& rule : cross_key_rules()) write_wrapped(out, rule.summary, "  - ", "    ");
  return out.str();
}

}  // namespace hasup::config
