#pragma once
// keepalived.conf from the template in templates/ and a VrrpModel, with
// kainjow mustache. Pure: the caller reads the template and writes the result.
#include <string>

#include "components/keepalived/model.hpp"
#include "supervisor/util/config_template.hpp"

namespace hasup::keepalived {

using Rendered = RenderedConfig;

Rendered render(const std::string& template_text, const VrrpModel& model);

// The kernel's VRRP filter for the same peers, as an nft script that replaces
// its table whole in one transaction: VRRP packets from any other source are
// dropped before keepalived reads them. keepalived's own check_unicast_src
// refuses a stranger's advert, but each one it reads still delays the
// holder's next advert (measured in the lab: forged adverts 33 times a second
// stretched the holder's interval from 0.1 to 0.35 s, the backups' timeout,
// and a backup took the IP). Not a template: it is a fixed rule, not a
// setting. Peers must be IPv4 addresses (the table is `ip`).
inline constexpr const char* kVrrpFilterTable = "ha_supervisor_vrrp";
// With `drain` (a switchover moves the address away from this node), new TCP
// connections to the floating IP are dropped too: their clients send the SYN
// again ~1 s later, by then to the new holder, while the connections already
// here end (an answer sent after the address left never reaches its client).
Rendered render_vrrp_filter(const VrrpModel& model, bool drain = false);
// The drain rule's mark in a loaded ruleset.
inline constexpr const char* kVipDrainComment = "switchover drain";

}  // namespace hasup::keepalived
