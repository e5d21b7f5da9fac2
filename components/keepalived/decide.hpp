#pragma once
// The floating IP's part of decide(): who may hold it, keepalived.conf's
// peers, keepalived running. Pure, like the rest of decide().
#include <chrono>
#include <string>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// How long a switchover's drain waits for the connections to the floating IP
// to end before the address leaves anyway (a kept-alive idle one never ends).
inline constexpr std::chrono::milliseconds kVipDrainLimit{2000};

// Adds the floating IP's actions to the plan; returns a note for the plan's reason ("" when none).
std::string decide_vip(Plan& plan, const Snapshot& s);

// "vrid 51 198.18.0.100/24": published in the member record, compared across nodes.
std::string vip_settings(const Snapshot& s);

// Nodes whose keepalived instances disagree on the router id or the address
// never hear each other: each could hold the IP. Said loudly, on every node;
// "" when the settings agree (or the IP is not managed).
std::string vip_problem(const Snapshot& s);

// Its fields of the member record: keepalived's state, whether it holds the address, its settings.
void publish_vip(const Snapshot& s, cluster::MemberRecord& record);

}  // namespace hasup::loop
