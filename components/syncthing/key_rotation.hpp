#pragma once
// The rotation of syncthing's API keys: what each node decides, and where the
// cluster's rotation stands (GET /rotate, hactl rotate syncthing-key). Pure.
//
// Nothing is shared but the generation asked for (key_record.hpp): each node
// whose key is older makes a new one and gives it to its syncthing, its upload
// gate and itself (the driver), and says the generation it reached in its member
// record. No leader step: the keys are independent, and a node's switch
// concerns that node alone. syncthing takes a key change without a restart (it
// restarts its API listener), and its clients read their key file again when
// syncthing refuses the key they hold (client.hpp), so no request fails.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "components/syncthing/key_record.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// A rotation that failed on this node is tried again after this long.
inline constexpr std::chrono::milliseconds kKeyRotationRetry{5000};

// The rotation the cluster asks for, or why the stored one is unreadable.
struct WantedKeyRotation {
  std::optional<syncthing::KeyRotationRecord> record;
  std::string error;
};
WantedKeyRotation wanted_key_rotation(const KvView& kv);

// Adds RotateSyncthingKey when this node's key is older than the generation
// asked for and syncthing answers; returns a note for the plan's reason.
std::string decide_key_rotation(Plan& plan, const Snapshot& s);

// The live members that replicate files and have not reached `generation`.
std::vector<std::string> key_rotation_waiting_for(const KvView& kv, std::uint64_t generation);

// The generation a new request asks for: past the stored one and every
// member's (a record lost with Consul's data must not make a generation
// count again). Refused ("" in `refusal` when not) while one is under way.
struct KeyRotationRequest {
  std::uint64_t generation = 0;
  std::string refusal;
};
KeyRotationRequest next_key_rotation(const KvView& kv);

// GET /rotate's "syncthing-key": {"rotation": {generation, step, waiting_for,
// say}} while one is under way, {"last": {generation, outcome, detail}} once
// it ended, and "errors" (the nodes' failures).
nlohmann::json syncthing_key_status(const Snapshot& s);

}  // namespace hasup::loop
