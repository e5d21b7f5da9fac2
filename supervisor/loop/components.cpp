#include "supervisor/loop/components.hpp"

#include "components/cold-start/decide.hpp"
#include "components/db-login/decide.hpp"
#include "components/dead-peers/decide.hpp"
#include "components/members-only/decide.hpp"
#include "components/keepalived/decide.hpp"
#include "components/keepalived/status.hpp"
#include "components/nginx/decide.hpp"
#include "components/nginx/status.hpp"
#include "components/pause/decide.hpp"
#include "components/postgres/decide.hpp"
#include "components/postgres/status.hpp"
#include "components/rabbitmq/decide.hpp"
#include "components/rabbitmq/status.hpp"
#include "components/switchover/decide.hpp"
#include "components/syncthing/decide.hpp"
#include "components/syncthing/status.hpp"

namespace hasup::loop {

const std::vector<ComponentParts>& components() {
  // One line per component.
  static const std::vector<ComponentParts> list{
      // First: every other component's rules ask whether the cluster is paused.
      {"pause", [](const Snapshot&) { return true; }, decide_pause, pause_problem, pause_status, nullptr},
      {"vip", [](const Snapshot& s) { return s.vip.enabled; }, decide_vip, vip_problem, vip_status, publish_vip},
      {"nginx", [](const Snapshot& s) { return s.nginx.enabled; }, decide_nginx, nginx_problem, nginx_status, publish_nginx},
      {"db", [](const Snapshot& s) { return s.db.enabled; }, decide_db, db_problem, db_status, publish_db},
      {"db_login", [](const Snapshot& s) { return s.db_login.enabled; }, decide_db_login, db_login_problem,
       db_login_status, publish_db_login},
      {"cold_start", [](const Snapshot& s) { return s.cold_start.enabled; }, decide_cold_start, cold_start_problem,
       cold_start_status, nullptr},
      {"files", [](const Snapshot& s) { return s.files.enabled; }, decide_files, files_problem, files_status, publish_files},
      {"dead_peers", [](const Snapshot& s) { return s.dead_peers.enabled; }, decide_dead_peers, dead_peers_problem,
       dead_peers_status, nullptr},
      {"members_only", [](const Snapshot& s) { return s.members_only.enabled; }, decide_members_only,
       members_only_problem, members_only_status, nullptr},
      {"broker", [](const Snapshot& s) { return s.broker.enabled; }, decide_broker, broker_problem, broker_status,
       publish_broker},
      {"switchover", [](const Snapshot& s) { return s.switchover.enabled || s.switchover.hold_writes; },
       decide_switchover, switchover_problem, switchover_status, publish_switchover},
  };
  return list;
}

}  // namespace hasup::loop
