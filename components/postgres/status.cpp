#include "components/postgres/status.hpp"

namespace hasup::loop {

using nlohmann::json;

namespace {

json optional_number(const auto& value) { return value ? json(*value) : json(nullptr); }

}  // namespace

json db_status(const Snapshot& s) {
  json endpoint = nullptr, local = nullptr;
  if (s.db.endpoint)
    endpoint = {{"writable", s.db.endpoint->writable}, {"server", s.db.endpoint->server},
                {"took_ms", s.db.endpoint->took.count()}, {"error", s.db.endpoint->error},
                {"failing_for_ms", s.db.endpoint_failing_for.count()}};
  if (s.db.local)
    local = {{"connected", s.db.local->connected}, {"in_recovery", optional_number(s.db.local->in_recovery)},
             {"timeline", optional_number(s.db.local->timeline)},
             {"wal_position", optional_number(s.db.local->wal_position)},
             {"streaming", optional_number(s.db.local->streaming)}, {"error", s.db.local->error}};
  json status = {{"endpoint", endpoint}, {"local", local}, {"last_error", s.db.last_error},
                 {"config_error", s.db.template_error}, {"unit", s.db.unit}};
  status["data_space"] = util::filesystem_space_json(s.db.data_space);
  if (s.db.backend == "patroni") add_catch_up_status(s.db.patroni.conf_file, status);
  return status;
}

}  // namespace hasup::loop
