#include "supervisor/api/status_api.hpp"

#include <nlohmann/json.hpp>

#include "supervisor/api/status_json.hpp"
#include "supervisor/api/status_page.hpp"
#include "components/cold-start/decide.hpp"
#include "components/pause/decide.hpp"
#include "components/switchover/decide.hpp"
#include "components/db-login/decide.hpp"
#include "components/syncthing/key_rotation.hpp"
#include "supervisor/config/cluster_settings.hpp"
#include "supervisor/events/incidents.hpp"
#include "supervisor/events/timeline.hpp"
#include "supervisor/metrics/text.hpp"
#include "supervisor/util/api_token.hpp"
#include "supervisor/util/node_name.hpp"

namespace hasup::api {

using nlohmann::json;

namespace {

http::ServerResponse json_response(int status, const json& body) {
  http::ServerResponse r;
  r.status = status;
  r.body = document_text(body);
  return r;
}

http::ServerResponse error_response(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

// POST /maintenance {"node": "n1", "enabled": true}
void handle_maintenance(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return respond(error_response(400, "body must be a JSON object {\"node\": NAME, \"enabled\": BOOL}"));
  auto enabled = body.find("enabled");
  if (enabled == body.end() || !enabled->is_boolean())
    return respond(error_response(400, "\"enabled\" must be true or false"));
  std::string node = engine.config().node.name;
  if (auto it = body.find("node"); it != body.end()) {
    if (!it->is_string()) return respond(error_response(400, "\"node\" must be a string"));
    node = it->get<std::string>();
  }
  if (!is_node_name(node))
    return respond(error_response(400, "\"node\" is not a valid node name (" + std::string(kNodeNameFormat) + ")"));
  bool on = enabled->get<bool>();
  engine.write_maintenance_intent(node, on, "api@" + engine.config().node.name,
                                  [respond, node, on](std::string error) {
                                    if (!error.empty()) return respond(error_response(503, "intent not written: " + error));
                                    respond(json_response(202, json{{"node", node}, {"maintenance", on},
                                                                    {"status", "intent written; the loop acts on it"}}));
                                  });
}

// POST /settings {"set": {"group.key": "VALUE", ...}, "unset": ["group.key", ...]}:
// the cluster's settings edited; values as an operator types them, turned
// into the key's type here, checked whole by the engine before the write.
void handle_settings(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  const char* shape = "body must be {\"set\": {KEY: VALUE-as-text, ...}, \"unset\": [KEY, ...]}";
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return respond(error_response(400, shape));
  std::map<std::string, json> set;
  std::vector<std::string> unset;
  std::vector<std::string> errors;
  if (auto it = body.find("set"); it != body.end()) {
    if (!it->is_object()) return respond(error_response(400, shape));
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) return respond(error_response(400, shape));
      auto typed = config::typed_value(key, value.get<std::string>());
      if (typed.value) set[key] = *typed.value;
      else errors.push_back(typed.error);
    }
  }
  if (auto it = body.find("unset"); it != body.end()) {
    if (!it->is_array()) return respond(error_response(400, shape));
    for (const auto& key : *it) {
      if (!key.is_string()) return respond(error_response(400, shape));
      if (auto problem = config::settable_problem(key.get<std::string>()); !problem.empty()) errors.push_back(problem);
      else unset.push_back(key.get<std::string>());
    }
  }
  if (!errors.empty())
    return respond(json_response(400, json{{"error", "refused, nothing written: " + errors.front()}, {"errors", errors}}));
  if (set.empty() && unset.empty()) return respond(error_response(400, "nothing to set or unset"));
  engine.write_cluster_settings(set, unset, [respond](int status, json answer) {
    respond(json_response(status, answer));
  });
}

// GET /events[?since=UTC][&node=NAME]: the cluster's event timeline.
void handle_events(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  events::TimelineFilter filter;
  if (auto it = request.query.find("since"); it != request.query.end()) {
    if (!events::is_utc_time(it->second))
      return respond(error_response(400, "since must be a UTC time, YYYY-MM-DDTHH:MM:SS[.mmm]Z"));
    filter.since = it->second;
  }
  if (auto it = request.query.find("node"); it != request.query.end()) {
    if (!is_node_name(it->second))
      return respond(error_response(400, "node is not a valid node name (" + std::string(kNodeNameFormat) + ")"));
    filter.node = it->second;
  }
  engine.read_events([respond, filter](loop::EventTimeline timeline) {
    json list = json::array();
    for (const auto& e : events::filter_events(timeline.events, filter)) list.push_back(events::to_json(e, true));
    json body{{"events", std::move(list)}, {"kept_per_node", loop::kEventsPerNode}};
    if (!timeline.problems.empty()) body["problems"] = timeline.problems;
    if (!timeline.partial.empty()) body["partial"] = timeline.partial;
    if (!timeline.write_error.empty()) body["unwritten"] = timeline.write_error;
    respond(json_response(200, body));
  });
}

// GET /incidents[?id=ID]: the flight recorder, every incident of the timeline
// with its phases (events/incidents.hpp); with id, that one and its events.
void handle_incidents(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  std::string id;
  if (auto it = request.query.find("id"); it != request.query.end()) id = it->second;
  engine.read_events([respond, id](loop::EventTimeline timeline) {
    json list = json::array();
    for (const auto& incident : events::summarize_incidents(timeline.events)) {
      if (!id.empty() && incident.id != id) continue;
      json phases = json::array();
      for (const auto& phase : incident.phases)
        phases.push_back({{"name", phase.name}, {"after_ms", phase.after.count()}, {"event", events::to_json(phase.event)}});
      json item{{"id", incident.id},
                {"opened", events::to_json(incident.opened)},
                {"lasted_ms", incident.lasted.count()},
                {"event_count", incident.events.size()},
                {"phases", std::move(phases)}};
      if (!id.empty()) {
        json all = json::array();
        for (const auto& e : incident.events) all.push_back(events::to_json(e, true));
        item["events"] = std::move(all);
      }
      list.push_back(std::move(item));
    }
    if (!id.empty() && list.empty()) return respond(error_response(404, "no incident " + id + " in the timeline"));
    json body{{"incidents", std::move(list)}};
    if (!timeline.partial.empty()) body["partial"] = timeline.partial;
    respond(json_response(200, body));
  });
}

// GET /cold-start[?accept=NODE]: whom the cluster waits for after a power
// loss, the stored acceptance, and with accept, the dry run: whether NODE may
// be accepted now and what that would lose.
http::ServerResponse cold_start_document(const loop::Snapshot& s, const http::ServerRequest& request) {
  json body = loop::cold_start_status(s);
  body["waits_for"] = s.db.cluster.promotable;
  body["primary"] = s.db.cluster.primary;
  if (auto it = request.query.find("accept"); it != request.query.end()) {
    if (!is_node_name(it->second))
      return error_response(400, "accept is not a valid node name (" + std::string(kNodeNameFormat) + ")");
    body["preview"] = loop::to_json(loop::preview_accept(s, it->second), it->second);
  }
  return json_response(200, body);
}

// POST /cold-start {"accept": NODE} or {"cancel": true}.
void handle_cold_start(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  const char* shape = "body must be {\"accept\": NODE} or {\"cancel\": true}";
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || body.size() != 1) return respond(error_response(400, shape));
  auto done = [respond](int status, json answer) { respond(json_response(status, answer)); };
  if (auto it = body.find("cancel"); it != body.end()) {
    if (!it->is_boolean() || !it->get<bool>()) return respond(error_response(400, shape));
    return engine.cancel_cold_start_accept(done);
  }
  auto node = body.find("accept");
  if (node == body.end() || !node->is_string()) return respond(error_response(400, shape));
  if (!is_node_name(node->get<std::string>()))
    return respond(error_response(400, "accept is not a valid node name (" + std::string(kNodeNameFormat) + ")"));
  engine.write_cold_start_accept(node->get<std::string>(), "api@" + engine.config().node.name, done);
}

// GET /switchover[?to=NODE&preview]: the newest switchover and how far it
// got; with preview, the dry run: whether one may start now, to whom, and its steps.
http::ServerResponse switchover_document(const loop::Snapshot& s, const http::ServerRequest& request) {
  json body = loop::switchover_status(s);
  body["primary"] = s.db.cluster.primary;
  std::string to;
  if (auto it = request.query.find("to"); it != request.query.end()) {
    if (!is_node_name(it->second))
      return error_response(400, "to is not a valid node name (" + std::string(kNodeNameFormat) + ")");
    to = it->second;
  }
  if (request.query.count("preview")) body["preview"] = loop::to_json(loop::preview_switchover(s, to));
  return json_response(200, body);
}

// POST /switchover {"to": NODE} or {} (the first fit synchronous standby).
void handle_switchover(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  const char* shape = "body must be {\"to\": NODE} or {}";
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || body.size() > 1) return respond(error_response(400, shape));
  std::string to;
  if (!body.empty()) {
    auto it = body.find("to");
    if (it == body.end() || !it->is_string()) return respond(error_response(400, shape));
    to = it->get<std::string>();
    if (!is_node_name(to))
      return respond(error_response(400, "to is not a valid node name (" + std::string(kNodeNameFormat) + ")"));
  }
  engine.write_switchover_request(to, "api@" + engine.config().node.name,
                                  [respond](int status, json answer) { respond(json_response(status, answer)); });
}

// POST /pause {"paused": true|false, "reason": TEXT (optional)}: hactl pause / resume.
void handle_pause(loop::Engine& engine, const http::ServerRequest& request, http::Respond respond) {
  const char* shape = "body must be {\"paused\": true or false, \"reason\": TEXT (optional)}";
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || body.size() > 2) return respond(error_response(400, shape));
  auto paused = body.find("paused");
  auto reason = body.find("reason");
  if (paused == body.end() || !paused->is_boolean() || (reason != body.end() && !reason->is_string()) ||
      (body.size() == 2 && reason == body.end()))
    return respond(error_response(400, shape));
  engine.write_pause(paused->get<bool>(), reason == body.end() ? std::string() : reason->get<std::string>(),
                     "api@" + engine.config().node.name,
                     [respond](int status, json answer) { respond(json_response(status, answer)); });
}

}  // namespace

http::Handler status_routes(loop::Engine& engine, std::string write_token) {
  return [&engine, write_token](const http::ServerRequest& request, http::Respond respond) {
    const auto& snapshot = engine.last_snapshot();
    const auto& plan = engine.last_plan();
    if (request.method == "GET" && request.path == "/health") {
      return respond(json_response(is_healthy(plan) ? 200 : 503, health_document(snapshot, plan)));
    }
    if (request.method == "GET" && request.path == "/leader") {
      bool leader = plan.role == cluster::Role::leader;
      json body{{"leader", leader}, {"name", snapshot.self}};
      if (snapshot.kv.leader) body["epoch"] = snapshot.kv.leader->epoch;
      return respond(json_response(leader ? 200 : 503, body));
    }
    if (request.method == "GET" && request.path == "/cluster") {
      return respond(json_response(200, cluster_document(snapshot, plan)));
    }
    if (request.method == "GET" && request.path == "/ui") {
      // Read-only, same origin only: the page reads /cluster, /events and /incidents.
      http::ServerResponse r;
      r.body = kStatusPage;
      r.content_type = "text/html; charset=utf-8";
      r.headers["Content-Security-Policy"] =
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
          "frame-ancestors 'none'";
      r.headers["X-Content-Type-Options"] = "nosniff";
      return respond(r);
    }
    if (request.method == "GET" && request.path == "/settings")
      return respond(json_response(200, engine.settings_document()));
    if (request.method == "GET" && request.path == "/rotate") {
      json doc = loop::db_login_status(snapshot);
      doc["syncthing-key"] = loop::syncthing_key_status(snapshot);
      return respond(json_response(200, doc));
    }
    if (request.method == "GET" && request.path == "/cold-start") return respond(cold_start_document(snapshot, request));
    if (request.method == "GET" && request.path == "/switchover") return respond(switchover_document(snapshot, request));
    if (request.method == "GET" && request.path == "/pause") return respond(json_response(200, loop::pause_status(snapshot)));
    if (request.method == "GET" && request.path == "/events") return handle_events(engine, request, std::move(respond));
    if (request.method == "GET" && request.path == "/incidents")
      return handle_incidents(engine, request, std::move(respond));
    if (request.method == "GET" && request.path == "/metrics") {
      http::ServerResponse r;
      r.body = engine.metrics_text();
      r.content_type = metrics::kContentType;
      return respond(r);
    }
    // Every write proves root: the token is in a file only root reads.
    if (request.method == "POST" &&
        (request.path == "/forget" || request.path == "/maintenance" || request.path == "/settings" ||
         request.path == "/rotate" || request.path == "/cold-start" || request.path == "/switchover" ||
         request.path == "/pause")) {
      const std::string& file = engine.config().api.token_file;
      switch (check_authorization(request.authorization, write_token)) {
        case Proof::ok: break;
        case Proof::missing:
          return respond(error_response(401, "writes need the API token (Authorization: Bearer, from " + file +
                                                 ", which only root reads): run hactl as root"));
        case Proof::wrong:
          return respond(error_response(403, "wrong API token: it is not the one in " + file +
                                                 " (a new one is made at every start)"));
      }
    }
    if (request.path == "/forget") {
      if (request.method != "POST") return respond(error_response(405, "use POST"));
      json body = json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.is_object() || !body.contains("node") || !body["node"].is_string())
        return respond(error_response(400, "body must be {\"node\": NAME}"));
      return engine.forget_node(body["node"].get<std::string>(), [respond](int status, std::string message) {
        respond(json_response(status, json{{"status", message}}));
      });
    }
    if (request.path == "/maintenance") {
      if (request.method != "POST") return respond(error_response(405, "use POST"));
      return handle_maintenance(engine, request, std::move(respond));
    }
    if (request.method == "POST" && request.path == "/settings") return handle_settings(engine, request, std::move(respond));
    if (request.method == "POST" && request.path == "/rotate") {
      json body = json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.is_object() || !body.contains("secret") || !body["secret"].is_string())
        return respond(error_response(400, "body must be {\"secret\": \"db-password\", \"replication-password\" or "
                                           "\"syncthing-key\"}"));
      if (body["secret"] == "syncthing-key")
        return engine.write_syncthing_key_rotation("api@" + engine.config().node.name,
                                                   [respond](int status, json answer) {
                                                     respond(json_response(status, answer));
                                                   });
      auto secret = db_login::parse_login_secret(body["secret"].get<std::string>());
      if (!secret)
        return respond(error_response(400, "db-password, replication-password and syncthing-key rotate "
                                           "(consul-tokens is not built yet)"));
      return engine.write_login_rotation_request(*secret, "api@" + engine.config().node.name,
                                                 [respond](int status, json answer) {
                                                   respond(json_response(status, answer));
                                                 });
    }
    if (request.method == "POST" && request.path == "/cold-start")
      return handle_cold_start(engine, request, std::move(respond));
    if (request.method == "POST" && request.path == "/switchover")
      return handle_switchover(engine, request, std::move(respond));
    if (request.method == "POST" && request.path == "/pause") return handle_pause(engine, request, std::move(respond));
    if (request.path == "/health" || request.path == "/leader" || request.path == "/cluster" ||
        request.path == "/metrics" || request.path == "/events" || request.path == "/incidents" ||
        request.path == "/ui")
      return respond(error_response(405, "use GET"));
    if (request.path == "/settings" || request.path == "/rotate" || request.path == "/cold-start" ||
        request.path == "/switchover" || request.path == "/pause")
      return respond(error_response(405, "use GET or POST"));
    respond(error_response(404, "no such resource; try /ui, /health, /leader, /cluster, /events, /incidents, /metrics, "
                                "/settings, /rotate, /cold-start, /switchover, /pause, POST /maintenance"));
  };
}

}  // namespace hasup::api
