#include "components/members-only/driver.hpp"

#include <spdlog/spdlog.h>

#include "components/members-only/rule.hpp"

namespace hasup::members_only {

MembersOnlyDriver::MembersOnlyDriver(loop::DriverContext& ctx)
    : ctx_(ctx), table_(ctx, ctx.config.members_only.nft, kMembersOnlyTable, "members-only ports") {}

void MembersOnlyDriver::observe(loop::Snapshot& s) const {
  auto& v = s.members_only;
  v.enabled = true;
  v.ports = parse_ports(ctx_.config.members_only.ports);
  v.applied = table_.applied();
  v.refused = table_.refused();
  v.error = table_.error();
}

bool MembersOnlyDriver::act(const loop::Action& action) {
  auto a = std::get_if<loop::ApplyMembersOnly>(&action);
  if (!a) return false;
  table_.load(ctx_.config.members_only.script_file, a->script, loop::Job::apply_members_only,
              [ports = ctx_.config.members_only.ports](const std::string& error) {
                if (error.empty())
                  spdlog::info("members-only ports: table ip {} loaded: TCP {} from the cluster's nodes only",
                               kMembersOnlyTable, ports);
                else
                  spdlog::error("members-only ports: table not loaded: {}", error);
              });
  return true;
}

}  // namespace hasup::members_only
