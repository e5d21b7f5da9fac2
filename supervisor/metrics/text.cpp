#include "supervisor/metrics/text.hpp"

#include <prometheus/text_serializer.h>

namespace hasup::metrics {

std::string exposition(const std::vector<const prometheus::Registry*>& registries) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto* registry : registries) {
    auto collected = registry->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()), std::make_move_iterator(collected.end()));
  }
  return prometheus::TextSerializer{}.Serialize(families);
}

}  // namespace hasup::metrics
