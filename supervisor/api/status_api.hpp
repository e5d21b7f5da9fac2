#pragma once
// Routes of the local status API. Read-only routes answer from the last
// snapshot; intent routes write to Consul through the engine and wake the
// loop: the API never acts on the world itself.
#include "supervisor/http/server.hpp"
#include "supervisor/loop/engine.hpp"

namespace hasup::api {

http::Handler status_routes(loop::Engine& engine);

}  // namespace hasup::api
