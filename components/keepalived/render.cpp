#include "components/keepalived/render.hpp"

#include "supervisor/util/config_template.hpp"
#include "supervisor/util/host_name.hpp"
#include "supervisor/util/nft_script.hpp"
#include "supervisor/util/printable.hpp"

#include <cstdio>

namespace hasup::keepalived {

namespace {

std::string seconds_text(int milliseconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", milliseconds / 1000.0);
  std::string text = buffer;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

// Values come from config and from Consul (peer addresses): they were checked
// there, and are checked again here, because a newline or a brace in
// keepalived.conf would change its meaning. The refused value is shown escaped:
// what could break the file could forge a log line too.
Rendered render(const std::string& template_text, const VrrpModel& m) {
  Rendered out;
  for (const std::string* v : {&m.node_name, &m.instance, &m.interface, &m.self_address, &m.vip, &m.track_file, &m.notify_fifo})
    if (!is_config_token(*v)) {
      out.error = "refusing to render a value that could break keepalived.conf: " + quoted_printable(*v);
      return out;
    }
  if (!m.preference_file.empty() && (!is_config_token(m.preference_file) || m.preference_weight < 1 || m.preference_weight > 253)) {
    out.error = "refusing the preference track file or its weight (1..253)";
    return out;
  }
  if (!m.heartbeat_file.empty() && (!is_config_token(m.heartbeat_file) || !is_config_token(m.heartbeat_check) ||
                                    m.heartbeat_max_age_s < 1)) {
    out.error = "refusing the heartbeat file, its check or its age";
    return out;
  }
  kainjow::mustache::data peers = kainjow::mustache::data::type::list;
  for (const auto& peer : m.peers) {
    if (!is_config_token(peer)) {
      out.error = "refusing peer address " + quoted_printable(peer);
      return out;
    }
    kainjow::mustache::data entry;
    entry.set("address", peer);
    peers.push_back(entry);
  }
  kainjow::mustache::data data;
  data.set("node_name", m.node_name);
  data.set("instance", m.instance);
  data.set("interface", m.interface);
  data.set("virtual_router_id", std::to_string(m.virtual_router_id));
  data.set("priority", std::to_string(m.priority));
  data.set("advert_seconds", seconds_text(m.advert_interval_ms));
  data.set("self_address", m.self_address);
  data.set("peers", peers);
  data.set("vip", m.vip);
  data.set("track_file", m.track_file);
  data.set("notify_fifo", m.notify_fifo);
  if (!m.preference_file.empty()) {
    kainjow::mustache::data preference;
    preference.set("file", m.preference_file);
    preference.set("weight", std::to_string(m.preference_weight));
    data.set("preference", preference);
  }
  if (!m.heartbeat_file.empty()) {
    kainjow::mustache::data heartbeat;
    heartbeat.set("file", m.heartbeat_file);
    heartbeat.set("check", m.heartbeat_check);
    heartbeat.set("max_age", std::to_string(m.heartbeat_max_age_s));
    data.set("heartbeat", heartbeat);
  }
  return render_config(template_text, data);
}

Rendered render_vrrp_filter(const VrrpModel& m, bool drain) {
  Rendered out;
  std::string drain_rule;
  if (drain) {
    const std::string address = m.vip.substr(0, m.vip.find('/'));
    if (!is_ipv4_literal(address)) {
      out.error = "refusing floating IP " + quoted_printable(m.vip) + " in the drain rule: not an IPv4 address";
      return out;
    }
    drain_rule = "    ip daddr " + address + " tcp flags & (syn | ack) == syn counter drop comment \"" +
                 kVipDrainComment + "\"\n";
  }
  std::string set;
  for (const auto& peer : m.peers) {
    if (!is_ipv4_literal(peer)) {
      out.error = "refusing peer address " + quoted_printable(peer) + " in the VRRP filter: not an IPv4 address";
      return out;
    }
    set += (set.empty() ? "" : ", ") + peer;
  }
  out.text = nft_replace_table_script(
      "Rendered by ha-supervisor on " + m.node_name + ": VRRP only from the cluster's members.", kVrrpFilterTable,
      "  chain input {\n"
      "    type filter hook input priority filter - 10; policy accept;\n" +
          (set.empty() ? std::string("    ip protocol vrrp counter drop\n")
                       : "    ip protocol vrrp ip saddr != { " + set + " } counter drop\n") +
          drain_rule + "  }\n");
  return out;
}

}  // namespace hasup::keepalived
