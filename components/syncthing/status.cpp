#include "components/syncthing/status.hpp"

#include <cmath>

#include "components/syncthing/decide.hpp"
#include "components/syncthing/key_rotation.hpp"

namespace hasup::loop {

using nlohmann::json;

json files_status(const Snapshot& s) {
  const auto& f = s.files;
  json peers = json::array();
  for (const auto& [id, p] : f.peers) {
    json completion = json::object();
    for (const auto& [folder, c] : p.completion)
      completion[folder] = {{"percent", std::floor(c.percent * 10) / 10}, {"need_items", c.need_items},
                            {"need_bytes", c.need_bytes}, {"need_deletes", c.need_deletes}};
    peers.push_back({{"name", p.name}, {"device_id", id}, {"connected", p.connected}, {"completion", completion}});
  }
  json folders = json::array();
  for (const auto& folder : f.folders) {
    json status = nullptr;
    if (auto it = f.folder_status.find(folder.id); it != f.folder_status.end())
      status = {{"state", it->second.state}, {"error", it->second.error}, {"need_items", it->second.need_items},
                {"need_bytes", it->second.need_bytes}, {"pull_errors", it->second.pull_errors}};
    folders.push_back({{"id", folder.id}, {"path", folder.path}, {"status", status}});
  }
  return {{"summary", files_summary(f)}, {"device_id", f.device_id}, {"api_error", f.api_error},
          {"peers", peers}, {"folders", folders}, {"conflicts", f.conflicts},
          {"conflict_examples", f.conflict_examples}, {"last_error", f.last_error},
          {"unit", f.unit}, {"problem", files_problem(s)}, {"space", util::filesystem_space_json(f.space)},
          {"key_generation", f.key_generation}, {"key_error", f.key_error}, {"key_rotation", syncthing_key_status(s)}};
}

}  // namespace hasup::loop
