#pragma once
// Where stolon keeps its state in Consul, and the stolonctl command lines the
// supervisor runs. The flags are written here and in the unit files
// (stolon-*.service), nowhere else; they are stolon v0.17.0's (cmd/common.go,
// cmd/stolonctl/cmd/init.go).
#include <string>
#include <vector>

namespace hasup::stolon {

struct StoreTarget {
  std::string cluster_name;                         // --cluster-name
  std::string consul_endpoint = "http://127.0.0.1:8500";  // --store-endpoints (one Consul agent)
  std::string store_prefix = "stolon/cluster";      // --store-prefix (stolon's default)
  std::string ca_file;  // --store-ca-file: an https:// endpoint's CA (empty: none given)
};

// stolon joins prefix and cluster name like a path; Consul keys have no leading '/'.
std::string store_path(const StoreTarget& target);         // "stolon/cluster/NAME"
std::string clusterdata_key(const StoreTarget& target);    // "stolon/cluster/NAME/clusterdata"

// `stolonctl init` with the spec in a file, without asking for confirmation.
// stolonctl init OVERWRITES an existing clusterdata (v0.17.0 reads it only to
// print a warning): run it through bootstrap_once (bootstrap_once.hpp), never
// directly.
std::vector<std::string> stolonctl_init_argv(const std::string& stolonctl, const StoreTarget& target,
                                             const std::string& spec_file);

}  // namespace hasup::stolon
