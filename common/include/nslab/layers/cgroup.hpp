// Lab 06: cgroups (how much) and the cgroup namespace (what it sees).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "nslab/config.hpp"
#include "nslab/fd.hpp"
#include "nslab/sys.hpp"

namespace nslab::cgroup {

// The container's cgroup, to undo after exit, and the way in.
struct State {
    std::string path;          // empty: nothing made
    Fd directory;              // v2: its directory, for CLONE_INTO_CGROUP
    std::vector<Fd> v1_tasks;  // v1: each hierarchy's `tasks`, for cgroupfs::v1::join
};

State before_clone(const Config& cfg);                      // mkdir, limits, open
void clone_into(const State& state, sys::CloneArgs& args);  // v2: born inside
void in_child();                                            // cgroup namespace, cgroupfs ro
// Reports an OOM kill, removes the cgroup; returns the exit status to use.
int after_exit(const Config& cfg, State& state, int status);

}  // namespace nslab::cgroup
