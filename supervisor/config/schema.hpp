#pragma once
// The one description of every configuration key: where its value lives in
// Config, its type, allowed values, help text, whether it is required or
// secret, and whether a SIGHUP reload can apply it. The loader, diff() and
// describe_schema() all read this table; nothing else lists keys.
//
// Defaults are not repeated here: they are Config's member initializers in
// config.hpp, read through each key's field accessor from a default Config.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "supervisor/config/config.hpp"

namespace hasup::config {

// Same order as the alternatives of Field.
enum class ValueType { integer, boolean, string, floating };

enum class Reload { live, restart };

// Where a key's value lives inside a Config.
using IntField = int& (*)(Config&);
using BoolField = bool& (*)(Config&);
using StringField = std::string& (*)(Config&);
using FloatField = double& (*)(Config&);
using Field = std::variant<IntField, BoolField, StringField, FloatField>;

struct IntRange {
  long long min = 0;
  long long max = 0;
};

// A format rule for string values. `problem` says why a value is refused, or
// returns "" when it is fine; it never quotes the value, so the caller decides
// whether the value may be shown (never for secret keys).
struct StringFormat {
  std::string_view description;  // for describe_schema, e.g. "[a-z0-9][a-z0-9-]{0,62}"
  std::string (*problem)(std::string_view value);
};

struct KeySpec {
  std::string_view path;  // dotted: "group.key"
  Field field;
  std::string_view help;
  Reload reload = Reload::restart;
  // Settable for every node at once through the store (hactl settings):
  // tuning that should agree across nodes and is safe while nodes differ
  // for a moment. Node-local keys (names, addresses, paths, secrets) and
  // keys that must change on every node at the same instant are not.
  bool cluster_wide = false;
  bool required = false;
  bool secret = false;                          // value never printed anywhere
  std::vector<IntRange> int_ranges{};           // integers: value must be in one of them
  std::vector<std::string_view> allowed_values{};  // strings: an enum when not empty
  const StringFormat* format = nullptr;         // strings: syntax rule, if any

  ValueType type() const { return static_cast<ValueType>(field.index()); }
  std::string_view group() const { return path.substr(0, path.find('.')); }
};

// A rule between keys. `violation` returns "" when `config` obeys the rule,
// else a message naming the keys and their values.
struct CrossKeyRule {
  std::vector<std::string_view> keys;  // every key the rule reads
  std::string_view summary;            // the rule and why, for describe_schema
  std::string (*violation)(const Config& config);
};

const std::vector<KeySpec>& all_keys();
const std::vector<CrossKeyRule>& cross_key_rules();
const KeySpec* find_key(std::string_view path);
std::vector<std::string_view> group_names();  // in table order, each once
bool is_group(std::string_view name);

std::string_view type_name(ValueType type);
// "1..65535", "0 or 10..86400", "trace, debug, ...", a format description, or "".
std::string allowed_text(const KeySpec& key);
// The value as written in a config file ("8500", "\"n1\""); "(secret)" for a
// secret key unless it is empty.
std::string value_text(const KeySpec& key, const Config& config);
bool values_differ(const KeySpec& key, const Config& a, const Config& b);


}  // namespace hasup::config
