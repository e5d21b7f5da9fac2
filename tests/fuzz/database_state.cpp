// The database's state as its HA backend leaves it in Consul: stolon's
// clusterdata (components/stolon/clusterdata.hpp) and Patroni's keys
// (components/patroni/dcs_state.hpp), read from Consul's KV listing as the
// Patroni backend reads them; Patroni's secrets file (components/patroni/render.hpp);
// and a WAL position as PostgreSQL prints it (components/postgres/probe.hpp).
#include <algorithm>

#include "components/patroni/dcs_state.hpp"
#include "components/patroni/render.hpp"
#include "components/postgres/probe.hpp"
#include "components/stolon/clusterdata.hpp"
#include "supervisor/consul/parse.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace hasup;
using fuzz::must_hold;

enum Parser : std::uint8_t { stolon_clusterdata, patroni_keys, patroni_secrets, lsn, count };

// What both backends' headers promise of a view: members sorted by name, and
// each refused piece of data as one printable line (escaped, so a log or the
// status table shows it as it is).
void check_view(const db::DbClusterParse& parse) {
  must_hold(parse.view.has_value() != !parse.error.empty());
  if (!parse.view) return;
  const auto& members = parse.view->members;
  must_hold(std::is_sorted(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.name < b.name; }));
  for (const auto& line : parse.view->problems)
    must_hold(std::all_of(line.begin(), line.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
}

void check_patroni_keys(const std::string& listing) {
  auto entries = consul::parse_kv_entries(listing);
  if (!entries) return;
  std::vector<patroni::PatroniKey> keys;  // as PatroniBackend::read_state hands them over
  for (const auto& e : entries.value()) keys.push_back({e.key, e.value, e.session});
  check_view(patroni::parse_patroni_state("service/mgrdb/", keys));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [parser, text] = fuzz::pick(data, size, Parser::count);
  switch (parser) {
    case stolon_clusterdata: {
      auto parse = stolon::parse_stolon_clusterdata(text);
      check_view(parse);
      // Without a primary there is no set of standbys to fail over to (clusterdata.hpp).
      if (parse.view && parse.view->primary.empty()) must_hold(parse.view->sync_standbys.empty());
      break;
    }
    case patroni_keys: check_patroni_keys(text); break;
    case patroni_secrets: patroni::parse_secrets(text); break;
    case lsn: db::parse_lsn(text); break;
  }
  return 0;
}
