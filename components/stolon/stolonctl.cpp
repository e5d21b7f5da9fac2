#include "components/stolon/stolonctl.hpp"

namespace hasup::stolon {

namespace {

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string store_path(const StoreTarget& target) {
  std::string prefix = trim_slashes(target.store_prefix);
  std::string name = trim_slashes(target.cluster_name);
  return prefix.empty() ? name : prefix + "/" + name;
}

std::string clusterdata_key(const StoreTarget& target) { return store_path(target) + "/clusterdata"; }

std::vector<std::string> stolonctl_init_argv(const std::string& stolonctl, const StoreTarget& target,
                                             const std::string& spec_file) {
  std::vector<std::string> argv = {stolonctl, "--cluster-name=" + target.cluster_name, "--store-backend=consul",
                                   "--store-endpoints=" + target.consul_endpoint,
                                   "--store-prefix=" + target.store_prefix};
  if (!target.ca_file.empty()) argv.push_back("--store-ca-file=" + target.ca_file);
  for (const char* rest : {"init", "--yes"}) argv.emplace_back(rest);
  argv.push_back("--file=" + spec_file);
  return argv;
}

}  // namespace hasup::stolon
