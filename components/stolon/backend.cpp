#include "components/stolon/backend.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>

#include "components/stolon/bootstrap_once.hpp"
#include "components/stolon/clusterdata.hpp"
#include "components/stolon/render.hpp"
#include "components/stolon/stolonctl.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/split.hpp"

namespace hasup::stolon {

std::vector<std::string> StolonBackend::units() const { return split_list(ctx_.config.db.stolon_units); }

std::string StolonBackend::keys_prefix() const {
  const auto& c = ctx_.config.db;
  return c.stolon_prefix + "/" + c.scope + "/";
}

// stolon's initial cluster spec from the db.* settings: synchronous
// replication as db.synchronous says, client access from db.peer_network
// (the proxies connect from every node). Rendered once per load.
void StolonBackend::read_inputs(loop::DbView& view) {
  const auto& c = ctx_.config.db;
  view.stolon.units = units();
  auto text = read_small_file(c.stolon_spec_template);
  std::string error = text ? "" : "cannot read the template " + c.stolon_spec_template;
  if (error.empty()) {
    StolonSpecSettings spec;
    spec.synchronous_replication = c.synchronous != "off";
    if (!c.peer_network.empty()) spec.pg_hba.push_back("host all all " + c.peer_network + " md5");
    auto rendered = render_cluster_spec(*text, spec);
    if (rendered.error.empty())
      view.stolon.spec = rendered.text;
    else
      error = "cluster spec not rendered: " + rendered.error;
  }
  if (!error.empty() && error != view.template_error) spdlog::error("stolon: {}", error);
  view.template_error = error;
}

void StolonBackend::read_state(std::uint64_t index, std::function<void(consul::Result<db::StateRead>)> done) {
  ctx_.consul.kv_get(keys_prefix() + "clusterdata", ctx_.blocking(index),
                     [done = std::move(done)](consul::Result<consul::KvRead> r) {
    if (!r) return done(r.error());
    db::DbClusterParse parsed;
    if (r.value().entry) {
      parsed = parse_stolon_clusterdata(r.value().entry->value);
    } else {
      parsed.view = db::DbClusterView{};
      parsed.view->backend = "stolon";
    }
    done(db::StateRead{std::move(parsed), r.value().index});
  });
}

// This node's proxy: it always leads to the primary.
std::string StolonBackend::default_endpoint_conninfo() const {
  return "host=" + ctx_.config.node.address + " port=" + std::to_string(ctx_.config.db.port) +
         " dbname=postgres user=postgres connect_timeout=1";
}

bool StolonBackend::act(const loop::Action& action, loop::DbView& view) {
  if (auto a = std::get_if<loop::BootstrapStolon>(&action)) return run(*a, view), true;
  if (auto a = std::get_if<loop::StartStolonUnits>(&action)) return run(*a, view), true;
  return false;
}

// stolonctl init, exactly once per cluster: bootstrap_once takes a Consul
// lock and runs it only while no clusterdata exists (the others wait).
void StolonBackend::run(const loop::BootstrapStolon& a, loop::DbView& view) {
  const auto& c = ctx_.config.db;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(c.stolon_spec_file).parent_path(), ec);
  auto error = write_file_atomically(c.stolon_spec_file, a.spec, 0644);
  if (!error.empty()) {
    view.last_error = error;
    spdlog::error("stolon: {}", error);
    return ctx_.finish_job(loop::Job::bootstrap_stolon);
  }
  StoreTarget target;
  target.cluster_name = c.scope;
  const bool https = !ctx_.config.consul.ca_file.empty();
  target.consul_endpoint = (https ? "https://" : "http://") + ctx_.config.consul.host + ":" +
                           std::to_string(ctx_.config.consul.port);
  target.ca_file = ctx_.config.consul.ca_file;
  target.store_prefix = c.stolon_prefix;
  BootstrapSettings settings;
  settings.clusterdata_key = clusterdata_key(target);
  settings.lock_key = ctx_.keys.prefix + "/db/stolon-bootstrap";
  settings.node_name = ctx_.config.node.name;
  settings.init_argv = stolonctl_init_argv(c.stolonctl, target, c.stolon_spec_file);
  bootstrap_once(ctx_.io, ctx_.consul, settings, [this, &view](BootstrapOutcome outcome, std::string detail) {
    view.stolon.bootstrap_outcome = to_string(outcome) + (detail.empty() ? "" : ": " + detail);
    if (outcome == BootstrapOutcome::failed) {
      view.last_error = "bootstrap: " + detail;
      spdlog::error("stolon: bootstrap failed: {}", detail);
    } else {
      spdlog::info("stolon: {}", view.stolon.bootstrap_outcome);
    }
    ctx_.finish_job(loop::Job::bootstrap_stolon);
  });
}

// One after the other: the sentinel, the keeper, the proxy.
void StolonBackend::run(const loop::StartStolonUnits& a, loop::DbView& view) {
  auto pending = std::make_shared<std::vector<std::string>>(a.units);
  auto next = std::make_shared<std::function<void()>>();
  *next = [this, pending, next, &view] {
    if (pending->empty()) {
      ctx_.finish_job(loop::Job::start_stolon_units);
      // The function holds itself: break the cycle, but not while it runs.
      boost::asio::post(ctx_.io, [next] { *next = nullptr; });
      return;
    }
    std::string unit = pending->front();
    pending->erase(pending->begin());
    ctx_.units.start_unit(unit, [this, unit, next, &view](systemd::JobOutcome outcome) {
      if (outcome.ok()) {
        spdlog::info("stolon: {} started", unit);
      } else {
        view.last_error = "start of " + unit + " failed: " + outcome.to_string();
        spdlog::error("stolon: {}", view.last_error);
      }
      (*next)();
    });
  };
  (*next)();
}

}  // namespace hasup::stolon
