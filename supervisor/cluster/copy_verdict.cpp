#include "supervisor/cluster/copy_verdict.hpp"

#include <vector>

#include "supervisor/util/split.hpp"

namespace hasup::cluster {

std::string newness_text(const std::string& measure, const CopyNewness& newness) {
  std::string text = measure + " " + std::to_string(newness.number);
  if (newness.write_backs > 0)
    text += " after " + std::to_string(newness.write_backs) + " write-back" + (newness.write_backs > 1 ? "s" : "");
  return text;
}

CopyVerdict newest_copy_verdict(const std::map<std::string, CopyNewness>& copies, std::size_t nodes,
                                const std::string& what, const std::string& measure, const std::string& accepted) {
  const std::size_t majority = nodes / 2 + 1;
  std::vector<std::string> holders;
  for (const auto& [name, newness] : copies) holders.push_back(name);
  if (copies.size() < majority) {
    const std::string few = "copies of " + what + " on " + std::to_string(copies.size()) + " of " +
                            std::to_string(nodes) + " nodes (" +
                            (holders.empty() ? std::string("none") : sentence_list(holders)) + ")";
    if (!accepted.empty()) {
      auto copy = copies.find(accepted);
      if (copy == copies.end())
        return {"", few + "; the founder the operator accepted, " + accepted +
                        ", holds none (hactl cold-start --cancel, then accept a node that holds one)"};
      return {accepted, few + "; the operator accepted " + accepted + " as founder (hactl cold-start --accept): it "
                        "writes " + what + " back from its copy (" + newness_text(measure, copy->second) + ")"};
    }
    return {"", few + "; waiting for a majority (" + std::to_string(majority) +
                    "): a node cut off before the loss holds an older copy; or accept a founder that holds one: "
                    "hactl cold-start --accept NODE --dry-run"};
  }
  std::string newest;
  CopyNewness newest_value;
  for (const auto& [name, newness] : copies)  // by name: the lowest name among equals
    if (newest.empty() || newness > newest_value) newest = name, newest_value = newness;
  return {newest, newest + " holds the newest copy (" + newness_text(measure, newest_value) + ", of " +
                      sentence_list(holders) + "): it writes " + what + " back"};
}

}  // namespace hasup::cluster
