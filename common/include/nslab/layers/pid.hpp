// Lab 01: the PID namespace.
#pragma once

#include <sys/types.h>

#include <functional>

#include "nslab/config.hpp"
#include "nslab/sys.hpp"

namespace nslab::pid {

// Step 1: create the container's first process. `args` holds the other
// layers' CLONE_NEW* flags (and lab 06's cgroup); add this layer's flag and
// the termination signal.
pid_t clone_child(const Config& cfg, sys::CloneArgs args, const std::function<int()>& child_main);

// Step 2: with --init, PID 1 is a tiny init and the command is its child:
// reap every zombie, forward signals to the command, and return the exit
// status the command ended with (128+n when signal n killed it).
int init_loop(const Config& cfg, pid_t command);

}  // namespace nslab::pid
