#pragma once
// What keepalived.conf says for one node: plain values, no I/O.
#include <string>
#include <vector>

namespace hasup::keepalived {

struct VrrpModel {
  std::string node_name;
  std::string instance = "ha_manager";
  std::string interface;
  int virtual_router_id = 0;
  int priority = 0;
  int advert_interval_ms = 100;
  std::string self_address;         // unicast_src_ip
  std::vector<std::string> peers;   // unicast peers: the other members' addresses, sorted
  std::string vip;                  // "198.18.0.100/24"
  std::string track_file;
  std::string notify_fifo;          // keepalived writes its state changes here
  // Among healthy nodes, prefer the one the supervisor names (the database
  // primary's): a track file whose 1 adds `preference_weight` to the
  // priority. Empty file: no preference.
  std::string preference_file;
  int preference_weight = 0;
  // The supervisor's heartbeat, checked by keepalived itself (a vrrp_script
  // running heartbeat_check FILE MAX_AGE): stale, the instance goes to FAULT.
  // Empty file: no such check.
  std::string heartbeat_file;
  std::string heartbeat_check;
  int heartbeat_max_age_s = 10;

  bool operator==(const VrrpModel&) const = default;
};

}  // namespace hasup::keepalived
