// What the supervisor reads back from the local services: keepalived's notify
// FIFO lines (components/keepalived/notify.hpp; anyone who can write the FIFO
// writes them) and the header of the nginx config file on disk
// (components/nginx/decide.hpp), which a restarted supervisor trusts to know
// what nginx serves.
#include "components/keepalived/notify.hpp"
#include "components/nginx/decide.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using hasup::fuzz::must_hold;

enum Parser : std::uint8_t { notify_line, nginx_file, count };

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [parser, text] = hasup::fuzz::pick(data, size, Parser::count);
  switch (parser) {
    case notify_line:
      if (auto event = hasup::keepalived::parse_notify_line(text))
        must_hold(!event->name.empty() && event->priority >= 0 && event->priority <= 255);
      break;
    case nginx_file:
      // The file the supervisor wrote reads back as what it wrote.
      if (auto file = hasup::loop::parse_nginx_file(text)) {
        auto again = hasup::loop::parse_nginx_file(hasup::loop::nginx_file_text(file->generation, file->fingerprint, file->body));
        must_hold(again && again->generation == file->generation && again->fingerprint == file->fingerprint &&
                  again->body == file->body);
      }
      break;
  }
  return 0;
}
