// Lab 07: the time namespace.
//
// A time namespace gives CLOCK_MONOTONIC and CLOCK_BOOTTIME (and
// /proc/uptime) an offset; CLOCK_REALTIME, the wall clock, is the same for
// everyone and so are time zones, which are a user-space file
// (time_namespaces(7)). Its use: a container checkpointed on one machine and
// restored on another keeps monotonic clocks that never jump backwards.
//
// Two kernel rules shape this file. The offsets can be written only until a
// process has entered the namespace, so CLONE_NEWTIME does not go in the
// clone flags (clone3(2) takes it, but the child is born inside; legacy
// clone(2) cannot: its bit lies in the byte of the termination signal). And
// unshare(2) does not move the caller: the new namespace becomes its
// time_for_children, entered by the next child it creates. So: unshare,
// write the offsets, then clone. With a user namespace the child does the
// same from inside it, then enters the namespace itself (step 3).
#include "nslab/layers/time.hpp"

#include <fcntl.h>
#include <sched.h>

#include "nslab/sys.hpp"
#include "nslab/time_plan.hpp"

namespace nslab::time {

void new_namespace_with_offsets(const Config& cfg) {
    // Step 1: a new time namespace for our children; we stay in the host's.
    // It needs CAP_SYS_ADMIN in our user namespace.
    sys::unshare(CLONE_NEWTIME);

    // Step 2: the offsets, both lines in one write(2), before any process is
    // inside; once one is, the file refuses writes (EACCES).
    sys::write_file("/proc/self/timens_offsets",
                    time_plan::offsets_text(cfg.monotonic_offset, cfg.boottime_offset));
}

void enter_new_namespace() {
    // Step 3: unshare moved only our future children, and the command may be
    // exec'd by us, not a child. As root of our own user namespace we may
    // enter the new namespace ourselves; that locks the offsets.
    Fd ns = sys::open("/proc/self/ns/time_for_children", O_RDONLY);
    sys::setns(ns.get(), CLONE_NEWTIME);
}

}  // namespace nslab::time
