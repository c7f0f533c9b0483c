// Lab 09: join a running container with setns(2), like `docker exec`.
#pragma once

#include "nslab/config.hpp"

namespace nslab::exec {

// Joins every namespace of cfg.target (and its cgroup, root and working
// directory), runs cfg.command there and returns its exit status.
int join_and_run(const Config& cfg);

}  // namespace nslab::exec
