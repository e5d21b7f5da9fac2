#pragma once
// nginx's part of decide(): which config this node's nginx should serve, and
// when to give it to nginx. Pure, like the rest of decide().
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "components/nginx/model.hpp"
#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::loop {

// Adds nginx's actions to the plan; returns a note for the plan's reason ("" when none).
std::string decide_nginx(Plan& plan, const Snapshot& s);

// Why this node should not hold the floating IP because of nginx or the
// services it routes to, in a few stable words; "" when nothing.
std::string nginx_problem(const Snapshot& s);

// Short, stable name of an upstream set: nodes that route the same way show
// the same fingerprint, whatever their generation counters say.
std::string upstreams_fingerprint(const std::vector<nginx::ServiceSet>& services);

// The rendered file starts with one comment line naming its generation and
// fingerprint, so a restarted supervisor knows what nginx serves.
struct NginxFile {
  std::uint64_t generation = 0;
  std::string fingerprint;
  std::string body;  // everything after the header line
};
std::string nginx_file_text(std::uint64_t generation, const std::string& fingerprint, const std::string& body);
// nullopt when the text has no header of ours (a file written by someone else).
std::optional<NginxFile> parse_nginx_file(const std::string& text);

// "gen 4 9f3a12bc" for the member record and status; "" without a config.
std::string nginx_served_summary(const NginxView& view);

// Its field of the member record: the config it serves ("gen 4 9f3a12bc").
void publish_nginx(const Snapshot& s, cluster::MemberRecord& record);

}  // namespace hasup::loop
