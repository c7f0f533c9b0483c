// Lab 09: join a running container with setns(2), like `docker exec`.
#pragma once

#include <sys/types.h>

#include "nslab/config.hpp"

namespace nslab::exec {

// Joins every namespace of process `pid` (and its cgroup, root and working
// directory), runs cfg.command there and returns its exit status. The
// caller (join_container, container.hpp) found `pid` from cfg and turns
// its errors into one clear line.
int join_and_run(const Config& cfg, pid_t pid);

}  // namespace nslab::exec
