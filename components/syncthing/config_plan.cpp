#include "components/syncthing/config_plan.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace hasup::syncthing {

using nlohmann::json;

namespace {

// Options that keep syncthing talking to this cluster only, and quick to
// reconnect to a node that comes back (its default waits up to 60 s).
json managed_options(const DesiredConfig& d) {
  return json{{"listenAddresses", json::array({d.listen_address})},
              {"globalAnnounceEnabled", false},
              {"localAnnounceEnabled", false},
              {"relaysEnabled", false},
              {"natEnabled", false},
              {"startBrowser", false},
              {"urAccepted", -1},
              {"autoUpgradeIntervalH", 0},
              {"crashReportingEnabled", false},
              {"announceLANAddresses", false},
              {"stunKeepaliveStartS", 0},
              {"reconnectionIntervalS", kReconnectionIntervalS}};
}

// Device lists are sets: syncthing may answer them in any order.
json sorted_by_device(json list) {
  if (!list.is_array()) return list;
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return a.value("deviceID", std::string{}) < b.value("deviceID", std::string{});
  });
  return list;
}

json normalized(json config) {
  if (config.contains("devices")) config["devices"] = sorted_by_device(config["devices"]);
  if (config.contains("folders") && config["folders"].is_array())
    for (auto& folder : config["folders"])
      if (folder.is_object() && folder.contains("devices")) folder["devices"] = sorted_by_device(folder["devices"]);
  return config;
}

std::string shape_problem(const json& c) {
  if (!c.is_object()) return "is not a JSON object";
  if (!c.contains("devices") || !c["devices"].is_array()) return "has no devices list";
  if (!c.contains("folders") || !c["folders"].is_array()) return "has no folders list";
  if (!c.contains("options") || !c["options"].is_object()) return "has no options object";
  if (!c.contains("defaults") || !c["defaults"].is_object() || !c["defaults"].contains("device") ||
      !c["defaults"]["device"].is_object() || !c["defaults"].contains("folder") ||
      !c["defaults"]["folder"].is_object())
    return "has no defaults for devices and folders (syncthing older than 1.12?)";
  for (const auto& d : c["devices"])
    if (!d.is_object() || !d.contains("deviceID") || !d["deviceID"].is_string()) return "has a device without an id";
  for (const auto& f : c["folders"])
    if (!f.is_object() || !f.contains("id") || !f["id"].is_string()) return "has a folder without an id";
  return {};
}

json device_entry(const json& existing, const std::string& id, const std::string& name, const std::string& address,
                  bool paused) {
  json d = existing;
  d["deviceID"] = id;
  d["name"] = name;
  if (!address.empty() || !d.contains("addresses") || !d["addresses"].is_array() || d["addresses"].empty())
    d["addresses"] = json::array({address.empty() ? "dynamic" : address});
  d["paused"] = paused;
  d["introducer"] = false;
  d["autoAcceptFolders"] = false;
  return d;
}

}  // namespace

ConfigPlan plan_config(std::string_view current, const DesiredConfig& d) {
  ConfigPlan plan;
  json config = json::parse(current, nullptr, false);
  if (config.is_discarded()) {
    plan.error = "syncthing's config is not valid JSON";
    return plan;
  }
  if (auto problem = shape_problem(config); !problem.empty()) {
    plan.error = "syncthing's config " + problem;
    return plan;
  }
  const json& default_device = config["defaults"]["device"];
  const json& default_folder = config["defaults"]["folder"];
  std::vector<std::string> changes;

  // Devices: this node and every peer, nothing else.
  std::map<std::string, json> existing;
  for (const auto& dev : config["devices"]) existing[dev["deviceID"].get<std::string>()] = dev;
  auto base = [&](const std::string& id) { return existing.count(id) ? existing[id] : default_device; };
  json devices = json::array();
  std::set<std::string> wanted{d.self_device_id};
  devices.push_back(device_entry(base(d.self_device_id), d.self_device_id, d.self_name, d.listen_address, false));
  for (const auto& peer : d.peers) {
    if (!wanted.insert(peer.device_id).second) continue;
    json entry = device_entry(base(peer.device_id), peer.device_id, peer.name, peer.address, peer.paused);
    if (!existing.count(peer.device_id)) {
      changes.push_back("device " + peer.name + " added" + (peer.paused ? " (paused: not alive)" : ""));
    } else if (existing[peer.device_id] != entry) {
      const bool was_paused = existing[peer.device_id].value("paused", false);
      json unpaused = existing[peer.device_id];
      unpaused["paused"] = peer.paused;
      if (was_paused != peer.paused && unpaused == entry)
        changes.push_back("device " + peer.name + (peer.paused ? " paused (not alive)" : " resumed (alive)"));
      else
        changes.push_back("device " + peer.name + " updated");
    }
    devices.push_back(entry);
  }
  for (const auto& [id, dev] : existing)
    if (!wanted.count(id)) changes.push_back("device " + dev.value("name", id) + " removed");
  json out = config;
  out["devices"] = devices;

  // Folders: ours shared with every device; others only lose devices that are gone.
  std::set<std::string> ours;
  for (const auto& f : d.folders) ours.insert(f.id);
  json folder_devices = json::array();
  for (const auto& id : wanted) folder_devices.push_back({{"deviceID", id}, {"introducedBy", ""}, {"encryptionPassword", ""}});
  json folders = json::array();
  std::set<std::string> seen;
  for (auto folder : config["folders"]) {
    const std::string id = folder["id"].get<std::string>();
    if (!ours.count(id) && folder.contains("devices") && folder["devices"].is_array()) {
      json kept = json::array();
      for (const auto& dev : folder["devices"])
        if (dev.is_object() && wanted.count(dev.value("deviceID", std::string{}))) kept.push_back(dev);
      folder["devices"] = kept;
    }
    if (!ours.count(id)) folders.push_back(folder);
    seen.insert(id);
  }
  for (const auto& f : d.folders) {
    json folder = default_folder;
    for (const auto& current_folder : config["folders"])
      if (current_folder["id"] == f.id) folder = current_folder;
    if (!seen.count(f.id)) changes.push_back("folder " + f.path + " added");
    folder["id"] = f.id;
    folder["label"] = f.path;
    folder["path"] = f.path;
    folder["type"] = "sendreceive";
    folder["paused"] = false;
    // A change the upload gate does not see (written by hand, or by a
    // service that bypasses it) still reaches the peers within a second.
    folder["fsWatcherEnabled"] = true;
    folder["fsWatcherDelayS"] = 1;
    // Conflicting copies are kept, all of them: they are shown, never dropped.
    folder["maxConflicts"] = -1;
    // Modes come from the writer's umask on each node, not from the peers:
    // syncthing and the REST service are two users sharing the folder's
    // group, and only a file's owner may chmod it (syncthing failed on every
    // folder the REST service had made: "chmod: operation not permitted").
    folder["ignorePerms"] = true;
    json devs = json::array();
    std::map<std::string, json> current_devs;
    if (folder.contains("devices") && folder["devices"].is_array())
      for (const auto& dev : folder["devices"])
        if (dev.is_object()) current_devs[dev.value("deviceID", std::string{})] = dev;
    for (const auto& dev : folder_devices) {
      const std::string id = dev["deviceID"];
      devs.push_back(current_devs.count(id) ? current_devs[id] : dev);
    }
    folder["devices"] = devs;
    folders.push_back(folder);
  }
  out["folders"] = folders;

  const json options = managed_options(d);
  for (const auto& [key, value] : options.items()) {
    if (!out["options"].contains(key) || out["options"][key] != value) changes.push_back("option " + key);
    out["options"][key] = value;
  }

  if (normalized(out) == normalized(config)) return plan;
  if (changes.empty()) changes.push_back("folder settings");
  plan.change = ConfigChange{out.dump(), changes};
  return plan;
}

}  // namespace hasup::syncthing
