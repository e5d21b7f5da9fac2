#include "components/keepalived/status.hpp"

namespace hasup::loop {

nlohmann::json vip_status(const Snapshot& s) {
  nlohmann::json status = {{"address", s.vip.base.vip},
                           {"fault", s.vip.fault_now.value_or(true)},
                           {"config_written", s.vip.current_conf.has_value()},
                           {"vrrp_state", s.vip.vrrp_state},
                           {"holds_address", s.vip.holds_address}};
  add_catch_up_status(s.vip.conf_file, status);
  return status;
}

}  // namespace hasup::loop
