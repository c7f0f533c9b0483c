// Lab 08: the IPC namespace.
//
// Read labs/lab08_ipc/README.md first. Each TODO below is a numbered step of
// the handout; replace the `throw` with your code.
#include "nslab/layers/ipc.hpp"

#include <sched.h>
#include <sys/mount.h>

#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::ipc {

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::ipc)) return 0;
    // TODO step 1: return the clone(2) flag that gives the child a new IPC
    // namespace (System V objects and POSIX message queues of its own).
    throw NotImplemented("lab08_ipc", 1, "ipc_namespaces(7), clone(2)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::ipc)) return;
    // TODO step 2: the orchestrator calls this after the mount layer, so we
    // are under the new root and /dev is the container's own tmpfs. Make the
    // directory /dev/mqueue (sys::mkdir, mode 01777) and mount a fresh
    // "mqueue" file system on it (sys::mount, with MS_NOSUID | MS_NODEV |
    // MS_NOEXEC). It shows the queues of the IPC namespace we are in now.
    throw NotImplemented("lab08_ipc", 2, "mq_overview(7), mount(2)");
}

}  // namespace nslab::ipc
