// Lab 07: the time namespace.
//
// A time namespace gives CLOCK_MONOTONIC and CLOCK_BOOTTIME (and
// /proc/uptime) an offset; CLOCK_REALTIME, the wall clock, is the same for
// everyone and so are time zones, which are a user-space file
// (time_namespaces(7)). Its use: a container checkpointed on one machine and
// restored on another keeps monotonic clocks that never jump backwards.
//
// Two kernel rules shape this file. CLONE_NEWTIME cannot go in clone(2)'s
// flags: its bit lies in the byte that holds the child's termination signal.
// And unshare(2) does not move the caller: the new namespace becomes its
// time_for_children, entered by the next child it creates. The offsets can be
// written only until a process has entered, so: unshare, write, then clone.
#include "nslab/layers/time.hpp"

#include <sched.h>

#include "nslab/idmap.hpp"
#include "nslab/sys.hpp"
#include "nslab/time_plan.hpp"

namespace nslab::time {

void before_clone(const Config& cfg) {
    if (!cfg.has(Layer::time)) return;
    // A rootless container (--userns, run by a user) gets no time
    // namespace: unshare(2) would need CAP_SYS_TIME in the host's user
    // namespace, and no clock is to move (idmap::check refused offsets).
    if (!idmap::Caller::current().privileged) return;
    // The kernel keeps each clock inside within [0, KTIME_SEC_MAX/2] seconds;
    // say which option is wrong before anything is made.
    time_plan::check_offsets(cfg);
    time_plan::require_time_namespaces();

    // Step 1: a new time namespace for our children; we stay in the host's.
    // It needs CAP_SYS_TIME in our user namespace.
    sys::unshare(CLONE_NEWTIME);

    // Step 2: the offsets, both lines in one write(2), before any process is
    // inside; once one is, the file refuses writes (EACCES).
    sys::write_file("/proc/self/timens_offsets",
                    time_plan::offsets_text(cfg.monotonic_offset, cfg.boottime_offset));
}

}  // namespace nslab::time
