// Lab 02: the mount namespace and pivot_root.
#pragma once

#include "nslab/config.hpp"

namespace nslab::mount {

unsigned long clone_flags();       // CLONE_NEWNS (called only when the lab has the layer)
void in_child(const Config& cfg);  // private /, pivot_root, /proc /dev /sys /tmp

}  // namespace nslab::mount
