// Lab 07: the time namespace.
#pragma once

#include "nslab/config.hpp"

namespace nslab::time {

// The offsets can be written only while no process is inside, so
// CLONE_NEWTIME stays out of the clone flags; unshare(2) moves only the
// caller's future children: so the runtime unshares and writes the offsets
// before it creates the child.
void before_clone(const Config& cfg);

// With --userns the time namespace must belong to the container's user
// namespace (a rootless runtime has no CAP_SYS_TIME in the host's): the
// child makes it, writes the offsets and enters it itself with setns(2).
void in_child(const Config& cfg);

}  // namespace nslab::time
