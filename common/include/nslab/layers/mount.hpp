// Lab 02: the mount namespace and pivot_root.
#pragma once

#include "nslab/config.hpp"

namespace nslab::mount {

unsigned long clone_flags(const Config& cfg);  // CLONE_NEWNS when the layer is on
void in_child(const Config& cfg);              // private /, pivot_root, /proc /dev /sys /tmp

}  // namespace nslab::mount
