// Lab 07: the time namespace.
#pragma once

#include "nslab/config.hpp"

namespace nslab::time {

// Steps 1 and 2: a new time namespace for the caller's next children, its
// offsets written while nobody is inside yet. The runtime calls it before
// clone(2); with --userns the child calls it, inside the container's user
// namespace (time_plan::made_by_child; container.cpp decides which).
void new_namespace_with_offsets(const Config& cfg);

// Step 3: move the caller itself into its time_for_children (with --userns
// the child may exec the command itself, and --init's PID 1 never execs).
void enter_new_namespace();

}  // namespace nslab::time
