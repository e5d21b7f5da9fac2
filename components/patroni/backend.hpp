#pragma once
// Patroni as the database driver's backend: its NAMESPACE/SCOPE/ tree in
// Consul, patroni.yml and the bootstrap SQL rendered by decide() and written
// here, Patroni reloaded (or started) through systemd.
#include <memory>

#include "components/patroni/keys_copy.hpp"
#include "components/postgres/backend.hpp"
#include "supervisor/consul/client.hpp"

namespace hasup::patroni {

// Patroni's replication settings from db.synchronous (the mode) and
// cluster.durability (whether commits go on with one copy when no standby
// is left: synchronous_mode_strict).
void set_replication(PatroniModel& model, const config::Config& config);

class PatroniBackend : public db::DbBackend {
 public:
  explicit PatroniBackend(loop::DriverContext& ctx) : ctx_(ctx) { read_keys_copy(); }

  std::vector<std::string> units() const override { return {ctx_.config.db.unit}; }
  std::string keys_prefix() const override;
  void read_inputs(loop::DbView& view) override;
  void read_state(std::uint64_t index, std::function<void(consul::Result<db::StateRead>)> done) override;
  std::string default_endpoint_conninfo() const override;
  int local_port() const override { return ctx_.config.db.port; }
  void observe(loop::DbView& view) const override;
  bool act(const loop::Action& action, loop::DbView& view) override;

 private:
  void run(const loop::ApplyPatroniConf& a, loop::DbView& view);
  void run(const loop::StartPatroni& a, loop::DbView& view);
  void run(const loop::RestorePatroniKeys& a, loop::DbView& view);
  void run(const loop::WakePatroniForLeader& a);
  void run(const loop::SetPatroniStrict& a);
  void run(const loop::WakePatroniForSyncKey& a);
  void read_keys_copy();
  void keep_keys_copy(const std::vector<consul::KvEntry>& entries);
  std::string keys_copy_path() const;

  loop::DriverContext& ctx_;
  // This node's copy of Patroni's records (keys_copy.hpp): read at start,
  // written when Consul's change; what a Consul that lost its data gets back.
  std::optional<KeysCopy> keys_copy_;
  std::string keys_copy_error_;
  std::unique_ptr<consul::Client> patroni_consul_;  // Patroni's own token: the restore writes its keys
  loop::CatchUpRecord catch_up_;  // reloads asked because Patroni ran an older patroni.yml
  std::optional<std::string> leader_woken_for_;  // DbView's PatroniFiles::leader_woken_for
  struct StrictRefusal {
    std::string words;
    std::chrono::steady_clock::time_point at;
  };
  std::optional<StrictRefusal> strict_refused_;  // DbView's PatroniFiles::strict_refused
};

}  // namespace hasup::patroni
