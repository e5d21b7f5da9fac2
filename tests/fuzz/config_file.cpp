// The supervisor's config file (supervisor/config/config.hpp), read through
// libconfig++ and the one schema. The loader's contract: every problem is an
// error with its key and line, never an exception and never "internal error"
// (which is what load_string makes of an exception it had to catch). The
// same bytes are also the cluster's settings from Consul (JSON laid over a
// node's file: overlay_cluster_settings), under the same contract.
#include <algorithm>

#include "supervisor/config/config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hasup::fuzz::must_hold;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = hasup::config::load_string(text, "fuzz.conf");
  must_hold(loaded.config.has_value() == loaded.errors.empty());
  must_hold(std::none_of(loaded.errors.begin(), loaded.errors.end(), [](const auto& e) {
    return e.message.starts_with("internal error while loading");
  }));
  static const hasup::config::Config base =
      *hasup::config::load_string("node: { name = \"n1\"; address = \"198.18.0.11\"; };", "base.conf").config;
  auto overlaid = hasup::config::overlay_cluster_settings(base, text, "fuzz settings");
  must_hold(overlaid.config.has_value() == overlaid.errors.empty());
  must_hold(std::none_of(overlaid.errors.begin(), overlaid.errors.end(), [](const auto& e) {
    return e.message.starts_with("internal error while checking");
  }));
  return 0;
}
