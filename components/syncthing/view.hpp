#pragma once
// The replicated folders as the loop sees them: their part of the snapshot (snapshot.hpp).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/syncthing/model.hpp"
#include "components/syncthing/observe_parse.hpp"
#include "supervisor/util/filesystem_space.hpp"

namespace hasup::loop {

// A peer of this node's syncthing, as it last reported.
struct SyncPeerView {
  std::string name;
  std::string device_id;
  bool connected = false;
  // Per folder id: how far the peer is from the folder's global state.
  std::map<std::string, syncthing::Completion> completion;
  bool operator==(const SyncPeerView&) const = default;
};

// The replicated folders on this node: syncthing's identity and config as it
// answered, its peers, what this node still misses, and conflict copies.
struct FilesView {
  bool enabled = false;
  std::string unit;
  std::vector<syncthing::Folder> folders;
  std::string listen_address;                     // tcp://SELF:SYNC_PORT
  int sync_port = 0;
  bool api_known = false;                         // syncthing's API answered at least once
  std::string api_error;                          // the newest failure to read it; empty after a success
  std::chrono::milliseconds api_failing_for{0};  // since the last whole read (0 while reads succeed)
  std::string device_id;                          // this node's, once read
  std::optional<std::string> current_config;      // GET /rest/config as last read
  std::map<std::string, SyncPeerView> peers;      // by device id: the devices syncthing knows, but self
  std::map<std::string, syncthing::FolderStatus> folder_status;  // by folder id, this node's own
  std::chrono::milliseconds behind_for{0};        // this node missing items its peers have, since
  std::chrono::milliseconds unfit_after{0};
  // Registered peers with no member record now, and for how long. A peer's
  // device is paused only once it has been gone for pause_after: its record
  // also vanishes for a moment when its session is renewed after a Consul
  // leader election, and a pause drops a live connection that syncthing
  // then takes seconds to make again (the upload gate waits meanwhile).
  std::map<std::string, std::chrono::milliseconds> absent_for;
  std::chrono::milliseconds pause_after{0};
  std::size_t conflicts = 0;                      // conflict copies found by the newest search
  std::vector<std::string> conflict_examples;     // a few of their paths
  std::string last_error;                         // newest failure to apply the config
  // The folders' filesystem (of the folder with the least room), read each
  // cycle, and whether it is full (util::filesystem_full, with its
  // hysteresis). A full node takes an upload and fails it ("No space left on
  // device"): while it holds the floating IP every upload fails.
  util::FilesystemSpaceRead space;
  bool full = false;
  // syncthing's API key (hactl rotate syncthing-key): the generation of this
  // node's key (0: the install's), and the newest failure to rotate it
  // ("" none) with how long ago it was said.
  std::uint64_t key_generation = 0;
  std::string key_error;
  std::chrono::milliseconds key_error_ago{0};
};

}  // namespace hasup::loop
