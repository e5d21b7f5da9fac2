#include "supervisor/loop/drivers.hpp"

#include "components/cold-start/driver.hpp"
#include "components/switchover/driver.hpp"
#include "components/db-login/driver.hpp"
#include "components/dead-peers/driver.hpp"
#include "components/members-only/driver.hpp"
#include "components/keepalived/driver.hpp"
#include "components/nginx/driver.hpp"
#include "components/patroni/backend.hpp"
#include "components/pause/driver.hpp"
#include "components/postgres/driver.hpp"
#include "components/rabbitmq/driver.hpp"
#include "components/stolon/backend.hpp"
#include "components/syncthing/driver.hpp"

namespace hasup::loop {

namespace {

std::unique_ptr<db::DbBackend> db_backend(DriverContext& ctx) {
  if (ctx.config.db.backend == "stolon") return std::make_unique<stolon::StolonBackend>(ctx);
  return std::make_unique<patroni::PatroniBackend>(ctx);
}

}  // namespace

std::vector<std::unique_ptr<Driver>> make_drivers(DriverContext& ctx) {
  const config::Config& c = ctx.config;
  std::vector<std::unique_ptr<Driver>> drivers;
  // One line per component.
  // Every node: the cluster's pause (the leader pauses its Patroni).
  drivers.push_back(std::make_unique<pause::PauseDriver>(ctx));
  if (c.vip.enabled()) drivers.push_back(std::make_unique<keepalived::VipDriver>(ctx));
  if (c.nginx.enabled) drivers.push_back(std::make_unique<nginx::NginxDriver>(ctx));
  if (c.db.enabled()) {
    auto db = std::make_unique<db::DbDriver>(ctx, db_backend(ctx));
    const db::DbDriver* database = db.get();
    drivers.push_back(std::move(db));
    // The login's steps reach the primary the way the database's probes do.
    drivers.push_back(
        std::make_unique<db_login::LoginDriver>(ctx, [database] { return database->endpoint_conninfo(); }));
    // With stolon too: it then says why it has nothing to do.
    drivers.push_back(std::make_unique<cold_start::ColdStartDriver>(ctx));
  }
  if (c.files.enabled) drivers.push_back(std::make_unique<syncthing::FilesDriver>(ctx));
  if (c.dead_peers.enabled) drivers.push_back(std::make_unique<dead_peers::DeadPeersDriver>(ctx));
  if (c.members_only.enabled) drivers.push_back(std::make_unique<members_only::MembersOnlyDriver>(ctx));
  if (c.broker.enabled) drivers.push_back(std::make_unique<rabbitmq::BrokerDriver>(ctx));
  // Every node: its upload gate holds writes during a switchover, whatever it runs.
  drivers.push_back(std::make_unique<switchover::SwitchoverDriver>(ctx));
  return drivers;
}

}  // namespace hasup::loop
