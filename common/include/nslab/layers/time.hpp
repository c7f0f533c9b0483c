// Lab 07: the time namespace.
#pragma once

#include "nslab/config.hpp"

namespace nslab::time {

// CLONE_NEWTIME cannot go in clone(2)'s flags, and unshare(2) moves only
// the caller's future children: so the runtime unshares and writes the
// offsets before it creates the child.
void before_clone(const Config& cfg);

}  // namespace nslab::time
