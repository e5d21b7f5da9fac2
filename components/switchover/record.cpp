#include "components/switchover/record.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/node_name.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::switchover {

using nlohmann::json;

namespace {

constexpr int kSchema = 1;

constexpr Phase kPhases[] = {Phase::floating_ip, Phase::hold, Phase::database, Phase::done, Phase::failed};

std::optional<Phase> phase_named(const std::string& word) {
  for (Phase p : kPhases)
    if (to_string(p) == word) return p;
  return std::nullopt;
}

bool id_ok(const std::string& id) {
  return id.size() == 11 && id.rfind("so-", 0) == 0 &&
         std::all_of(id.begin() + 3, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool get_ms(const json& o, const char* name, std::int64_t& out, std::string& error) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_number_integer()) {
    error = std::string(name) + " is missing or not an integer";
    return false;
  }
  out = it->get<std::int64_t>();
  if (out < 0) {
    error = std::string(name) + " is negative";
    return false;
  }
  return true;
}

}  // namespace

std::string to_string(Phase phase) {
  switch (phase) {
    case Phase::hold: return "hold";
    case Phase::database: return "database";
    case Phase::floating_ip: return "floating-ip";
    case Phase::done: return "done";
    case Phase::failed: return "failed";
  }
  return "unknown";
}

bool ended(Phase phase) { return phase == Phase::done || phase == Phase::failed; }

std::string encode(const SwitchoverRecord& r) {
  json steps = json::array();
  for (const auto& s : r.steps) steps.push_back(json{{"name", s.name}, {"ms", s.ms}});
  return json_text(json{{"schema", kSchema},
                        {"id", r.id},
                        {"from", r.from},
                        {"to", r.to},
                        {"requested_by", r.requested_by},
                        {"requested_at", r.requested_at},
                        {"phase", to_string(r.phase)},
                        {"phase_started_ms", r.phase_started_ms},
                        {"hold_until_ms", r.hold_until_ms},
                        {"steps", steps},
                        {"outcome", r.outcome}});
}

SwitchoverDecode decode_switchover(const std::string& text) {
  std::string error;
  auto o = parse_object(text, error);
  if (!o || !schema_ok(*o, kSchema, error)) return {std::nullopt, error};
  SwitchoverRecord r;
  std::string phase;
  if (!get_string(*o, "id", r.id, error) || !get_string(*o, "from", r.from, error) ||
      !get_string(*o, "to", r.to, error) || !get_string(*o, "requested_by", r.requested_by, error) ||
      !get_string(*o, "requested_at", r.requested_at, error) || !get_string(*o, "phase", phase, error) ||
      !get_string(*o, "outcome", r.outcome, error) || !get_ms(*o, "phase_started_ms", r.phase_started_ms, error) ||
      !get_ms(*o, "hold_until_ms", r.hold_until_ms, error))
    return {std::nullopt, error};
  if (!id_ok(r.id)) return {std::nullopt, "id " + quoted_printable(r.id, 40) + " is not so- and 8 hex digits"};
  // The names reach Patroni's API and the operator's terminal.
  for (const auto* name : {&r.from, &r.to})
    if (auto why = node_name_problem(*name); !why.empty())
      return {std::nullopt, "node " + quoted_printable(*name, 80) + " " + why};
  auto parsed_phase = phase_named(phase);
  if (!parsed_phase) return {std::nullopt, "phase " + quoted_printable(phase, 40) + " is none of floating-ip, hold, "
                                           "database, done, failed"};
  r.phase = *parsed_phase;
  if (!printable_ascii(r.requested_by, 128) || r.requested_by.empty())
    return {std::nullopt, "requested_by is not 1-128 printable characters"};
  if (!printable_ascii(r.requested_at, 128) || r.requested_at.empty())
    return {std::nullopt, "requested_at is not 1-128 printable characters"};
  if (!printable_ascii(r.outcome, 1024)) return {std::nullopt, "outcome is not up to 1024 printable characters"};
  auto steps = o->find("steps");
  if (steps == o->end() || !steps->is_array() || steps->size() > 8)
    return {std::nullopt, "steps is missing or not a list of at most 8"};
  for (const auto& item : *steps) {
    Step step;
    if (!item.is_object() || !get_string(item, "name", step.name, error) || !get_ms(item, "ms", step.ms, error) ||
        !phase_named(step.name))
      return {std::nullopt, "a step is not {name: a phase, ms: an integer}" + (error.empty() ? "" : ": " + error)};
    r.steps.push_back(step);
  }
  return {r, {}};
}

SwitchoverRecord advanced(const SwitchoverRecord& record, Phase next, std::int64_t now_ms, std::string outcome) {
  SwitchoverRecord r = record;
  r.steps.push_back(Step{to_string(record.phase), std::max<std::int64_t>(0, now_ms - record.phase_started_ms)});
  r.phase = next;
  r.phase_started_ms = now_ms;
  if (!outcome.empty()) r.outcome = std::move(outcome);
  return r;
}

bool database_phase(const std::string& kv_text) {
  auto decoded = decode_switchover(kv_text);
  return decoded.record && decoded.record->phase == Phase::database;
}

}  // namespace hasup::switchover
