// nslab cleanup: remove what a killed runtime left on the host.
#pragma once

#include <string>
#include <vector>

namespace tool {

int cleanup(const std::vector<std::string>& args);

}  // namespace tool
