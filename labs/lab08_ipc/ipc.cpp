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
    // of its own (man 7 ipc_namespaces, man 2 clone). What could it do to the
    // host's without?
    throw NotImplemented("lab08_ipc", 1, "man 7 ipc_namespaces, man 2 clone");
}

void in_child() {
    // TODO step 2: /dev/mqueue inside lists this IPC namespace's queues, not
    // the host's (man 7 mq_overview, "Mounting the message queue file system").
    // Whose queues does an mqueue file system show?
    throw NotImplemented("lab08_ipc", 2, "man 7 mq_overview, man 2 mount");
}

}  // namespace nslab::ipc
