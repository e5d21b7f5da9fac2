#pragma once
// The supervisor keeps syncthing's devices, its folders and the options that
// keep it inside the cluster as they must be, through PUT /rest/config: it
// reads the whole config, changes only what it manages, and writes it back
// when (and only when) something differs. Pure: JSON text in, JSON text out.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/syncthing/model.hpp"

namespace hasup::syncthing {

struct ConfigChange {
  std::string body;                  // the whole config for PUT /rest/config
  std::vector<std::string> changes;  // what differs, for the log: "device n3 added", ...
};

struct ConfigPlan {
  std::string error;                    // the current config could not be read: nothing is changed
  std::optional<ConfigChange> change;   // nullopt: already as desired
};

// `current`: GET /rest/config as syncthing answered it. New devices and
// folders start from its own `defaults` section, so fields this code does not
// know keep syncthing's defaults.
ConfigPlan plan_config(std::string_view current, const DesiredConfig& desired);

}  // namespace hasup::syncthing
