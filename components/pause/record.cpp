#include "components/pause/record.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::pause {

using nlohmann::json;

namespace {

constexpr int kSchema = 1;

}  // namespace

std::string encode(const PauseRecord& r) {
  return json_text(json{{"schema", kSchema}, {"paused", r.paused}, {"by", r.by}, {"at", r.at}, {"reason", r.reason}});
}

PauseDecode decode_pause(const std::string& text) {
  std::string error;
  auto o = parse_object(text, error);
  if (!o || !schema_ok(*o, kSchema, error)) return {std::nullopt, error};
  PauseRecord r;
  auto paused = o->find("paused");
  if (paused == o->end() || !paused->is_boolean()) return {std::nullopt, "paused is missing or not true/false"};
  r.paused = paused->get<bool>();
  if (!get_string(*o, "by", r.by, error) || !get_string(*o, "at", r.at, error) ||
      !get_string(*o, "reason", r.reason, error))
    return {std::nullopt, error};
  if (r.by.empty() || !printable_ascii(r.by, 128)) return {std::nullopt, "by is not 1-128 printable characters"};
  if (r.at.empty() || !printable_ascii(r.at, 128)) return {std::nullopt, "at is not 1-128 printable characters"};
  if (!printable_ascii(r.reason, kReasonLimit))
    return {std::nullopt, "reason is not up to " + std::to_string(kReasonLimit) + " printable characters"};
  return {r, {}};
}

}  // namespace hasup::pause
