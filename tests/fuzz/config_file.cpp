// The supervisor's config file (supervisor/config/config.hpp), read through
// libconfig++ and the one schema. The loader's contract: every problem is an
// error with its key and line, never an exception and never "internal error"
// (which is what load_string makes of an exception it had to catch).
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
  return 0;
}
