#pragma once
// syncthing as the supervisor sees it: plain values, no I/O. Device ids and
// addresses of peers come from Consul (each node registers its own), so they
// are data to validate, never trusted text.
#include <cstdint>
#include <string>
#include <vector>

namespace hasup::syncthing {

// A folder replicated between every node: the same id and path on each.
struct Folder {
  std::string id;    // folder_id(path)
  std::string path;  // absolute
  bool operator==(const Folder&) const = default;
};

struct Peer {
  std::string name;       // node name; also the device's name in syncthing
  std::string device_id;  // XXXXXXX-XXXXXXX-... (8 groups of 7, base32)
  std::string address;    // tcp://IP:PORT when this node dials it, else "dynamic" (it dials us);
                          // empty: as syncthing has it ("dynamic" for a new device)
  // A registered node that is not alive now (no member record: crashed, cut
  // off, stopped). Its device is paused: syncthing itself notices a dead peer
  // only after minutes (no RST from a powered-off machine), and until it does
  // the peer counts as connected, so the upload gate would wait for it.
  bool paused = false;
  bool operator==(const Peer&) const = default;
};

// What this node's syncthing must be told.
struct DesiredConfig {
  std::string self_name;
  std::string self_device_id;
  std::string listen_address;  // tcp://IP:PORT
  std::vector<Peer> peers;     // every other registered node with a device id
  std::vector<Folder> folders;
  bool operator==(const DesiredConfig&) const = default;
};

// The folder id for a path, the same on every node: "ha" + the path with '/'
// turned into '-' ("/opt/manager/resources" -> "ha-opt-manager-resources").
std::string folder_id(const std::string& path);

// Whether this device dials that one. Of each pair only one side dials, the
// one whose device id sorts first, and only once the other side's config has
// it; the other side lists the dialer with the address "dynamic", which with
// discovery off resolves to nothing. syncthing 1.19.2 refuses a dial from a
// device it does not know yet, force-redials a device at most 3 times in 2
// minutes (a config change, a lost connection), and otherwise dials on its
// start-up schedule (sleeps of 5, 5, 5, 8, 16, 32 s): a refused first dial
// cost 16-32 s (lib/connections/service.go).
bool dials(const std::string& self_device_id, const std::string& peer_device_id);

// How soon syncthing dials a lost peer again (its default is 60 s).
inline constexpr int kReconnectionIntervalS = 5;

// A syncthing device id: 8 groups of 7 of A-Z and 2-7, separated by '-'.
bool is_device_id(const std::string& text);

}  // namespace hasup::syncthing
