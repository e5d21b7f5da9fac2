#pragma once
// ha-upload-gate's configuration: plain values, filled by the loader from a
// libconfig++ file. A GateConfig exists only when every value passed its check;
// the loader reports every error at once, each with file:line.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "components/upload-gate/write_rules.hpp"
#include "supervisor/http/body_pace.hpp"

namespace hasup::upload_gate {

enum class OnTimeout { fail, warn };

// The appliance's durability rule, the same as the database's (the
// supervisor's cluster.durability): strict, a write needs a second copy, so
// a node alone refuses it (503); available, a node alone acknowledges it with
// one copy and says so (Warning, X-Replication), and syncthing copies it to
// the peers when they return.
enum class Durability { strict, available };

struct QuorumRule {
  // true: every peer of the folder that syncthing reports connected (and at
  // least min_peers); false: at least `count` peers.
  bool all_connected = true;
  int count = 0;
  int min_peers = 1;
};

struct Limits {
  std::uint32_t header_bytes = 16 * 1024;                   // 431 beyond
  std::chrono::milliseconds header_timeout{10000};          // whole header, against slowloris (408)
  std::chrono::milliseconds idle_timeout{30000};            // between two reads/writes of a body
  http::BodyPace body_pace;                                 // minimum rate and total deadline of a body (408)
  std::chrono::milliseconds upstream_timeout{120000};       // upstream's answer after the request's last byte
  std::size_t max_connections = 512;                        // client connections; beyond: 503 and close
  // From one address. nginx's cap on the requests it relays (nginx.max_requests,
  // 256) stays below it, with room for the Consul check from the same address.
  std::size_t max_connections_per_client = 320;
  std::size_t held_response_bytes = 4 * 1024 * 1024;        // a gated write's 2xx body is held in memory up to this
  std::size_t relay_chunk_bytes = 64 * 1024;                // body bytes in flight per direction and connection
};

// The write hold of a planned switchover (write_hold.hpp): the supervisor
// writes `file` while the database changes primary; new writes wait, and the
// gate says in `ack_file` when none is still at the upstream.
struct HoldConfig {
  std::string file = "/run/ha-supervisor/write-hold";      // the supervisor's; only read here
  std::string ack_file = "/run/ha-upload-gate/write-held";  // the gate's own
  // A hold never lasts longer than this from when the gate first saw its id,
  // whatever its until_unix_ms says: a supervisor that dies mid-switchover
  // must not stop every write for good.
  std::chrono::milliseconds max{15000};
};

struct GateConfig {
  std::string listen_address = "127.0.0.1";
  unsigned short listen_port = 8090;
  // GET /metrics (Prometheus text) on its own listener, loopback only; no
  // `metrics` group: none.
  std::string metrics_address = "127.0.0.1";
  unsigned short metrics_port = 0;
  std::string upstream_address = "127.0.0.1";
  unsigned short upstream_port = 8100;

  std::string folder_id = "resources";
  std::string folder_path = "/opt/manager/resources";

  std::string syncthing_url = "http://127.0.0.1:8384";
  unsigned short syncthing_port = 8384;  // from syncthing_url (always on 127.0.0.1)
  std::string api_key_file = "/etc/ha-upload-gate/syncthing-api-key";
  std::string api_key;  // read from api_key_file at load; never logged

  std::vector<WriteRule> rules = default_write_rules();

  QuorumRule quorum;
  // The quorum wait after the upstream's answer: `timeout`, plus the time the
  // write's body takes to copy at `min_rate_kib_s`, at most `max_timeout`
  // (replication_wait.hpp).
  std::chrono::milliseconds timeout{10000};
  std::uint64_t min_rate_kib_s = 10240;           // 10 MiB/s: a peer's syncthing copying the file
  std::chrono::milliseconds max_timeout{600000};
  OnTimeout on_timeout = OnTimeout::fail;
  Durability durability = Durability::strict;
  // Where the gate says, at start, which rule it runs by: the supervisor's
  // hactl status shows it beside cluster.durability, and says when they
  // differ. "": not said.
  std::string durability_file = "/run/ha-upload-gate/durability";
  std::chrono::milliseconds poll_interval{150};   // fallback re-check: long-polls can drop events
  std::chrono::milliseconds syncthing_timeout{3000};  // each syncthing API call
  std::chrono::seconds retry_after{5};            // Retry-After of the 503s

  HoldConfig hold;
  Limits limits;
  int threads = 2;
  std::string log_level = "info";
};

struct LoadResult {
  std::optional<GateConfig> config;
  std::vector<std::string> errors;  // "FILE:LINE: message"
};

LoadResult load_config_file(const std::string& path);
// The same checks on text already in memory (`name` prefixes the errors).
LoadResult load_config_text(const std::string& text, const std::string& name);

std::string describe(const QuorumRule& quorum);
const char* durability_name(Durability durability);

}  // namespace hasup::upload_gate
