// syncthing's REST answers (components/syncthing/observe_parse.hpp), the one
// set of parsers the supervisor and the upload gate share. A garbled answer
// must be an error, never a value that reads as "replicated".
#include "components/syncthing/model.hpp"
#include "components/syncthing/observe_parse.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace hasup::syncthing;
using hasup::fuzz::must_hold;

enum Parser : std::uint8_t {
  my_id, connections, completion, folder_status, db_file, folder_devices, device_names, remote_need,
  config_devices, restart_required, last_event_id, count
};

template <class T>
void check_either(const Parsed<T>& parsed) {
  must_hold(parsed.value.has_value() != !parsed.error.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [parser, body] = hasup::fuzz::pick(data, size, Parser::count);
  switch (parser) {
    case my_id: {
      auto parsed = parse_my_id(body);
      check_either(parsed);
      if (parsed.value) must_hold(is_device_id(*parsed.value));
      break;
    }
    case connections: check_either(parse_connections(body)); break;
    case completion: {
      auto parsed = parse_completion(body);
      check_either(parsed);
      if (auto c = parsed.value)
        must_hold(c->percent >= 0 && c->percent <= 100 && c->need_items >= 0 && c->need_bytes >= 0 && c->need_deletes >= 0);
      break;
    }
    case folder_status: {
      auto parsed = parse_folder_status(body);
      check_either(parsed);
      // Counts are never negative: a sum that wrapped would read as "nothing to do".
      if (auto f = parsed.value) must_hold(f->need_items >= 0 && f->need_bytes >= 0 && f->pull_errors >= 0);
      break;
    }
    case db_file: check_either(parse_db_file(body)); break;
    case folder_devices: check_either(parse_folder_devices(body)); break;
    case device_names: check_either(parse_device_names(body)); break;
    case remote_need: check_either(parse_remote_need(body)); break;
    case config_devices: check_either(parse_config_devices(body)); break;
    case restart_required: check_either(parse_restart_required(body)); break;
    case last_event_id: {
      constexpr std::int64_t since = 7;
      auto parsed = parse_last_event_id(body, since);
      check_either(parsed);
      if (parsed.value) must_hold(*parsed.value >= since);  // the highest id, or `since` when none
      break;
    }
  }
  return 0;
}
