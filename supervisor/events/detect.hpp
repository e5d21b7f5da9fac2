#pragma once
// Which events a cycle brings: the facts an operator follows, taken from the
// snapshot and the plan, compared with the previous cycle's. Pure: tests feed
// pairs of facts. Each node reports what it sees of itself, an operator's
// intent for it included; what concerns the whole cluster (a member gone, the
// database without a primary) is reported by the leader alone, so the merged
// timeline says it once.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "supervisor/cluster/records.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::events {

// A node's own changes open an incident only once it has been settled this
// long: a starting node's health and probes go up and down while it joins,
// which is no failure.
inline constexpr std::chrono::seconds kSettledAfter{10};

struct EventFacts {
  std::chrono::steady_clock::time_point at{};            // the cycle's
  std::chrono::steady_clock::time_point settled_since{};  // role, health and write probe unchanged since
  std::string self;
  cluster::Role role = cluster::Role::starting;
  std::uint64_t epoch = 0;  // the leader lock's, while this node leads
  std::string health = "ok";
  std::string vrrp_state;    // keepalived's, "" no floating IP here
  std::string nginx_config;  // "gen N FINGERPRINT", "" none
  std::string files_state;   // the member record's words
  std::string files_trouble;  // loop::files_trouble: "" while fine or only receiving
  std::uint64_t syncthing_key_generation = 0;  // of this node's syncthing API key (hactl rotate syncthing-key)
  std::string broker_state;   // the member record's words: "running, 3 of 3 nodes"; "" no broker
  bool db_known = false;     // the database's cluster view was read
  std::string db_primary;    // "" none now
  std::optional<std::uint32_t> db_timeline;
  bool db_ever_primary = false;  // some node was primary since this supervisor started
  std::optional<bool> db_writable;  // this node's write probe through its endpoint; nullopt none yet
  std::string db_write_error;
  std::string db_write_server;      // "host:port" that took the write
  std::set<std::string> gossip_failed;  // cluster nodes the local agent's gossip calls failed
  std::set<std::string> members;                  // as the leader last published them (cluster/state)
  std::map<std::string, std::string> maintenance;  // node -> who asked
  std::map<std::string, std::string> errors;       // component -> its newest refusal or failure
  // The switchover record as Consul holds it (an operator's or the
  // supervisors' own, away from a full primary); absent: none, or unreadable.
  struct Switchover {
    std::string id, from, to, requested_by, phase, outcome;
    bool operator==(const Switchover&) const = default;
  };
  std::optional<Switchover> switchover;
};

// `previous` carries what facts remember across cycles (db_ever_primary,
// settled_since); `now` is the cycle's time.
EventFacts facts_of(const loop::Snapshot& s, const loop::Plan& plan, const EventFacts* previous,
                    std::chrono::steady_clock::time_point now);

struct Detected {
  std::string component;
  std::string kind;
  std::string text;
  std::string requested_by;
  bool opens_incident = false;
  bool operator==(const Detected&) const = default;
};

std::vector<Detected> detect(const EventFacts& before, const EventFacts& after);

}  // namespace hasup::events
