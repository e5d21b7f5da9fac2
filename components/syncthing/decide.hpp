#pragma once
// The replicated folders' part of decide(): keep syncthing's devices, folders
// and options following the registered nodes, keep syncthing running, and
// judge whether this node's files are fit to serve. Pure, like decide().
#include <chrono>
#include <string>
#include <vector>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// Adds syncthing's actions to the plan; returns a note for the plan's reason ("" when none).
std::string decide_files(Plan& plan, const Snapshot& s);

// What syncthing must be told: this node and every other registered node
// whose device id and address are valid (a crashed node stays, paused: it is
// resumed and catches up when it comes back; a forgotten node goes). `refused`
// gets why a node was left out.
syncthing::DesiredConfig desired_syncthing(const Snapshot& s, std::vector<std::string>* refused = nullptr);

// Why this node's files keep it from holding the floating IP, in a few stable
// words; "" when nothing.
std::string files_problem(const Snapshot& s);

// What is wrong with the replicated folders beyond an upload in flight
// ("syncthing unreachable", "folder error"); "" when nothing is. The start of
// files_summary, and what the event timeline calls trouble.
std::string files_trouble(const FilesView& f);

// A node says it is receiving only once it has missed items for this long.
// Every upload makes each peer need its file for a moment: words that changed
// with each one made each receiving node write its member record to Consul
// again with each upload (264 times in 30 s of 10 uploads a second, 2026-12-05).
inline constexpr std::chrono::milliseconds kReceivingShownAfter{2000};

// The member record's summary, in words that do not change with each upload:
// "in sync, 2/2 peers", "receiving, 2/2 peers, 1 conflict" (missing items for
// kReceivingShownAfter or more, or with no peer connected), or the trouble;
// "" when not managed.
std::string files_summary(const FilesView& f);

// Its fields of the member record: the device id (kept from the published
// record until syncthing answers), the files summary, the devices it has.
void publish_files(const Snapshot& s, cluster::MemberRecord& record);

}  // namespace hasup::loop
