#pragma once
// The status API's documents, built from the last snapshot and plan. Pure, so
// the shape is tested without a server.
#include <nlohmann/json.hpp>

#include "supervisor/loop/plan.hpp"
#include "supervisor/loop/snapshot.hpp"

namespace hasup::api {

// GET /cluster: this node's view of every member, the leader and the quorum.
nlohmann::json cluster_document(const loop::Snapshot& s, const loop::Plan& plan);
// GET /health: this node only. Healthy when it takes part in the cluster.
nlohmann::json health_document(const loop::Snapshot& s, const loop::Plan& plan);
// A document as the status API sends it: one line of JSON, bytes that are not
// UTF-8 (a file name from the resources folder) as U+FFFD, never an exception.
std::string document_text(const nlohmann::json& document);
bool is_healthy(const loop::Plan& plan);
// One member's database in a few words: "primary TL3", "sync TL3 lag 0 B",
// "replica TL2 (primary on TL3)", "absent"; "" before the cluster exists.
std::string db_member_summary(const db::DbClusterView& view, const std::string& name);

}  // namespace hasup::api
