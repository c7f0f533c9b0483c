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

unsigned long clone_flags() {
    // TODO step 1: the child starts with System V objects and message queues
    // of its own (ipc_namespaces(7), clone(2)). What could it do to the
    // host's without?
    throw NotImplemented("lab08_ipc", 1, "ipc_namespaces(7), clone(2)");
}

void in_child() {
    // TODO step 2: /dev/mqueue inside lists this IPC namespace's queues, not
    // the host's (mq_overview(7), "Mounting the message queue file system").
    // Whose queues does an mqueue file system show?
    throw NotImplemented("lab08_ipc", 2, "mq_overview(7), mount(2)");
}

}  // namespace nslab::ipc
