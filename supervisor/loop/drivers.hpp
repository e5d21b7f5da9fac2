#pragma once
// The list of component drivers: the one place that names them all.
#include <memory>
#include <vector>

#include "supervisor/loop/driver.hpp"

namespace hasup::loop {

// The drivers the config enables, in the order they observe and start.
std::vector<std::unique_ptr<Driver>> make_drivers(DriverContext& ctx);

}  // namespace hasup::loop
