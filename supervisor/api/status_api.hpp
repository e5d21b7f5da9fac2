#pragma once
// Routes of the local status API. Read-only routes answer from the last
// snapshot; intent routes write to Consul through the engine and wake the
// loop: the API never acts on the world itself.
#include "supervisor/http/server.hpp"
#include "supervisor/loop/engine.hpp"

namespace hasup::api {

// `write_token`: what POST routes need in "Authorization: Bearer TOKEN"
// (util/api_token.hpp); reads need nothing.
http::Handler status_routes(loop::Engine& engine, std::string write_token);

}  // namespace hasup::api
