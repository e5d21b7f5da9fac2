#include "components/syncthing/key_rotation.hpp"

#include <algorithm>

#include "supervisor/util/split.hpp"

namespace hasup::loop {

using nlohmann::json;

WantedKeyRotation wanted_key_rotation(const KvView& kv) {
  if (!kv.syncthing_key) return {};
  auto decoded = syncthing::decode_key_rotation(kv.syncthing_key->text);
  if (!decoded.record)
    return {std::nullopt, "the stored rotation of syncthing's API keys is unreadable (" + decoded.error +
                              "): no key rotates until hactl rotate syncthing-key writes a new one"};
  return {decoded.record, {}};
}

std::string decide_key_rotation(Plan& plan, const Snapshot& s) {
  const FilesView& f = s.files;
  if (!f.enabled || !s.kv.known) return {};
  auto wanted = wanted_key_rotation(s.kv);
  if (!wanted.error.empty()) return "files: " + wanted.error;
  if (!wanted.record || wanted.record->generation <= f.key_generation) return {};
  const std::string what = "files: syncthing API key rotation " + std::to_string(wanted.record->generation) +
                           " (this node's key is from generation " + std::to_string(f.key_generation) + ")";
  if (s.busy.count(Job::rotate_syncthing_key)) return what + ": under way";
  // Not beside a config put: it carries the GUI's key as it was read.
  if (s.busy.count(Job::apply_syncthing_config)) return what + ": after syncthing's config is applied";
  // Its key is read and refused or accepted only once syncthing answers.
  if (!f.api_known || !f.api_error.empty()) return what + ": waiting for syncthing's API";
  if (!f.key_error.empty() && f.key_error_ago < kKeyRotationRetry) {
    plan.wake_within(kKeyRotationRetry - f.key_error_ago);
    return what + ": failed (" + f.key_error + "), tried again soon";
  }
  want(plan, s, RotateSyncthingKey{wanted.record->generation});
  return what;
}

namespace {

// Members that replicate files: they publish a key generation, or (a
// supervisor older than rotation) a syncthing device.
bool replicates_files(const cluster::MemberRecord& r) {
  return r.syncthing_key_generation.has_value() || !r.syncthing_device_id.empty();
}

}  // namespace

std::vector<std::string> key_rotation_waiting_for(const KvView& kv, std::uint64_t generation) {
  std::vector<std::string> waiting;
  for (const auto& [name, r] : kv.members)
    if (replicates_files(r) && r.syncthing_key_generation.value_or(0) < generation) waiting.push_back(name);
  return waiting;
}

KeyRotationRequest next_key_rotation(const KvView& kv) {
  auto wanted = wanted_key_rotation(kv);
  std::uint64_t newest = wanted.record ? wanted.record->generation : 0;
  if (wanted.record) {
    auto waiting = key_rotation_waiting_for(kv, wanted.record->generation);
    if (!waiting.empty())
      return {0, "rotation " + std::to_string(newest) + " of syncthing's API keys is under way (waiting for " +
                     sentence_list(waiting) + "): try again once it has ended (hactl rotate shows it)"};
  }
  for (const auto& [name, r] : kv.members) newest = std::max(newest, r.syncthing_key_generation.value_or(0));
  return {newest + 1, {}};
}

json syncthing_key_status(const Snapshot& s) {
  json out = json::object();
  json errors = json::array();
  for (const auto& [name, r] : s.kv.members)
    if (!r.syncthing_key_error.empty()) errors.push_back(name + ": " + r.syncthing_key_error);
  auto wanted = wanted_key_rotation(s.kv);
  if (!wanted.error.empty()) errors.push_back(wanted.error);
  out["errors"] = errors;
  if (!wanted.record) return out;
  const auto generation = wanted.record->generation;
  out["generation"] = generation;
  out["requested_by"] = wanted.record->by;
  out["requested_at"] = wanted.record->at;
  auto waiting = key_rotation_waiting_for(s.kv, generation);
  if (!waiting.empty()) {
    json names = json::array();
    for (const auto& n : waiting) names.push_back(n);
    out["rotation"] = {{"generation", generation},
                       {"step", "switching"},
                       {"waiting_for", names},
                       {"say", "waiting for " + sentence_list(waiting) +
                                   " to give syncthing a new API key and refuse the previous one"}};
    return out;
  }
  const bool failed = !errors.empty();
  out["last"] = {{"generation", generation},
                 {"outcome", failed ? "failed" : "done"},
                 {"detail", failed ? "every live node's syncthing has a new API key, but: " + errors[0].get<std::string>()
                                   : "every live node's syncthing has a new API key (generation " +
                                         std::to_string(generation) + "); the previous keys are refused"}};
  return out;
}

}  // namespace hasup::loop
