#include "components/nginx/decide.hpp"

#include <algorithm>
#include <cstdio>

#include "components/nginx/render.hpp"

namespace hasup::loop {

namespace {

constexpr std::string_view kHeader = "# ha-supervisor nginx config: generation ";

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::string append(std::string note, const std::string& more) {
  if (more.empty()) return note;
  return note.empty() ? more : note + "; " + more;
}

// The unit should run whenever nginx has a config: after a crash systemd
// restarts it, but a unit stopped by hand or never started is ours to start.
std::string ensure_running(Plan& plan, const Snapshot& s) {
  const NginxView& n = s.nginx;
  auto unit = s.units.find(n.unit);
  if (!n.current_body || !s.units_connected || unit == s.units.end()) return {};
  if (unit->second.running_or_starting() || s.busy.count(Job::start_nginx) || s.busy.count(Job::apply_nginx_conf))
    return {};
  plan.actions.push_back(StartNginx{});
  return "nginx: starting " + n.unit + " (" + unit->second.active_state + ")";
}

}  // namespace

std::string nginx_problem(const Snapshot& s) {
  if (!s.nginx.enabled) return {};
  if (s.nginx.current_body) {
    auto unit = s.units.find(s.nginx.unit);
    if (unit != s.units.end() && !unit->second.serving()) return "nginx " + unit->second.active_state;
  }
  if (!s.consul.agent_node.empty())
    for (const auto& service : s.nginx.services)
      if (service.failing_nodes.count(s.consul.agent_node)) return service.name + " failing its checks here";
  return {};
}

std::string upstreams_fingerprint(const std::vector<nginx::ServiceSet>& services) {
  // FNV-1a over a canonical listing: not a security hash, a name for a set.
  std::string canonical;
  for (const auto& set : services) {
    canonical += set.name + "=";
    for (const auto& server : set.servers) canonical += server.address + ":" + std::to_string(server.port) + ",";
    canonical += ";";
  }
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : canonical) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return std::string(text, 8);
}

std::string nginx_file_text(std::uint64_t generation, const std::string& fingerprint, const std::string& body) {
  return std::string(kHeader) + std::to_string(generation) + ", upstreams " + fingerprint + "\n" + body;
}

std::optional<NginxFile> parse_nginx_file(const std::string& text) {
  if (text.compare(0, kHeader.size(), kHeader) != 0) return std::nullopt;
  auto newline = text.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  std::string header = text.substr(kHeader.size(), newline - kHeader.size());
  unsigned long long generation = 0;
  char fingerprint[17] = {};
  if (std::sscanf(header.c_str(), "%llu, upstreams %16[0-9a-f]", &generation, fingerprint) != 2) return std::nullopt;
  return NginxFile{generation, fingerprint, text.substr(newline + 1)};
}

std::string nginx_served_summary(const NginxView& view) {
  if (!view.enabled || !view.current_body) return {};
  return "gen " + std::to_string(view.generation) + " " + view.fingerprint;
}

// nginx follows Consul's healthy instances. A change is applied once the
// inputs have been quiet for wait_min (or pending for wait_max), and never
// sooner than reload_interval after the previous apply: a storm of flaps
// costs a bounded number of reloads. A render that `nginx -t` refused is not
// tried again until the inputs or the template change; the last good config
// keeps serving meanwhile.
std::string decide_nginx(Plan& plan, const Snapshot& s) {
  const NginxView& n = s.nginx;
  if (!n.enabled || s.shutting_down) return {};
  if (!n.template_error.empty()) return append("nginx: " + n.template_error, ensure_running(plan, s));

  std::string fallback_note;
  nginx::NginxModel model = n.base;
  model.local_node = s.consul.agent_node.empty() ? model.node_name : s.consul.agent_node;
  for (const auto& service : n.services) {
    // Rendering before Consul answered would tell nginx "no REST service
    // anywhere" for a moment at every start.
    if (!service.known)
      return append("nginx: waiting for Consul's first answer on " + service.name +
                        (service.error.empty() ? "" : " (" + service.error + ")"),
                    ensure_running(plan, s));
    if (service.set.servers.empty() && !service.failing_on_live_nodes.servers.empty()) {
      model.services.push_back(service.failing_on_live_nodes);
      fallback_note += "; no instance of " + service.name + " passes its checks: routing to the " +
                       std::to_string(service.failing_on_live_nodes.servers.size()) +
                       " on live nodes (their answers say why)";
    } else {
      model.services.push_back(service.set);
    }
  }
  std::string input_notes;
  std::size_t rejected = 0;
  for (const auto& service : n.services) rejected += service.rejected.size();
  if (rejected) input_notes = "; " + std::to_string(rejected) + " Consul instance(s) refused as invalid";
  input_notes += fallback_note;

  auto rendered = nginx::render(n.template_text, model);
  if (!rendered.error.empty())
    return append("nginx: not rendered: " + rendered.error, ensure_running(plan, s));

  std::string serving = n.current_body ? "generation " + std::to_string(n.generation) + " serving" : "no config yet";
  if (n.current_body && *n.current_body == rendered.text) {
    std::string note = "nginx: " + serving + " (upstreams " + n.fingerprint + ")" + input_notes;
    // The file is what nginx should serve; a reload the supervisor did not
    // live to ask for makes it so, spaced like any other reload.
    const bool spaced = !n.since_last_apply || *n.since_last_apply >= n.reload_interval;
    const bool busy = s.busy.count(Job::apply_nginx_conf) || s.busy.count(Job::start_nginx);
    auto catch_up = decide_catch_up(
        "nginx", n.conf_file, n.unit, busy, spaced ? "" : "the reload interval (" + ms_text(n.reload_interval) + ") is over",
        s, plan);
    if (catch_up.reload_now)
      plan.actions.push_back(ApplyNginxConf{nginx_file_text(n.generation, upstreams_fingerprint(model.services), rendered.text),
                                            n.generation, AfterWrite::reload, true});
    else if (!catch_up.note.empty() && !spaced)
      plan.wake_within(n.reload_interval - *n.since_last_apply);
    return append(append(note, catch_up.note), ensure_running(plan, s));
  }
  if (rendered.text == n.rejected_body)
    return append("nginx: the rendered config was refused (" + n.rejected_error + "); " + serving,
                  ensure_running(plan, s));
  if (s.busy.count(Job::apply_nginx_conf)) return "nginx: applying a config";

  // The first config is given at once: there is nothing older to keep serving.
  // After a failed reload or start, the retry waits like any other apply.
  if (n.current_body || n.since_last_apply) {
    bool settled = n.since_change >= n.wait_min || n.since_first_unapplied >= n.wait_max;
    bool spaced = !n.since_last_apply || *n.since_last_apply >= n.reload_interval;
    if (!settled || !spaced) {
      std::chrono::milliseconds wait{0};
      if (!settled) wait = std::min(n.wait_min - n.since_change, n.wait_max - n.since_first_unapplied);
      if (!spaced) wait = std::max(wait, n.reload_interval - *n.since_last_apply);
      wait = std::max(wait, std::chrono::milliseconds(1));
      plan.wake_within(wait);
      // No countdown in the reason: it is logged whenever it changes.
      return std::string("nginx: change pending (") +
             (!spaced ? "reload interval " + ms_text(n.reload_interval) : "debounce") + "); " + serving;
    }
  }
  const std::uint64_t generation = n.generation + 1;
  // A reload (SIGHUP) when nginx runs: new workers on the new config, the old
  // ones finish their requests; otherwise the apply starts it.
  auto unit = s.units.find(n.unit);
  const bool running = unit != s.units.end() && unit->second.reloadable();
  plan.actions.push_back(ApplyNginxConf{nginx_file_text(generation, upstreams_fingerprint(model.services), rendered.text),
                                        generation, running ? AfterWrite::reload : AfterWrite::start});
  return "nginx: applying generation " + std::to_string(n.generation + 1) + " (upstreams " +
         upstreams_fingerprint(model.services) + ")" + input_notes;
}

void publish_nginx(const Snapshot& s, cluster::MemberRecord& r) { r.nginx_config = nginx_served_summary(s.nginx); }

}  // namespace hasup::loop
