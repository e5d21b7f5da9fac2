#pragma once
// stolon's initial cluster specification, the JSON `stolonctl init` stores in
// clusterdata, from templates/stolon-cluster-spec.json.mustache and a
// StolonSpecSettings. Pure: the caller reads the template and writes the file.
// Why the defaults are what they are: components/stolon/README.md, "Timing".
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "supervisor/util/config_template.hpp"

namespace hasup::stolon {

using Rendered = RenderedConfig;

struct StolonSpecSettings {
  // Every keeper, sentinel and proxy loop turns once per sleep_interval.
  std::chrono::milliseconds sleep_interval{250};
  // Bound on each request a keeper or sentinel makes (store, PostgreSQL).
  std::chrono::milliseconds request_timeout{500};
  // A keeper or db silent (or failing) this long after its first miss is failed.
  std::chrono::milliseconds fail_interval{1000};
  // How long a db may take to reach the state the sentinel asked for.
  std::chrono::milliseconds convergence_timeout{30000};
  // Each proxy re-reads clusterdata this often...
  std::chrono::milliseconds proxy_check_interval{200};
  // ...and closes every client connection when it could not for this long. A
  // sentinel takes a proxy that stayed silent for 2 x proxy_timeout as gone.
  std::chrono::milliseconds proxy_timeout{600};
  // No acknowledged commit is lost on failover: only a synchronous standby is
  // ever promoted. The price: writes wait for a standby (README, "Timing").
  bool synchronous_replication = true;
  unsigned min_synchronous_standbys = 1;
  unsigned max_synchronous_standbys = 1;
  // Asynchronous replication only: how far (bytes) a standby may lag and still be promoted.
  std::uint32_t max_standby_lag = 1024 * 1024;
  // A failed old primary rejoins with pg_rewind instead of a full base backup.
  bool use_pg_rewind = true;
  // postgresql.conf parameters; not the ones stolon sets itself (listen_addresses, port, ...).
  std::map<std::string, std::string> pg_parameters;
  // pg_hba.conf lines for clients, added to stolon's own (superuser, replication);
  // empty: stolon's own only, so no application can connect.
  std::vector<std::string> pg_hba;
};

// Go's duration syntax as stolon parses it: "250ms", "1s", "1500ms".
std::string go_duration(std::chrono::milliseconds d);

// Why these timings would make stolon refuse the spec, fail over when nothing
// failed, or fail over slower than the keeper's failure is detected. One line
// each, all of them; empty when the timings are sound.
std::vector<std::string> stolon_timing_problems(const StolonSpecSettings& settings);

// Parameters and pg_hba lines that must not reach the spec (unsafe text, or
// parameters stolon manages and would silently ignore).
std::vector<std::string> stolon_spec_problems(const StolonSpecSettings& settings);

// Template data: sleep_interval, request_timeout, fail_interval,
// convergence_timeout, proxy_check_interval, proxy_timeout (Go durations),
// synchronous_replication, use_pg_rewind ("true"/"false"),
// min_synchronous_standbys, max_synchronous_standbys, max_standby_lag (numbers),
// pg_parameters: a list of {name, value, last} with name and value already JSON
// strings (quoted, escaped), has_pg_hba and pg_hba: a list of {entry, last}
// (entry a JSON string). The result is parsed back and compared with the
// settings: a template that is not JSON, or drops or alters a setting, is an
// error, as is any problem above.
Rendered render_cluster_spec(const std::string& template_text, const StolonSpecSettings& settings);

}  // namespace hasup::stolon
