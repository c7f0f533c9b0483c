// Lab 08: the IPC namespace (System V IPC, POSIX message queues).
#pragma once

#include "nslab/config.hpp"

namespace nslab::ipc {

unsigned long clone_flags(const Config& cfg);  // CLONE_NEWIPC when the layer is on
void in_child(const Config& cfg);              // a fresh mqueue at /dev/mqueue

}  // namespace nslab::ipc
