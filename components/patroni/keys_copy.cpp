#include "components/patroni/keys_copy.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::patroni {

using nlohmann::json;

namespace {
constexpr int kSchema = 1;
}

std::string encode(const KeysCopy& copy) {
  json o{{"schema", kSchema}, {"index", copy.index}, {"initialize", copy.initialize}};
  if (copy.write_backs > 0) o["write_backs"] = copy.write_backs;
  if (copy.config) o["config"] = *copy.config;
  if (copy.sync) o["sync"] = *copy.sync;
  return json_text(o);
}

KeysCopyDecode decode_keys_copy(const std::string& text) {
  std::string error;
  auto o = parse_object(text, error);
  if (!o || !schema_ok(*o, kSchema, error)) return {std::nullopt, error};
  KeysCopy copy;
  auto index = o->find("index");
  if (index == o->end() || !index->is_number_unsigned() || index->get<std::uint64_t>() == 0)
    return {std::nullopt, "index is not a number above 0"};
  copy.index = index->get<std::uint64_t>();
  if (auto write_backs = o->find("write_backs"); write_backs != o->end()) {
    if (!write_backs->is_number_unsigned()) return {std::nullopt, "write_backs is not an unsigned number"};
    copy.write_backs = write_backs->get<std::uint64_t>();
  }
  if (!get_string(*o, "initialize", copy.initialize, error)) return {std::nullopt, error};
  if (copy.initialize.empty()) return {std::nullopt, "initialize is empty"};
  for (auto [key, field] : {std::pair{"config", &copy.config}, std::pair{"sync", &copy.sync}}) {
    std::string value;
    bool present = o->contains(key);
    if (!get_string(*o, key, value, error, false)) return {std::nullopt, error};
    if (present) *field = value;
  }
  return {copy, {}};
}

KeysCopyDecode keys_copy_of(const std::string& prefix, const std::vector<consul::KvEntry>& entries) {
  KeysCopy copy;
  for (const auto& e : entries) {
    if (e.key == prefix + kWriteBacksKey) {
      auto count = number_from<std::uint64_t>(e.value);
      if (!count)
        return {std::nullopt, e.key + " holds " + quoted_printable(e.value) + ", not a count of write-backs"};
      copy.write_backs = *count;
      continue;
    }
    if (e.key == prefix + "initialize") copy.initialize = e.value;
    else if (e.key == prefix + "config") copy.config = e.value;
    else if (e.key == prefix + "sync") copy.sync = e.value;
    else continue;
    copy.index = std::max(copy.index, e.modify_index);
  }
  if (copy.initialize.empty() || copy.index == 0) return {};
  return {copy, {}};
}

std::vector<consul::TxnOp> restore_ops(const std::string& prefix, const KeysCopy& copy) {
  using Verb = consul::TxnOp::Verb;
  std::vector<consul::TxnOp> ops;
  // cas with index 0: only where the key is absent; any key there already
  // (Patroni wrote it meanwhile) fails the whole transaction.
  if (copy.config) ops.push_back({Verb::cas, prefix + "config", *copy.config, 0, ""});
  if (copy.sync) ops.push_back({Verb::cas, prefix + "sync", *copy.sync, 0, ""});
  ops.push_back({Verb::cas, prefix + kWriteBacksKey, std::to_string(copy.write_backs + 1), 0, ""});
  ops.push_back({Verb::cas, prefix + "initialize", copy.initialize, 0, ""});
  return ops;
}

}  // namespace hasup::patroni
