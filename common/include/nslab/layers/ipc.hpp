// Lab 08: the IPC namespace (System V IPC, POSIX message queues).
#pragma once

#include "nslab/config.hpp"

namespace nslab::ipc {

unsigned long clone_flags();  // CLONE_NEWIPC (called only when the lab has the layer)
void in_child();              // a fresh mqueue at /dev/mqueue

}  // namespace nslab::ipc
