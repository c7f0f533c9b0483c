// Lab 11: confinement — from isolated to confined.
//
// Read labs/lab11_confine/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code.
#include "nslab/layers/confine.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <cerrno>

#include "nslab/cgroupfs.hpp"
#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::confine {

void before_clone(const Config& cfg, const std::string& cgroup_path) {
    // Given (no TODO; the handout's "Devices"). A device node is a number
    // pair; whoever may open it reaches the device, wherever the node was
    // made. The container's cgroup says which numbers open: v1 its devices
    // lists, v2 a BPF program, set by root of the host's user namespace.
    cgroupfs::limit_devices(cgroupfs::host(), cgroup_path, cfg);
}

void mask_paths(const Config& cfg) {
    // TODO step 1: inside, every path confine_plan::masked_paths gives for
    // cfg reads as nothing, and every path of its read_only_paths refuses
    // a write, as in Docker (man 2 mount: bind mounts, MS_REMOUNT; man 5
    // proc on what /proc/kcore and /proc/sys are). What must cover a file,
    // what a directory, and why may a path be missing on some kernels?
    (void)cfg;
    throw NotImplemented("lab11_confine", 1, "man 2 mount, man 5 proc");
}

void add_clone_rule(confine_plan::Filter& filter, const std::vector<caps::Cap>& caps) {
    // TODO step 2: without CAP_SYS_ADMIN in `caps`, a clone asked for any
    // new namespace fails with EPERM, while an ordinary fork still works
    // (man 2 clone, "flags"; man 3 seccomp_rule_add, SCMP_CMP_MASKED_EQ;
    // Filter::deny in nslab/confine_plan.hpp). Why can the given table not
    // say this with a system call's name alone?
    (void)filter;
    (void)caps;
    throw NotImplemented("lab11_confine", 2, "man 2 clone, man 3 seccomp_rule_add");
}

void drop_privileges(const Config& cfg, const std::vector<caps::Cap>& caps,
                     const confine_plan::Filter* filter, const std::function<void()>& become_user) {
    // TODO step 3: when the command starts, its five capability sets hold
    // no more than `caps` (bounding, permitted, effective; inheritable and
    // ambient empty), also after become_user has changed the uid; a setuid
    // file gains nothing (unless --no-new-privs=false); and `filter`, when
    // given, is in force (man 7 capabilities, "Capability sets" and "Effect
    // of user ID changes on capabilities"; man 2 prctl, PR_SET_KEEPCAPS and
    // PR_SET_NO_NEW_PRIVS; man 2 seccomp, "SECCOMP_SET_MODE_FILTER"). The
    // kernel refuses some orders: which step needs a capability that an
    // earlier one took away?
    (void)cfg;
    (void)caps;
    (void)filter;
    (void)become_user;
    throw NotImplemented("lab11_confine", 3, "man 7 capabilities, man 2 prctl, man 2 seccomp");
}

}  // namespace nslab::confine
