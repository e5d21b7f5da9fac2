#pragma once
// The one preamble of every nft table the supervisor renders (the VRRP filter,
// the dead peers', the members-only ports'): the script replaces `ip TABLE`
// whole, in one transaction. Pure and header-only: the renderers' parsers are
// fuzzed alone (tests/fuzz), without nft's runner (util/nft.hpp).
#include <string>

namespace hasup {

// COMMENT (one line, "# " added), the table made to exist (so that deleting
// it never fails), deleted, then written again with BODY (its sets and
// chains, each line indented and ending in a newline).
inline std::string nft_replace_table_script(const std::string& comment, const std::string& table,
                                            const std::string& body) {
  const std::string head = "table ip " + table;
  return "# " + comment + "\n" + head + "\ndelete " + head + "\n" + head + " {\n" + body + "}\n";
}

}  // namespace hasup
