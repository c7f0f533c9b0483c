// Lab 11: confinement — from isolated to confined.
//
// Namespaces give a process its own view; they do not take away what root
// may do with what it still sees. A root container without a user
// namespace holds every capability of the host's root: it may load a
// module, open any host file by its handle, mount the host's disk. This
// layer gives the container Docker's defaults instead: 14 capabilities,
// no_new_privs, a seccomp filter, and the /proc and /sys files that speak
// of the whole machine hidden or read-only.
#include "nslab/layers/confine.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <cerrno>

#include "nslab/cgroupfs.hpp"
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
    // Step 1. A masked file shows /dev/null's nothing (a bind over it), a
    // masked directory an empty read-only tmpfs; a read-only path is bound
    // on itself, so that mount can be made read-only alone. A path this
    // kernel lacks is skipped, as Docker does.
    for (const std::string& path : confine_plan::masked_paths(cfg)) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            if (errno == ENOENT) continue;
            sys::fail("lstat(" + path + ")");
        }
        if (S_ISDIR(st.st_mode))
            sys::mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       "size=0,mode=0555");
        else
            sys::mount("/dev/null", path, "", MS_BIND);
    }
    for (const std::string& path : confine_plan::read_only_paths(cfg)) {
        if (!sys::exists(path)) continue;
        sys::mount(path, path, "", MS_BIND | MS_REC);
        confine_plan::remount_read_only(path);
    }
}

void add_clone_rule(confine_plan::Filter& filter, const std::vector<caps::Cap>& caps) {
    // Step 2. clone(2)'s first argument holds its flags; a filter sees
    // registers, not the memory clone3's flags are in (which the table
    // answers ENOSYS). One rule per namespace flag: the call fails when that
    // bit is set. (CLONE_NEWTIME's bit means the exit signal to clone.)
    if (caps::contains(caps, CAP_SYS_ADMIN)) return;
    for (unsigned long flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                               CLONE_NEWNET, CLONE_NEWCGROUP})
        filter.deny(SCMP_SYS(clone), EPERM, {{0, SCMP_CMP_MASKED_EQ, flag, flag}});
}

void drop_privileges(const Config& cfg, const std::vector<caps::Cap>& caps,
                     const confine_plan::Filter* filter, const std::function<void()>& become_user) {
    // Step 3. The order is the kernel's. Without no_new_privs, loading a
    // filter needs CAP_SYS_ADMIN: load it now, while we still hold it.
    if (filter && !cfg.no_new_privs) filter->load();
    // The bounding set first: dropping from it needs CAP_SETPCAP, and it is
    // what an exec as root takes its permitted set from.
    for (caps::Cap cap : caps::all_known())
        if (!caps::contains(caps, cap) && caps::in_bounding(cap)) caps::drop_from_bounding(cap);
    // A change of uid away from 0 empties the permitted set, unless asked to keep it.
    sys::prctl(PR_SET_KEEPCAPS, 1);
    become_user();
    // Permitted and effective: the container's set; inheritable and ambient
    // empty, whatever the runtime was started with, so no exec of a
    // non-root program inherits any.
    caps::Sets::empty().raise(CAP_PERMITTED, caps).raise(CAP_EFFECTIVE, caps).apply();
    caps::clear_ambient();
    // Last: no_new_privs (a setuid file or a file capability gains nothing
    // at exec), then the filter, which from then on also covers exec.
    if (cfg.no_new_privs) sys::prctl(PR_SET_NO_NEW_PRIVS, 1);
    if (filter && cfg.no_new_privs) filter->load();
}

}  // namespace nslab::confine
