#include "supervisor/util/nft.hpp"

#include <chrono>
#include <vector>

#include "supervisor/util/command.hpp"
#include "supervisor/util/files.hpp"

namespace hasup {

std::string load_nft_script(const std::string& nft, const std::string& path, const std::string& script) {
  if (auto error = write_file_atomically(path, script, 0644); !error.empty()) return error;
  std::vector<std::string> argv{nft, "-f", path};
  CommandResult result = run_command(argv, std::chrono::seconds(10));
  return result.ok() ? "" : nft + " -f " + path + ": " + result.summary();
}

bool nft_table_present(const std::string& nft, const std::string& table) {
  std::vector<std::string> argv{nft, "list", "table", "ip", table};
  return run_command(argv, std::chrono::seconds(5)).ok();
}

}  // namespace hasup
