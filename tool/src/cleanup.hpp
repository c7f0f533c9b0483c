// nslab cleanup: remove what a killed runtime left on the host.
#pragma once

#include <string>
#include <vector>

namespace tool {

int cleanup(const std::vector<std::string>& args);

// The parents the runtime (nslab/) and batch grading (nslab-grading/) make at
// the top of each cgroup hierarchy, removed once nothing is left in them and
// no one is making a cgroup below one; the directories removed. `nslab
// cleanup` and the end of `nslab grade` call it.
std::vector<std::string> remove_empty_cgroup_parents();

}  // namespace tool
