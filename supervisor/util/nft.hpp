#pragma once
// Loading a table into the kernel's nftables, the one way every component
// does it: the script is written to a file first (an operator can read what
// was loaded, and nft's errors name its lines), then `nft -f FILE` applies
// it in one transaction, so the old table stays until the new one is whole.
#include <string>

namespace hasup {

// Blocking (runs nft): call it from a worker thread. "" on success, else why not.
std::string load_nft_script(const std::string& nft, const std::string& path, const std::string& script);

// Blocking too. Whether `ip TABLE` is in the kernel now: a firewall service
// that starts with `flush ruleset` (Debian's /etc/nftables.conf does) empties
// every table under the supervisor, so what it loaded must be looked for again.
bool nft_table_present(const std::string& nft, const std::string& table);

}  // namespace hasup
