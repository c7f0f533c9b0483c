// Lab 06: cgroups (how much) and the cgroup namespace (what it sees).
#pragma once

#include <sys/types.h>

#include <string>

#include "nslab/config.hpp"

namespace nslab::cgroup {

// The container's cgroup, to undo after exit.
struct State {
    std::string path;  // empty: nothing made
};

State before_clone(const Config& cfg);                         // mkdir, write limits
void in_parent(const Config& cfg, State& state, pid_t child);  // attach before it can fork
void in_child(const Config& cfg);                              // cgroup namespace, cgroupfs ro
// Reports an OOM kill, removes the cgroup; returns the exit status to use.
int after_exit(const Config& cfg, State& state, int status);

}  // namespace nslab::cgroup
