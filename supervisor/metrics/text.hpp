#pragma once
// The Prometheus text exposition (format 0.0.4) of registries: prometheus-cpp's
// own serializer, the one way the supervisor and the upload gate write /metrics.
#include <prometheus/registry.h>

#include <string>
#include <vector>

namespace hasup::metrics {

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string exposition(const std::vector<const prometheus::Registry*>& registries);

}  // namespace hasup::metrics
