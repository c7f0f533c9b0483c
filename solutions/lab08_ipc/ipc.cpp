// Lab 08: the IPC namespace.
//
// System V IPC objects (shared memory, semaphores, message queues) are found
// by a numeric key, and POSIX message queues by a name: global names that
// any process may guess. An IPC namespace gives each container its own set
// of both (ipc_namespaces(7)), so a container can neither read another's
// shared memory nor fill its queues.
//
// POSIX queues are files of an mqueue file system, and each mqueue instance
// shows the queues of the IPC namespace of the process that mounted it
// (mq_overview(7)). The /dev/mqueue a container inherits shows the host's
// queues: the container mounts its own.
#include "nslab/layers/ipc.hpp"

#include <sched.h>
#include <sys/mount.h>

#include "nslab/sys.hpp"

namespace nslab::ipc {

unsigned long clone_flags() {
    // Step 1: the child starts in a new, empty IPC namespace.
    return CLONE_NEWIPC;
}

void in_child() {
    // Step 2: we are in the new IPC namespace and under the new root, where
    // /dev is the container's own tmpfs: mount a fresh mqueue instance there.
    sys::mkdir("/dev/mqueue", 01777);
    sys::mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

}  // namespace nslab::ipc
