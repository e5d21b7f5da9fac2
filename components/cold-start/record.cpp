#include "components/cold-start/record.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/node_name.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::cold_start {

using nlohmann::json;

namespace {

constexpr int kSchema = 1;

// Words shown in logs, events and hactl's terminal: printable ASCII, short.
bool plain_words(const std::string& text) { return !text.empty() && printable_ascii(text, 128); }

}  // namespace

std::string encode(const AcceptRecord& record) {
  return json_text(json{{"schema", kSchema},
                        {"node", record.node},
                        {"requested_by", record.requested_by},
                        {"requested_at", record.requested_at}});
}

AcceptDecode decode_accept(const std::string& text) {
  std::string error;
  auto o = parse_object(text, error);
  if (!o || !schema_ok(*o, kSchema, error)) return {std::nullopt, error};
  AcceptRecord r;
  if (!get_string(*o, "node", r.node, error) || !get_string(*o, "requested_by", r.requested_by, error) ||
      !get_string(*o, "requested_at", r.requested_at, error))
    return {std::nullopt, error};
  // The name reaches Patroni's API and the operator's terminal.
  if (auto why = node_name_problem(r.node); !why.empty())
    return {std::nullopt, "node " + quoted_printable(r.node) + " " + why};
  if (!plain_words(r.requested_by)) return {std::nullopt, "requested_by is not 1-128 printable characters"};
  if (!plain_words(r.requested_at)) return {std::nullopt, "requested_at is not 1-128 printable characters"};
  return {r, {}};
}

}  // namespace hasup::cold_start
